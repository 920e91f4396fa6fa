"""The course's answer to module 06's graded ``policy(state)`` exercise, kept with the tests.

It lives here, not in ``driftlab``, so that nothing a learner's notebook can import hands them the
answer.  tests/test_module_06.py checks that the instructor's solution cell agrees with it.
"""
from __future__ import annotations


def reference_policy(state: dict) -> str:
    """The graded rules in order: quality gate, 30-day cooldown, realised then estimated accuracy at or below the threshold."""
    if not state["data_quality_ok"]:
        return "fix_pipeline"
    if state["days_since_retrain"] < 30:
        return "none"
    threshold = state["accuracy_threshold"]
    realised = state["realised_accuracy"]
    if realised is not None and realised <= threshold:
        return "retrain"
    if state["alert"] and state["predicted_accuracy"] <= threshold:
        return "retrain"
    return "none"
