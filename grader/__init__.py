"""Drift Lab, the instructor's side: exercise specs and their compilation, the build, hidden tests
and the trusted judge, the nbgrader adapter, batch grading and reports, and the ``driftlab`` command.

It may import ``driftlab``; nothing in ``driftlab`` imports it, and no learner notebook does.
"""
__version__ = "0.2.0"
