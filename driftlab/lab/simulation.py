"""The Drift Lab: a seeded, vectorised simulation of the whole monitor -> respond loop.

One year of production (``DAYS`` days, ``PER_DAY`` loan applications a day) of the course's
scenario (:mod:`grader.simulation`).  The learner injects one drift (:class:`Drift`), sets the
monitoring (:class:`Monitoring`) and a response policy, and :func:`run` returns what happened day
by day: drift scores per feature, predicted (confidence-based) and realised accuracy, alerts,
retrains, pipeline fixes, and a scoreboard.

Speed: everything that does not depend on a control is cached.  The applicants and their labels
come from :func:`grader.simulation.simulate_month` once per (seed, drift kind, feature, level);
per-day bin counts and design matrices are built once per drift; fitted models are cached by
their training window.  A control change then costs a few vectorised passes over 18 000 rows.

Model: the same as :func:`grader.model.make_model` (numeric columns standardised on the training
data, categoricals one-hot with unknown categories as all zeros, scikit-learn's
``LogisticRegression``), fitted on a numpy design matrix instead of a DataFrame for speed.

Predicted accuracy is a confidence-based estimate (the mean of max(p, 1 - p) over the window,
the idea behind NannyML's CBPE): it needs no labels, so it is known at once, but it assumes the
model's probabilities stay calibrated - which a concept change breaks.  Realised accuracy needs
the true outcome, which arrives ``label_delay`` days later.
"""
from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2 as chi2_dist
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from driftlab.course import drift as drift_mod
from driftlab.course.simulation import BOUNDS, CATEGORIES, CATEGORICAL, FEATURES, NUMERIC, DriftEvent, Scenario, simulate_month

__all__ = ["DAYS", "PER_DAY", "DAYS_PER_MONTH", "DRIFT_TYPES", "STATISTICS", "POLICIES", "ACTIONS",
           "UNIT_FACTORS", "Drift", "Monitoring", "LabResult", "run", "builtin_policy", "reference_policy",
           "compare_policies", "clear_cache"]

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
_EPS = 1e-4


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
    alert at p <= threshold) and the sliding window in days it is computed over."""

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


# ----------------------------------------------------------------------------------------- data
@dataclass
class _Base:
    """Per-seed constants: reference data, bin edges, the launch model."""

    reference: pd.DataFrame
    edges: dict[str, np.ndarray]
    ref_X: np.ndarray
    ref_y: np.ndarray
    ref_counts: np.ndarray  # (F, BINS)


@dataclass
class _Pool:
    """One full year of applicants at one drift level: design matrix, labels, bin indices."""

    X: np.ndarray  # (n, n_cols) raw design (numeric as recorded, categoricals one-hot)
    y: np.ndarray
    bins: np.ndarray  # (n, F) bin index per feature
    raw: dict[str, np.ndarray]  # numeric columns as recorded


def _codes(values: np.ndarray, name: str) -> np.ndarray:
    """Position of each value among the reference categories of ``name`` (-1 for an unknown one)."""
    return pd.Categorical(values, categories=list(CATEGORIES[name])).codes.astype(np.int64)


def _design(frame: pd.DataFrame) -> np.ndarray:
    """Numeric columns as they are, then one-hot of the reference categories (unknown -> zeros)."""
    parts = [frame[list(NUMERIC)].to_numpy(dtype=float)]
    for name in CATEGORICAL:
        k = len(CATEGORIES[name])
        parts.append(np.vstack([np.eye(k), np.zeros((1, k))])[_codes(frame[name].to_numpy(), name)])
    return np.hstack(parts)


def _bin_index(frame: pd.DataFrame, edges: dict[str, np.ndarray]) -> np.ndarray:
    """Bin of every row for every feature: reference quantile bins, or the category's position."""
    out = np.empty((len(frame), len(FEATURES)), dtype=np.int8)
    for j, name in enumerate(FEATURES):
        out[:, j] = _bin_column(frame[name].to_numpy(), name, edges)
    return out


