"""The Drift Lab's settings: the year's shape, the injected drift and the monitoring.

One year of production (``DAYS`` days, ``PER_DAY`` loan applications a day) of the course's
scenario (:mod:`driftlab.course.simulation`).  The learner injects one drift (:class:`Drift`) and
sets the monitoring (:class:`Monitoring`); both are frozen dataclasses that reject settings the lab
cannot simulate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftlab.course.simulation import FEATURES, NUMERIC

__all__ = ["DAYS", "PER_DAY", "DAYS_PER_MONTH", "BINS", "DRIFT_TYPES", "STATISTICS", "POLICIES", "ACTIONS",
           "UNIT_FACTORS", "DQ_MAX_BAD_SHARE", "DAY_INDEX", "ROW_DAY", "MIN_RETRAIN_GAP", "GRADUAL_STEPS",
           "Drift", "Monitoring"]

DAYS = 360
PER_DAY = 50
DAYS_PER_MONTH = 30
BINS = 10
DRIFT_TYPES: tuple[str, ...] = ("none", "sudden", "gradual", "recurring", "unit_bug", "concept")
STATISTICS: tuple[str, ...] = ("psi", "jensen_shannon", "chi2")
POLICIES: tuple[str, ...] = ("none", "scheduled", "triggered", "triggered_dq")
ACTIONS: tuple[str, ...] = ("none", "retrain", "fix_pipeline")
#: How a unit bug mis-records each numeric feature (thousands -> units, years -> months, ratio -> %).
UNIT_FACTORS: dict[str, float] = {"income": 1000.0, "loan_amount": 1000.0, "age": 12.0,
                                  "credit_score": 0.1, "debt_to_income": 100.0}
#: Share of a day's rows outside the valid ranges (simulation.BOUNDS) that fails the quality check.
DQ_MAX_BAD_SHARE = 0.01
DAY_INDEX = np.arange(DAYS)
ROW_DAY = DAY_INDEX.repeat(PER_DAY)
#: A retrain takes this long to build, validate and deploy; requests in between are ignored.
MIN_RETRAIN_GAP = 7
GRADUAL_STEPS = 4  # a gradual ramp is drawn in this many equal steps (each step is one cached draw)


@dataclass(frozen=True)
class Drift:
    """The injected change. ``type``: none, sudden / gradual / recurring (covariate shift of
    ``feature`` by ``magnitude`` reference SDs, or that share of a categorical moved to its last
    category), unit_bug (``magnitude`` = share of rows mis-recorded by ``UNIT_FACTORS``; lasts
    until the pipeline is fixed), concept (P(Y|X) changes: ``feature`` swaps weight with
    credit_score, ``magnitude`` 0..1 of the way).  ``onset`` is the first drifted day,
    ``duration`` the ramp length (gradual) or half-period (recurring) in days, ``label_delay`` the
    days until a loan's outcome is known."""

    type: str = "sudden"
    feature: str = "income"
    magnitude: float = 1.0
    onset: int = 120
    label_delay: int = 30
    duration: int = 60

    def __post_init__(self) -> None:
        """Reject settings the lab cannot simulate, with a message that says why."""
        if self.type not in DRIFT_TYPES:
            raise ValueError(f"drift type must be one of {DRIFT_TYPES}, not {self.type!r}")
        if self.feature not in FEATURES:
            raise ValueError(f"feature must be one of {FEATURES}, not {self.feature!r}")
        if self.type in ("unit_bug", "concept") and self.feature not in NUMERIC:
            raise ValueError(f"a {self.type.replace('_', ' ')} needs a numeric feature, not {self.feature!r}")
        if self.type == "concept" and self.feature == "credit_score":
            raise ValueError("a concept change swaps a feature's weight with credit_score: pick another feature")
        if not 1 <= int(self.onset) < DAYS:
            raise ValueError(f"onset must be a day in 1..{DAYS - 1}")
        if not 0 <= int(self.label_delay) < DAYS:
            raise ValueError(f"label_delay must be in 0..{DAYS - 1} days")
        if int(self.duration) < 1:
            raise ValueError("duration must be at least 1 day")

    def data_key(self) -> tuple:
        """The fields that change the data (label delay only changes what is known when)."""
        if self.type == "none" or self.magnitude == 0:
            return ("none",)
        return (self.type, self.feature, round(float(self.magnitude), 6), int(self.onset), int(self.duration))

    def level(self) -> np.ndarray:
        """Per-day switch-on level 0..1 (gradual ramps move in ``GRADUAL_STEPS`` equal steps)."""
        days = np.arange(DAYS)
        elapsed = days - int(self.onset)
        on = elapsed >= 0
        if self.type == "none" or self.magnitude == 0:
            return np.zeros(DAYS)
        if self.type == "gradual":
            frac = np.clip((elapsed + 1) / int(self.duration), 0, 1)
            return np.where(on, np.ceil(frac * GRADUAL_STEPS) / GRADUAL_STEPS, 0.0)
        if self.type == "recurring":
            return np.where(on & ((np.maximum(elapsed, 0) // int(self.duration)) % 2 == 0), 1.0, 0.0)
        return on.astype(float)


@dataclass(frozen=True)
class Monitoring:
    """Which drift statistic, its threshold (PSI / JS: alert at >= threshold; chi2: a p-value,
    alert at p < threshold) and the sliding window in days it is computed over."""

    statistic: str = "psi"
    threshold: float = 0.1
    window: int = 14

    def __post_init__(self) -> None:
        """Reject unknown statistics and empty windows."""
        if self.statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {STATISTICS}, not {self.statistic!r}")
        if not 1 <= int(self.window) <= DAYS:
            raise ValueError(f"window must be 1..{DAYS} days")
        if self.threshold <= 0:
            raise ValueError("threshold must be positive")
