"""A deterministic simulation of the retraining loop: monitor -> decide -> retrain -> validate -> redeploy.

Month by month, the deployed model scores the month's applications; at the end of the month the
true outcomes are known (this simulation assumes no label delay), so the loop can

1. **monitor**: accuracy of the deployed model on the month, a data-quality check, data drift;
2. **decide**: retrain or not, by the policy (never / on a schedule / when accuracy falls to the
   threshold, or when the data drift);
3. **retrain**: fit a challenger on a training window (``sliding``: the last few months;
   ``expanding``: the reference plus every month so far), only on months that passed the
   data-quality gate when the policy has one;
4. **validate**: champion (the deployed model) vs challenger on a held-out *golden set* (the 25 %
   of the newest training month that no model was fitted on);
5. **redeploy**: the challenger serves the next month if it wins.

Every random draw is seeded (the scenario's months, the splits; the model is a deterministic
logistic regression), so the same scenario and policy always give identical results.  Fits are
cached by training window, so comparing several policies on one scenario costs little more than one.
Results are plain data (:class:`RetrainRun`) for notebooks and plots.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
import pandas as pd

from driftlab.course.drift import DriftDetector
from driftlab.course.model import split_holdout, train_model
from driftlab.course.simulation import BOUNDS, FEATURES, NUMERIC, TARGET, DriftEvent, Scenario, simulate_month

__all__ = ["Policy", "RetrainRun", "POLICIES", "simulate", "compare", "with_window", "scenario_with",
           "quality_problems", "passes_quality"]

TRIGGERS = ("accuracy", "drift")
WINDOWS = ("sliding", "expanding")
KINDS = ("none", "scheduled", "triggered")
#: share of the newest training month held out as the golden set (never trained on).
GOLDEN_SHARE = 0.25


@dataclass(frozen=True)
class Policy:
    """When to retrain, on what window, and which gates a new model must pass before it serves."""

    name: str = "triggered"
    kind: str = "triggered"  # "none" | "scheduled" | "triggered"
    every: int = 1  # scheduled: retrain at the end of every ``every``-th month
    trigger: str = "accuracy"  # triggered: "accuracy" (accuracy <= threshold) or "drift"
    threshold: float = 0.85  # retrain when the month's accuracy is at or below this (seed MCQ 4)
    drift_share: float = 0.5  # drift trigger: dataset drift when this share of columns drift
    window: str = "sliding"  # "sliding" (last ``window_months`` months) or "expanding"
    window_months: int = 3
    quality_gate: bool = False  # skip (and never train on) months that fail the data-quality check
    champion_challenger: bool = True  # the challenger must beat the champion on the golden set
    min_gain: float = 0.0  # ... by more than this much accuracy

    def __post_init__(self) -> None:
        """Reject settings the simulation cannot honour, with a clear message."""
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.trigger not in TRIGGERS:
            raise ValueError(f"trigger must be one of {TRIGGERS}, not {self.trigger!r}")
        if self.window not in WINDOWS:
            raise ValueError(f"window must be one of {WINDOWS}, not {self.window!r}")
        if self.every < 1 or self.window_months < 1:
            raise ValueError("every and window_months must be at least 1")


#: The four policies the course compares.
POLICIES: dict[str, Policy] = {
    "none": Policy(name="never retrain", kind="none"),
    "scheduled": Policy(name="scheduled (monthly)", kind="scheduled", every=1),
    "triggered": Policy(name="triggered (accuracy <= 0.85)", kind="triggered"),
    "gated": Policy(name="triggered + data-quality gate", kind="triggered", quality_gate=True),
}


@dataclass(frozen=True)
class RetrainRun:
    """What one policy did on one scenario, month by month (plain lists, ready to plot)."""

    policy: str
    months: list[int]
    accuracy: list[float]  # accuracy of the model that served each month
    serving: list[int]  # version of the model that served each month (0 = the launch model)
    retrain_months: list[int]  # end of these months a challenger was trained
    promoted_months: list[int]  # ... and won, so it served from the next month
    rejected_months: list[int]  # ... and lost to the champion on the golden set
    quality_failed: list[int]  # months whose data failed the data-quality check
    drift_months: list[int]  # months flagged by the drift detector (computed for a drift trigger only)
    rows_trained: int  # compute cost: rows fitted over the whole run (launch model excluded)
    golden: list[dict[str, Any]] = field(default_factory=list)  # champion vs challenger scores

    @property
    def n_retrains(self) -> int:
        """How many challengers were trained."""
        return len(self.retrain_months)

    @property
    def mean_accuracy(self) -> float:
        """Mean of the monthly accuracies."""
        return float(np.mean(self.accuracy)) if self.accuracy else float("nan")

    @property
    def compute_cost(self) -> float:
        """Compute cost in thousands of rows fitted (a logistic regression's cost grows with rows)."""
        return self.rows_trained / 1000.0

    def summary(self) -> dict[str, Any]:
        """Headline numbers: mean and worst accuracy, retrains, promotions, compute cost."""
        return {"policy": self.policy, "mean_accuracy": round(self.mean_accuracy, 4),
                "worst_accuracy": round(float(min(self.accuracy)), 4) if self.accuracy else float("nan"),
                "retrains": self.n_retrains, "promoted": len(self.promoted_months),
                "compute_cost": round(self.compute_cost, 2)}

    def as_dict(self) -> dict[str, Any]:
        """Everything as plain Python data (e.g. for JSON)."""
        return asdict(self)


# --------------------------------------------------------------------------- data, cached
def _key(scenario: Scenario) -> tuple:
    """A hashable identity of a scenario (its events are frozen dataclasses)."""
    return (int(scenario.seed), int(scenario.n_reference), int(scenario.n_per_month), tuple(scenario.events))


@lru_cache(maxsize=256)
def _month(key: tuple, month: int) -> pd.DataFrame:
    """One month of a scenario (month 0 = the reference sample)."""
    seed, n_reference, n_per_month, events = key
    if month == 0:
        return simulate_month(seed, 0, n_reference, ())
    return simulate_month(seed, month, n_per_month, events)


@lru_cache(maxsize=256)
def _split(key: tuple, month: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training part, golden part) of a month, split with a seed that depends on the month only."""
    return split_holdout(_month(key, month), frac=GOLDEN_SHARE, seed=1000 + int(month))


@lru_cache(maxsize=512)
def _fit(key: tuple, months: tuple[int, ...]):
    """The model fitted on the training parts of ``months`` (month 0: the whole reference)."""
    return train_model(_training_frame(key, months))


@lru_cache(maxsize=4096)
def _correct(key: tuple, window: tuple[int, ...], month: int) -> pd.Series:
    """Whether the model fitted on ``window`` is right on each row of ``month`` (one prediction per row)."""
    frame = _month(key, month)
    hits = _fit(key, window).predict(frame[list(FEATURES)]) == frame[TARGET].to_numpy()
    return pd.Series(hits, index=frame.index)


def _score(key: tuple, window: tuple[int, ...], month: int, part: str) -> float:
    """Accuracy of the model fitted on ``window`` on a month ("all") or on its golden part ("golden")."""
    hits = _correct(key, window, month)
    if part == "golden":
        hits = hits.loc[_split(key, month)[1].index]
    return float(hits.mean())


def _training_frame(key: tuple, window: tuple[int, ...]) -> pd.DataFrame:
    """The rows a model fitted on ``window`` learned from."""
    return pd.concat([_month(key, 0) if m == 0 else _split(key, m)[0] for m in window], ignore_index=True)


@lru_cache(maxsize=64)
def _detector(key: tuple, window: tuple[int, ...], drift_share: float) -> DriftDetector:
    """A drift detector fitted on the training data of the model fitted on ``window``."""
    return DriftDetector(drift_share=drift_share).fit(_training_frame(key, window))


@lru_cache(maxsize=4096)
def _drifted(key: tuple, window: tuple[int, ...], month: int, drift_share: float) -> bool:
    """Dataset drift of a month against the training data of the model fitted on ``window``."""
    detector = _detector(key, window, drift_share)
    return detector.dataset_drift(detector.score(_month(key, month)))


def quality_problems(frame: pd.DataFrame, bounds: dict[str, tuple[float, float]] | None = None) -> dict[str, float]:
    """Share of rows per numeric column that are missing or outside the column's valid range."""
    bounds = BOUNDS if bounds is None else bounds
    shares = {}
    for name in NUMERIC:
        if name not in frame:
            shares[name] = 1.0
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        low, high = bounds[name]
        bad = values.isna() | (values < low) | (values > high)
        shares[name] = float(bad.mean()) if len(values) else 1.0
    return shares


def passes_quality(frame: pd.DataFrame, max_bad_share: float = 0.01) -> bool:
    """The data-quality gate: at most ``max_bad_share`` of rows missing or out of range, per column."""
    return bool(max(quality_problems(frame).values()) <= max_bad_share)


# --------------------------------------------------------------------------- the loop
def _window(policy: Policy, month: int, usable: list[int]) -> tuple[int, ...]:
    """Months a challenger trained at the end of ``month`` learns from."""
    seen = [m for m in usable if m <= month]
    if policy.window == "expanding":
        return (0, *seen)
    return tuple(seen[-policy.window_months:])


def _decide(policy: Policy, month: int, accuracy: float, drifted: bool) -> bool:
    """The policy's decision at the end of ``month``."""
    if policy.kind == "none":
        return False
    if policy.kind == "scheduled":
        return month % policy.every == 0
    if policy.trigger == "drift":
        return drifted
    return accuracy <= policy.threshold


def simulate(scenario: Scenario | None = None, policy: Policy | str = "triggered") -> RetrainRun:
    """Run the retraining loop of ``policy`` over the scenario's production months."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # tiny fits: BLAS threads only contend with each other
        return _simulate(scenario, policy)


def _simulate(scenario: Scenario | None, policy: Policy | str) -> RetrainRun:
    """The loop itself (see :func:`simulate`)."""
    scenario = scenario or Scenario()
    if isinstance(policy, str):
        policy = POLICIES[policy]
    key = _key(scenario)
    months = list(range(1, int(scenario.months) + 1))
    champion_window: tuple[int, ...] = (0,)
    version, usable = 0, []
    accuracy, serving, retrained, promoted, rejected, failed, drifted, golden = [], [], [], [], [], [], [], []
    rows = 0
    for month in months:
        batch = _month(key, month)
        acc = _score(key, champion_window, month, "all")  # monitor: how the deployed model did
        accuracy.append(acc)
        serving.append(version)
        ok = passes_quality(batch)
        if not ok:
            failed.append(month)
        drift = False
        if policy.kind == "triggered" and policy.trigger == "drift":  # only a drift trigger needs it
            drift = _drifted(key, champion_window, month, float(policy.drift_share))
            if drift:
                drifted.append(month)
        if ok or not policy.quality_gate:
            usable.append(month)
        if month == months[-1]:
            break  # a model trained now would serve no one
        if not _decide(policy, month, acc, drift) or (policy.quality_gate and not ok):
            continue
        window = _window(policy, month, usable)
        if not window or window == champion_window:
            continue
        retrained.append(month)
        rows += len(_training_frame(key, window))
        gold_month = window[-1] if window[-1] != 0 else month
        champ_acc = _score(key, champion_window, gold_month, "golden")
        chall_acc = _score(key, window, gold_month, "golden")
        wins = chall_acc > champ_acc + policy.min_gain or not policy.champion_challenger
        golden.append({"month": month, "golden_month": gold_month, "champion": champ_acc,
                       "challenger": chall_acc, "promoted": bool(wins)})
        if wins:
            champion_window, version = window, version + 1
            promoted.append(month)
        else:
            rejected.append(month)
    return RetrainRun(policy=policy.name, months=months, accuracy=accuracy, serving=serving,
                      retrain_months=retrained, promoted_months=promoted, rejected_months=rejected,
                      quality_failed=failed, drift_months=drifted, rows_trained=int(rows), golden=golden)


def compare(scenario: Scenario | None = None, policies: Sequence[Policy | str] | None = None) -> pd.DataFrame:
    """Headline table, one row per policy: mean/worst accuracy, retrains, promotions, compute cost."""
    scenario = scenario or Scenario()
    policies = list(policies) if policies is not None else list(POLICIES)
    return pd.DataFrame([simulate(scenario, p).summary() for p in policies]).set_index("policy")


def with_window(policy: Policy | str, window: str, window_months: int = 3) -> Policy:
    """A copy of ``policy`` that trains on another window (its name says which)."""
    base = POLICIES[policy] if isinstance(policy, str) else policy
    label = f"{window} ({window_months} months)" if window == "sliding" else "expanding"
    return replace(base, window=window, window_months=window_months, name=f"{base.name}, {label}")


def scenario_with(events: Sequence[DriftEvent], seed: int = 0, months: int = 12, n_per_month: int = 1000) -> Scenario:
    """A scenario with the given events (same applicants as the default scenario for the same seed)."""
    return Scenario(seed=seed, n_per_month=n_per_month, months=months, events=tuple(events))
