"""The Drift Lab capstone: a day-by-day simulation of the monitor → retrain → redeploy loop.

``run`` simulates a year of a deployed model under one drift and one policy; ``compare_policies``
scores several policies on several drifts; ``driftlab.lab.widgets.DriftLab`` is the interactive lab.
"""
from driftlab.lab.simulation import *  # noqa: F401,F403
from driftlab.lab.simulation import __all__  # noqa: F401