def _bin_column(values: np.ndarray, name: str, edges: dict[str, np.ndarray]) -> np.ndarray:
    """Bin indices of one column (same convention as grader.drift: [e_i, e_i+1))."""
    if name in NUMERIC:
        return np.searchsorted(edges[name][1:-1], values.astype(float), side="right")
    codes = _codes(values, name)
    if (codes < 0).any():
        raise ValueError(f"{name} has a category the lab does not bin: {set(values[codes < 0])}")
    return codes


def _counts_per_day(bins: np.ndarray) -> np.ndarray:
    """(DAYS, F, BINS) counts from per-row bin indices (rows are ordered by day)."""
    n_days = len(bins) // PER_DAY
    flat = (np.arange(n_days).repeat(PER_DAY)[:, None] * len(FEATURES) + np.arange(len(FEATURES))[None, :]) * BINS + bins
    return np.bincount(flat.ravel(), minlength=n_days * len(FEATURES) * BINS).reshape(n_days, len(FEATURES), BINS)


@lru_cache(maxsize=4)
def _base(seed: int) -> _Base:
    """Reference sample (the launch model's training data) and everything derived from it."""
    reference = Scenario(seed=seed).reference()
    edges = {name: drift_mod.quantile_edges(reference[name], BINS) for name in NUMERIC}
    bins = _bin_index(reference, edges)
    counts = np.stack([np.bincount(bins[:, j], minlength=BINS) for j in range(len(FEATURES))])
    return _Base(reference, edges, _design(reference), reference["default"].to_numpy(), counts)


def _event(kind: str, feature: str, magnitude: float) -> tuple[DriftEvent, ...]:
    """A sudden simulation event at the given strength, from production month 1."""
    if kind == "concept":
        return (DriftEvent("concept", feature, start=1, magnitude=magnitude, partner="credit_score"),)
    return (DriftEvent("covariate", feature, start=1, magnitude=magnitude),)


@lru_cache(maxsize=48)
def _pool(seed: int, kind: str, feature: str, magnitude: float, month: int = 1, n: int = DAYS * PER_DAY) -> _Pool:
    """Applicants with a drift of this strength everywhere (cached per level).

    The full-year pools (month 1) share the same applicants and the same label draws
    (simulation's separate random streams), so only the drift differs between them.  The
    intermediate steps of a gradual ramp use small pools of just the rows they cover (their own
    month number, so their own applicants), which keeps a slider move cheap.
    """
    events = () if kind == "none" or magnitude == 0 else _event(kind, feature, magnitude)
    frame = simulate_month(seed, month, n, events)
    base = _base(seed)
    return _Pool(_design(frame), frame["default"].to_numpy(), _bin_index(frame, base.edges),
                 {name: frame[name].to_numpy(dtype=float) for name in NUMERIC})


@dataclass
class _Data:
    """A drift's year of data: clean and (for a unit bug) mis-recorded versions, per row and day."""

    X: np.ndarray
    y: np.ndarray
    counts: np.ndarray  # (DAYS, F, BINS), as recorded without a bug
    bug_X: np.ndarray | None = None  # design with the bug applied to every hit row
    bug_rows: np.ndarray | None = None  # bool per row: recorded wrongly while the bug is live
    bug_counts: np.ndarray | None = None  # (DAYS, F, BINS) with the bug on
    bad_share: np.ndarray | None = None  # per day: share of rows outside valid ranges with the bug on
    level: np.ndarray = field(default_factory=lambda: np.zeros(DAYS))


_DATA: "OrderedDict[tuple, _Data]" = OrderedDict()


