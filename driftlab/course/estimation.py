"""Performance estimation without labels (confidence-based, CBPE-style) and calibration, the pure maths.

Labels arrive late (a loan defaults months after the decision), so a monitor that waits for them
is blind in the meantime.  The model's own probabilities give an estimate at once: if ``p`` is the
probability of default and the model predicts default when ``p >= threshold``, that prediction is
right with probability ``p`` (else ``1 - p``), so the mean of those chances is the accuracy to expect
(the idea behind NannyML's confidence-based performance estimation, CBPE:
https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html).

The estimate is only as good as two assumptions, and the course teaches where it fails:

* the probabilities are **calibrated** (of the rows scored 0.2, a fifth default): check with
  :func:`calibration_table` / :func:`expected_calibration_error`, repair with :func:`recalibrate`;
* **P(Y|X) has not changed** (no concept change).  A concept change, or a pipeline bug that pushes
  scores to 0 or 1, leaves the estimate confidently wrong; only labels reveal it
  (:func:`realised_by_chunk`).

``proba`` is always P(default), the positive class 1, as ``model.predict_proba(X)[:, 1]`` gives it.
Everything is vectorised numpy / pandas; no plotting, no widgets.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.frozen import FrozenEstimator

__all__ = ["correct_probability", "expected_accuracy", "estimate_by_chunk", "realised_by_chunk",
           "calibration_table", "expected_calibration_error", "recalibrate", "CALIBRATION_METHODS"]

#: What :func:`recalibrate` accepts: isotonic regression, or Platt's sigmoid.
CALIBRATION_METHODS: tuple[str, ...] = ("isotonic", "sigmoid")


def _proba(proba: ArrayLike) -> np.ndarray:
    """``proba`` as a 1-D float array, checked to be probabilities."""
    p = np.asarray(proba, dtype=float).ravel()
    if np.isnan(p).any() or np.any((p < 0) | (p > 1)):
        raise ValueError("proba must hold probabilities between 0 and 1 (no NaN)")
    return p


def _labels(y_true: ArrayLike, n: int) -> np.ndarray:
    """``y_true`` as a 1-D 0/1 int array of length ``n``."""
    y = np.asarray(y_true).ravel()
    if len(y) != n:
        raise ValueError(f"y_true has {len(y)} values but proba has {n}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y_true must hold 0 (no default) and 1 (default) only")
    return y.astype(np.int64)


def _threshold(threshold: float) -> float:
    if not 0 <= threshold <= 1:
        raise ValueError("threshold must be between 0 and 1")
    return float(threshold)


def correct_probability(proba: ArrayLike, threshold: float = 0.5) -> np.ndarray:
    """Per row, P(the prediction is right): ``p`` where default is predicted (``p >= threshold``), else ``1 - p``."""
    p = _proba(proba)
    return np.where(p >= _threshold(threshold), p, 1.0 - p)


def expected_accuracy(proba: ArrayLike, threshold: float = 0.5) -> float:
    """The accuracy to expect from the scores alone: the mean over rows of P(prediction correct).

    Valid only if the probabilities are calibrated and P(Y|X) has not changed since the model learnt it.
    """
    chance = correct_probability(proba, threshold)
    if chance.size == 0:
        raise ValueError("proba is empty")
    return float(chance.mean())


def _chunks(chunk: ArrayLike, n: int) -> pd.Series:
    """``chunk`` as a Series of length ``n`` (its name kept, else 'chunk') for grouping."""
    keys = chunk if isinstance(chunk, pd.Series) else pd.Series(np.asarray(chunk).ravel())
    if len(keys) != n:
        raise ValueError(f"chunk has {len(keys)} values but proba has {n}")
    return keys.reset_index(drop=True).rename(keys.name if keys.name is not None else "chunk")


def _per_group(columns: dict[str, np.ndarray], keys: pd.Series) -> pd.DataFrame:
    """Sum of each column and row count ``n`` per key (sorted; missing keys are a group of their own)."""
    sums = pd.DataFrame(columns).groupby(keys, sort=True, dropna=False, observed=True).sum()
    sums.insert(0, "n", keys.groupby(keys, sort=True, dropna=False, observed=True).size().astype(np.int64))
    return sums


def estimate_by_chunk(proba: ArrayLike, chunk: ArrayLike, threshold: float = 0.5) -> pd.DataFrame:
    """Label-free estimates per chunk (e.g. month): ``n``, ``mean_score`` (expected default rate),
    ``predicted_positive_rate`` (share with ``p >= threshold``) and ``estimated_accuracy``."""
    p = _proba(proba)
    t = _threshold(threshold)
    sums = _per_group({"mean_score": p, "predicted_positive_rate": (p >= t).astype(float),
                       "estimated_accuracy": correct_probability(p, t)}, _chunks(chunk, len(p)))
    rates = sums.drop(columns="n").div(sums["n"], axis=0)
    return pd.concat([sums[["n"]], rates], axis=1)


def realised_by_chunk(y_true: ArrayLike, proba: ArrayLike, chunk: ArrayLike, threshold: float = 0.5) -> pd.DataFrame:
    """The truth per chunk, from labels: ``n``, ``default_rate``, ``accuracy``, ``recall`` (NaN without defaults)."""
    p = _proba(proba)
    y = _labels(y_true, len(p))
    predicted = p >= _threshold(threshold)
    sums = _per_group({"default_rate": y.astype(float), "accuracy": (predicted == (y == 1)).astype(float),
                       "caught": (predicted & (y == 1)).astype(float)}, _chunks(chunk, len(p)))
    table = sums[["n"]].copy()
    table["default_rate"] = sums["default_rate"] / sums["n"]
    table["accuracy"] = sums["accuracy"] / sums["n"]
    table["recall"] = (sums["caught"] / sums["default_rate"].where(sums["default_rate"] > 0)).astype(float)
    return table


def _bins(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    """Bin number of each score, with the edges and the side (right-closed) of calibration_curve."""
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ValueError("strategy must be 'quantile' or 'uniform'")
    return np.digitize(p, edges[1:-1], right=True)


def calibration_table(y_true: ArrayLike, proba: ArrayLike, n_bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
    """Reliability table, one row per non-empty bin of scores: ``n``, ``mean_predicted``, ``observed_rate``,
    ``gap`` (observed - predicted; positive: the model under-predicts defaults there)."""
    if int(n_bins) < 1:
        raise ValueError("n_bins must be at least 1")
    p = _proba(proba)
    if p.size == 0:
        raise ValueError("proba is empty")
    y = _labels(y_true, len(p))
    observed, predicted = calibration_curve(y, p, n_bins=int(n_bins), strategy=strategy, pos_label=1)
    counts = np.bincount(_bins(p, int(n_bins), strategy), minlength=int(n_bins))
    filled = np.flatnonzero(counts)
    table = pd.DataFrame({"n": counts[filled].astype(np.int64), "mean_predicted": predicted,
                          "observed_rate": observed, "gap": observed - predicted},
                         index=pd.Index(filled, name="bin"))
    return table


def expected_calibration_error(y_true: ArrayLike, proba: ArrayLike, n_bins: int = 10,
                               strategy: str = "quantile") -> float:
    """Expected calibration error: the row-count-weighted mean of |observed - predicted| over the bins."""
    table = calibration_table(y_true, proba, n_bins, strategy)
    return float(np.average(table["gap"].abs(), weights=table["n"]))


def recalibrate(model: Any, X: Any, y: ArrayLike, method: str = "isotonic") -> CalibratedClassifierCV:
    """The already-fitted ``model``, frozen, with a calibrator (``"isotonic"`` or Platt's ``"sigmoid"``)
    fitted on the held-out calibration set ``(X, y)``; use its ``predict_proba`` as the model's."""
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"method must be one of {CALIBRATION_METHODS}, not {method!r}")
    return CalibratedClassifierCV(FrozenEstimator(model), method=method).fit(X, y)
