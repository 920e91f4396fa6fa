"""The Drift Lab's data: a year of applicants per drift, binned and as design matrices, cached.

Everything here is independent of the controls that change often (threshold, window, policy), so
it is computed once and cached.  The applicants and their labels come from
:func:`driftlab.course.simulation.simulate_month` once per (seed, drift kind, feature, level)
(:func:`_pool`); :func:`_data` assembles a drift's year from those pools, with the per-day bin
counts the monitoring needs and, for a unit bug, the mis-recorded version of every hit row.

Binning is :mod:`driftlab.course.drift`'s: reference quantile bins for numeric columns, the
reference category's position for categorical ones.  The design matrix has the numeric columns as
recorded, then one-hot columns of the reference categories (an unknown category is all zeros).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from driftlab.course import drift as drift_mod
from driftlab.course.simulation import BOUNDS, CATEGORIES, CATEGORICAL, FEATURES, NUMERIC, DriftEvent, Scenario, simulate_month
from driftlab.lab.config import BINS, DAYS, PER_DAY, UNIT_FACTORS, Drift

#: Years of data kept in memory (a year is a few MB).
MAX_YEARS = 24


@dataclass
class _Base:
    """Per-seed constants: reference data (the launch model's training data), bin edges, its counts."""

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
    """Bin indices of one column (same convention as driftlab.course.drift: [e_i, e_i+1))."""
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
    while len(_DATA) > MAX_YEARS:
        _DATA.popitem(last=False)
    return data


def clear_data_cache() -> None:
    """Forget every cached reference, pool and year (for timing a cold start)."""
    _base.cache_clear()
    _pool.cache_clear()
    _DATA.clear()