def _data(seed: int, drift: Drift) -> _Data:
    """Assemble the year for a drift: each day's rows come from the pool at that day's level."""
    key = (seed,) + drift.data_key()
    hit = _DATA.get(key)
    if hit is not None:
        _DATA.move_to_end(key)
        return hit
    level = drift.level()
    row_day = np.arange(DAYS).repeat(PER_DAY)
    if drift.data_key() == ("none",) or drift.type == "unit_bug":
        pool = _pool(seed, "none", "income", 0.0)
        X, y, bins = pool.X, pool.y, pool.bins
    else:
        kind = "concept" if drift.type == "concept" else "covariate"
        X = np.empty_like(_pool(seed, "none", "income", 0.0).X)
        y = np.empty(DAYS * PER_DAY, dtype=np.int64)
        bins = np.empty((DAYS * PER_DAY, len(FEATURES)), dtype=np.int8)
        row_level = level[row_day]
        for step, value in enumerate(np.unique(row_level)):
            rows = row_level == value
            if 0 < value < 1:  # an intermediate step of a gradual ramp: a small pool of its own
                pool = _pool(seed, kind, drift.feature, float(value * drift.magnitude), 100 + step, int(rows.sum()))
                X[rows], y[rows], bins[rows] = pool.X, pool.y, pool.bins
                continue
            pool = _pool(seed, kind, drift.feature, 0.0 if value == 0 else float(value * drift.magnitude))
            X[rows], y[rows], bins[rows] = pool.X[rows], pool.y[rows], pool.bins[rows]
    data = _Data(X, y, _counts_per_day(bins), level=level)
    if drift.type == "unit_bug" and drift.magnitude > 0:
        pool = _pool(seed, "none", "income", 0.0)
        rng = np.random.default_rng([seed, 7])
        hit_rows = (rng.random(DAYS * PER_DAY) < min(1.0, drift.magnitude)) & (level[row_day] > 0)
        j = NUMERIC.index(drift.feature)
        wrong = pool.raw[drift.feature] * UNIT_FACTORS[drift.feature]
        bug_X = X.copy()
        bug_X[hit_rows, j] = wrong[hit_rows]
        bug_bins = bins.copy()
        bug_bins[hit_rows, FEATURES.index(drift.feature)] = _bin_column(wrong[hit_rows], drift.feature, _base(seed).edges)
        low, high = BOUNDS[drift.feature]
        bad = hit_rows & ((wrong < low) | (wrong > high))
        data.bug_X, data.bug_rows, data.bug_counts = bug_X, hit_rows, _counts_per_day(bug_bins)
        data.bad_share = bad.reshape(DAYS, PER_DAY).mean(axis=1)
    _DATA[key] = data
    while len(_DATA) > 24:
        _DATA.popitem(last=False)
    return data


# --------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class _Model:
    """A fitted logistic regression on standardised numeric + one-hot columns."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logit(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of default for every row of a raw design matrix (scaling folded into the weights)."""
        w = self.coef / self.scale
        return np.clip(X @ w + (self.intercept - self.mean @ w), -500, 500)

    def proba(self, X: np.ndarray) -> np.ndarray:
        """P(default) for every row of a raw design matrix."""
        return 1.0 / (1.0 + np.exp(-self.logit(X)))


