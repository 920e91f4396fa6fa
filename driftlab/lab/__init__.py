"""The Drift Lab capstone: a day-by-day simulation of the monitor → retrain → redeploy loop.

``run`` simulates a year of a deployed model under one drift and one policy; ``compare_policies``
scores several policies on several drifts; ``driftlab.lab.widgets.DriftLab`` is the interactive lab.

Modules by job: :mod:`~driftlab.lab.config` (the year's shape, :class:`Drift`, :class:`Monitoring`),
:mod:`~driftlab.lab.data` (pools, binning, cached years), :mod:`~driftlab.lab.model` (the numpy
logistic model and its cache), :mod:`~driftlab.lab.statistics` (vectorised drift scores),
:mod:`~driftlab.lab.policies` (ready-made policies), :mod:`~driftlab.lab.loop` (the loop).
"""
from driftlab.lab.config import (ACTIONS, DAYS, DAYS_PER_MONTH, DRIFT_TYPES, MIN_RETRAIN_GAP, PER_DAY, POLICIES,
                                 STATISTICS, UNIT_FACTORS, Drift, Monitoring)
from driftlab.lab.loop import LabResult, clear_cache, compare_policies, run
from driftlab.lab.policies import builtin_policy
from driftlab.lab.statistics import drifted, window_scores

__all__ = ["DAYS", "PER_DAY", "DAYS_PER_MONTH", "DRIFT_TYPES", "STATISTICS", "POLICIES", "ACTIONS",
           "UNIT_FACTORS", "MIN_RETRAIN_GAP", "Drift", "Monitoring", "LabResult", "run", "builtin_policy",
           "compare_policies", "clear_cache", "window_scores", "drifted"]
