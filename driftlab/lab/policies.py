"""The Drift Lab's ready-made response policies (the learner writes their own in module 07).

A policy is a function ``policy(state) -> action``: ``state`` is the plain dict :func:`driftlab.lab.run`
builds each day, ``action`` one of :data:`driftlab.lab.config.ACTIONS`.
"""
from __future__ import annotations

from typing import Callable

from driftlab.lab.config import POLICIES

__all__ = ["builtin_policy"]


def builtin_policy(name: str, schedule_days: int = 90, cooldown: int = 30) -> Callable[[dict], str]:
    """The lab's ready-made policies as ``policy(state) -> action`` functions.

    none: never act.  scheduled: retrain every ``schedule_days``.  triggered: retrain on a drift
    alert (at most once per ``cooldown`` days).  triggered_dq: the same, but when the data-quality
    check fails, fix the pipeline instead of retraining on broken data.
    """
    if name not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES} or a function, not {name!r}")

    def none(state: dict) -> str:
        return "none"

    def scheduled(state: dict) -> str:
        return "retrain" if state["days_since_retrain"] >= schedule_days else "none"

    def triggered(state: dict) -> str:
        return "retrain" if state["alert"] and state["days_since_retrain"] >= cooldown else "none"

    def triggered_dq(state: dict) -> str:
        if not state["data_quality_ok"]:
            return "fix_pipeline"
        return triggered(state)

    return {"none": none, "scheduled": scheduled, "triggered": triggered, "triggered_dq": triggered_dq}[name]