def _fit(X: np.ndarray, y: np.ndarray) -> _Model:
    """Fit like grader.model.make_model: StandardScaler on numeric columns, then LogisticRegression
    (same L2 penalty C=1; the newton-cholesky solver, which converges in a few steps here)."""
    n_num = len(NUMERIC)
    mean, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    mean[:n_num] = X[:, :n_num].mean(axis=0)
    std = X[:, :n_num].std(axis=0)
    scale[:n_num] = np.where(std > 0, std, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(max_iter=1000, solver="newton-cholesky").fit((X - mean) / scale, y)
    return _Model(mean, scale, clf.coef_[0], float(clf.intercept_[0]))


_MODELS: "OrderedDict[tuple, Any]" = OrderedDict()


def _cached_model(key: tuple, make: Callable[[], Any]) -> Any:
    """A fitted model from the cache, or fit and remember it."""
    model = _MODELS.get(key)
    if model is None:
        model = make()
        _MODELS[key] = model
        while len(_MODELS) > 256:
            _MODELS.popitem(last=False)
    else:
        _MODELS.move_to_end(key)
    return model


def clear_cache() -> None:
    """Forget every cached pool, year and model (for timing a cold start)."""
    _base.cache_clear()
    _pool.cache_clear()
    _DATA.clear()
    _MODELS.clear()


# ------------------------------------------------------------------------------------ statistics
def window_scores(ref_counts: np.ndarray, counts: np.ndarray, window: int, statistic: str) -> np.ndarray:
    """(DAYS, F) drift score of each day's trailing ``window`` days against ``ref_counts`` (F, BINS).

    Same binning and formulas as :mod:`grader.drift` (reference quantile bins; PSI with empty
    bins floored at 1e-4; Jensen-Shannon distance base 2; chi-square test without correction),
    all days at once.  chi2 returns p-values.
    """
    cs = np.concatenate([np.zeros((1,) + counts.shape[1:]), np.cumsum(counts, axis=0)])
    days = np.arange(counts.shape[0])
    cur = cs[days + 1] - cs[np.maximum(days + 1 - int(window), 0)]  # (T, F, B)
    ref = np.broadcast_to(ref_counts.astype(float), cur.shape)
    if statistic == "chi2":
        total_col = ref + cur
        used = total_col > 0
        n_ref, n_cur = ref.sum(-1, keepdims=True), cur.sum(-1, keepdims=True)
        n = n_ref + n_cur
        with np.errstate(divide="ignore", invalid="ignore"):
            e_ref, e_cur = total_col * n_ref / n, total_col * n_cur / n
            stat = np.where(used, (ref - e_ref) ** 2 / e_ref + (cur - e_cur) ** 2 / e_cur, 0.0).sum(-1)
        dof = used.sum(-1) - 1
        return np.where(dof > 0, chi2_dist.sf(stat, np.maximum(dof, 1)), 1.0)
    r = ref / ref.sum(-1, keepdims=True)
    c = cur / np.maximum(cur.sum(-1, keepdims=True), 1)
    if statistic == "psi":
        r0, c0 = np.where(r == 0, _EPS, r), np.where(c == 0, _EPS, c)
        pad = (r == 0) & (c == 0)  # padding bins of short categoricals: empty in both, no drift
        return np.where(pad, 0.0, (c0 - r0) * np.log(c0 / r0)).sum(-1)
    return jensenshannon(r, c, base=2, axis=-1)


def drifted(scores: np.ndarray, monitoring: Monitoring) -> np.ndarray:
    """True where a score crosses the threshold (p <= alpha for chi2, score >= threshold otherwise)."""
    if monitoring.statistic == "chi2":
        return scores <= monitoring.threshold
    return scores >= monitoring.threshold


# -------------------------------------------------------------------------------------- policies
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


def reference_policy(state: dict) -> str:
    """The course's answer to the graded exercise (see the 06 notebook for the rules)."""
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


# -------------------------------------------------------------------------------------- the loop
@dataclass
class LabResult:
    """Everything one run produced; per-day arrays have length ``DAYS``."""

    drift: Drift
    monitoring: Monitoring
    policy: str
    accuracy_threshold: float
    scores: np.ndarray  # (DAYS, F): drift score per feature (p-values for chi2)
    drift_flags: np.ndarray  # (DAYS, F) bool
    alert: np.ndarray  # bool per day
    predicted_accuracy: np.ndarray  # confidence-based estimate over the window
    realised_accuracy: np.ndarray  # labelled accuracy as known that day (NaN while labels missing)
    true_accuracy: np.ndarray  # the deployed model's accuracy over the trailing 7 days (hindsight)
    data_quality_ok: np.ndarray  # bool per day
    drift_on: np.ndarray  # bool per day: the injected change is live (a fixed bug is not)
    actions: list[str]
    retrain_days: list[int]
    fix_days: list[int]
    scoreboard: dict[str, Any]

    def daily(self) -> pd.DataFrame:
        """One row per day: accuracies, alert, data quality, action, and each feature's score."""
        frame = pd.DataFrame({
            "day": np.arange(DAYS), "month": np.arange(DAYS) // DAYS_PER_MONTH + 1,
            "predicted_accuracy": self.predicted_accuracy, "realised_accuracy": self.realised_accuracy,
            "true_accuracy": self.true_accuracy, "alert": self.alert, "data_quality_ok": self.data_quality_ok,
            "action": self.actions})
        for j, name in enumerate(FEATURES):
            frame[f"score_{name}"] = self.scores[:, j]
        return frame

    def monthly(self) -> pd.DataFrame:
        """Per month: mean accuracies, alert days, retrains, and each feature's mean drift score."""
        daily = self.daily()
        agg = {"predicted_accuracy": "mean", "true_accuracy": "mean", "alert": "sum"}
        agg |= {f"score_{name}": "mean" for name in FEATURES}
        table = daily.groupby("month").agg(agg).rename(columns={"alert": "alert_days"})
        table["retrains"] = daily.assign(r=daily["action"].eq("retrain")).groupby("month")["r"].sum()
        return table.reset_index()

    def summary(self) -> str:
        """The scoreboard as one line of text."""
        s = self.scoreboard
        return (f"Days degraded: {s['days_degraded']} · False alerts: {s['false_alerts']} · "
                f"Retrains: {s['retrains']} · Pipeline fixes: {s['fixes']} · "
                f"Final accuracy: {s['final_accuracy']:.3f}")


def _trailing_mean(per_day: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per day: the mean per row of ``per_day`` sums over days lo..hi (NaN where hi < lo)."""
    cs = np.concatenate([[0.0], np.cumsum(per_day)])
    lo = np.clip(lo, 0, DAYS)
    hi = np.clip(hi, -1, DAYS - 1)
    n = hi + 1 - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (cs[hi + 1] - cs[np.minimum(lo, hi + 1)]) / (np.maximum(n, 1) * PER_DAY), np.nan)


class _States:
    """Builds the plain-Python dict a policy sees on a day, from one segment's arrays."""

    def __init__(self, scores: np.ndarray, flags: np.ndarray, alert: np.ndarray, dq: np.ndarray,
                 predicted: np.ndarray, realised: np.ndarray, threshold: float) -> None:
        self.scores = np.round(scores, 4).tolist()
        self.flags = flags.tolist()
        self.alert = alert.tolist()
        self.dq = dq.tolist()
        self.predicted = np.round(predicted, 4).tolist()
        self.realised = [None if math.isnan(v) else v for v in np.round(realised, 4).tolist()]
        self.threshold = threshold

    def at(self, day: int, deploy: int, last_retrain: int, fix_pending: bool) -> dict:
        """The state on ``day``."""
        return {
            "day": day,
            "alert": self.alert[day],
            "drifted_features": [f for f, on in zip(FEATURES, self.flags[day]) if on],
            "drift_scores": dict(zip(FEATURES, self.scores[day])),
            "data_quality_ok": self.dq[day],
            "predicted_accuracy": self.predicted[day],
            "realised_accuracy": self.realised[day],
            "accuracy_threshold": self.threshold,
            "days_since_retrain": day - last_retrain,
            "days_since_deploy": day - deploy,
            "fix_pending": fix_pending,
        }


def run(drift: Drift | None = None, monitoring: Monitoring | None = None,
        policy: str | Callable[[dict], str] = "triggered_dq", seed: int = 0, accuracy_threshold: float = 0.87,
        train_days: int = 60, fix_delay: int = 3, schedule_days: int = 90, cooldown: int = 30,
        degraded_window: int = 14) -> LabResult:
    """Simulate a year: each day the policy sees the monitoring state and returns an action.

    ``retrain``: fit a new model on the latest ``train_days`` days whose labels have arrived
    (topped up with the reference sample if fewer than 14 such days exist), deployed the next
    day; monitoring then compares against the new training data.  ``fix_pipeline``: a unit bug
    stops ``fix_delay`` days later (nothing to fix otherwise).  Scoreboard: days degraded (the
    deployed model's accuracy over the trailing ``degraded_window`` days below
    ``accuracy_threshold``), false alerts (alert days with the model not degraded and clean data:
    nothing needed doing), retrains, pipeline fixes, final accuracy (last 30 days).
    """
    drift = drift or Drift()
    monitoring = monitoring or Monitoring()
    if isinstance(policy, str):
        name, decide = policy, builtin_policy(policy, schedule_days, cooldown)
    elif callable(policy):
        name, decide = getattr(policy, "__name__", "custom"), policy
    else:
        raise TypeError("policy must be a name or a function policy(state) -> action")
    base = _base(seed)
    data = _data(seed, drift)
    delay = int(drift.label_delay)
    window = int(monitoring.window)
    has_bug = data.bug_rows is not None
    fix_day = DAYS  # the bug is live (where it has started) until this day

    scores = np.zeros((DAYS, len(FEATURES)))
    flags = np.zeros((DAYS, len(FEATURES)), dtype=bool)
    alert = np.zeros(DAYS, dtype=bool)
    predicted = np.full(DAYS, np.nan)
    realised = np.full(DAYS, np.nan)
    correct_day = np.zeros(DAYS)
    dq_ok = np.ones(DAYS, dtype=bool)
    actions = ["none"] * DAYS
    retrains, fixes = [], []

    model = _cached_model(("launch", seed), lambda: _fit(base.ref_X, base.ref_y))
    ref_counts = base.ref_counts
    deploy = last_retrain = 0
    day = 0
    while day < DAYS:
        # Recorded data under the current fix state (vectorised over the whole year).
        if has_bug:
            live = data.bug_rows & (ROW_DAY < fix_day)
            z = np.where(live, model.logit(data.bug_X), model.logit(data.X))
            counts = np.where((DAY_INDEX < fix_day)[:, None, None], data.bug_counts, data.counts)
            dq = np.where(DAY_INDEX < fix_day, data.bad_share, 0.0) <= DQ_MAX_BAD_SHARE
        else:
            z, counts, dq = model.logit(data.X), data.counts, np.ones(DAYS, dtype=bool)
        p = 1.0 / (1.0 + np.exp(-z))
        correct = ((z >= 0) == (data.y == 1)).reshape(DAYS, PER_DAY).sum(axis=1).astype(float)
        confident = np.maximum(p, 1 - p).reshape(DAYS, PER_DAY).sum(axis=1)
        seg_scores = window_scores(ref_counts, counts, window, monitoring.statistic)
        seg_scores[: window - 1] = np.nan  # monitoring starts once the first window is full
        seg_flags = drifted(seg_scores, monitoring)
        seg_alert = seg_flags.any(axis=1)
        # Predicted accuracy over the trailing window; realised over the latest `window` labelled
        # days of the deployed model (labels of day t arrive on day t + delay).
        seg_pred = _trailing_mean(confident, DAY_INDEX - window + 1, DAY_INDEX)
        known_hi = DAY_INDEX - delay
        seg_real = _trailing_mean(correct, np.maximum(known_hi - window + 1, deploy), known_hi)
        sl = slice(day, DAYS)
        scores[sl], flags[sl], alert[sl], dq_ok[sl] = seg_scores[sl], seg_flags[sl], seg_alert[sl], dq[sl]
        predicted[sl], realised[sl], correct_day[sl] = seg_pred[sl], seg_real[sl], correct[sl]
        states = _States(seg_scores, seg_flags, seg_alert, dq, seg_pred, seg_real, accuracy_threshold)
        next_day = DAYS
        for d in range(day, DAYS):
            action = decide(states.at(d, deploy, last_retrain, fix_day < DAYS))
            if action not in ACTIONS:
                raise ValueError(f"policy returned {action!r} on day {d}; expected one of {ACTIONS}")
            actions[d] = action
            if action == "retrain" and d - last_retrain < MIN_RETRAIN_GAP and retrains:
                action = actions[d] = "none"  # a retrain is still being built and validated
            if action == "retrain" and d + 1 < DAYS:
                model, ref_counts = _retrain(seed, drift, data, base, d, delay, train_days, fix_day)
                retrains.append(d)
                deploy, last_retrain = d + 1, d
                next_day = d + 1
                break
            if action == "fix_pipeline" and fix_day == DAYS and d + 1 < DAYS:
                fixes.append(d)
                if has_bug and data.level[: d + 1].any():
                    fix_day = min(DAYS, d + 1 + int(fix_delay))
                    next_day = d + 1
                    break
        day = next_day

    cs = np.concatenate([[0.0], np.cumsum(correct_day)])
    days = np.arange(DAYS)
    lo = np.maximum(0, days - degraded_window + 1)
    true_acc = (cs[days + 1] - cs[lo]) / ((days + 1 - lo) * PER_DAY)
    degraded = true_acc < accuracy_threshold
    final = float(correct_day[-DAYS_PER_MONTH:].sum() / (DAYS_PER_MONTH * PER_DAY))
    board = {"days_degraded": int(degraded.sum()), "false_alerts": int((alert & ~degraded & dq_ok).sum()),
             "alert_days": int(alert.sum()), "retrains": len(retrains), "fixes": len(fixes),
             "final_accuracy": round(final, 4)}
    drift_on = (data.level > 0) & ((days < fix_day) if has_bug else True)
    return LabResult(drift, monitoring, name, accuracy_threshold, scores, flags, alert, predicted, realised,
                     true_acc, dq_ok, drift_on, actions, retrains, fixes, board)


def _retrain(seed: int, drift: Drift, data: _Data, base: _Base, day: int, delay: int, train_days: int,
             fix_day: int) -> tuple[_Model, np.ndarray]:
    """Fit on the latest labelled days (recorded as they were) and return (model, reference counts)."""
    hi = day - delay  # last labelled day
    lo = max(0, hi - train_days + 1)
    n_days = max(0, hi - lo + 1)
    bug_in_window = data.bug_rows is not None and lo < fix_day
    key = (seed, drift.data_key(), lo, hi, fix_day if bug_in_window else None)

    def rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sl = slice(lo * PER_DAY, (hi + 1) * PER_DAY) if n_days else slice(0, 0)
        X = data.X[sl]
        counts = data.counts[lo:hi + 1].sum(axis=0) if n_days else np.zeros_like(base.ref_counts)
        if bug_in_window and n_days:
            row_day = np.arange(lo, hi + 1).repeat(PER_DAY)
            live = data.bug_rows[sl] & (row_day < fix_day)
            X = np.where(live[:, None], data.bug_X[sl], X)
            day_live = np.arange(lo, hi + 1) < fix_day
            counts = np.where(day_live[:, None, None], data.bug_counts[lo:hi + 1], data.counts[lo:hi + 1]).sum(axis=0)
        y = data.y[sl]
        if n_days < 14:  # too few labelled days: keep the original training data in the mix
            X, y = np.vstack([base.ref_X, X]), np.concatenate([base.ref_y, y])
            counts = counts + base.ref_counts
        return X, y, counts

    def make() -> tuple[_Model, np.ndarray]:
        X, y, counts = rows()
        return _fit(X, y), counts

    return _cached_model(key, make)


def compare_policies(policies: dict[str, str | Callable[[dict], str]], drifts: dict[str, Drift],
                     monitoring: Monitoring | None = None, seed: int = 0, **kwargs: Any) -> pd.DataFrame:
    """Scoreboard of each policy on each drift; a policy that is not written yet, or fails, is
    reported in the ``note`` column instead of stopping the table."""
    rows = []
    for scenario, drift in drifts.items():
        for name, policy in policies.items():
            row: dict[str, Any] = {"scenario": scenario, "policy": name}
            try:
                row |= run(drift, monitoring, policy, seed=seed, **kwargs).scoreboard
                row["note"] = ""
            except NotImplementedError:
                row["note"] = "not written yet"
            except Exception as exc:  # a learner's policy may fail: say how, keep the table
                row["note"] = f"failed: {type(exc).__name__}: {exc}"
            rows.append(row)
    return pd.DataFrame(rows)

