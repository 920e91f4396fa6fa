"""Metrics per segment (slice) of the applicants, and the gaps between segments, the pure maths.

An average can hide a segment where the model fails: a new region can be served badly while the
overall accuracy barely moves.  So a monitor also breaks its numbers down by segment
(:func:`by_slice`, compared with :func:`overall`) and watches the largest gap between segments
(:func:`largest_gap`).  The same gaps are the usual group-fairness measures: the gap in approval
rate is the *demographic parity difference*, the gap in recall the *equal opportunity difference*
(fairlearn's names, https://fairlearn.org/main/user_guide/assessment/common_fairness_metrics.html).

Label-free columns (approval rate, mean score, estimated accuracy) come from the scores and are
known at once; with labels the realised default rate, accuracy and recall are added.  The
estimates follow :mod:`driftlab.course.estimation` (calibrated scores, no concept change assumed).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from driftlab.course.estimation import estimate_by_chunk, realised_by_chunk

__all__ = ["by_slice", "overall", "largest_gap"]

LABEL_FREE: tuple[str, ...] = ("n", "share", "approval_rate", "mean_score", "estimated_accuracy")
WITH_LABELS: tuple[str, ...] = ("default_rate", "accuracy", "recall")


def _table(frame: pd.DataFrame, keys: pd.Series, proba: str, y_true: str | None, threshold: float) -> pd.DataFrame:
    p = frame[proba].to_numpy(dtype=float)
    estimate = estimate_by_chunk(p, keys, threshold)
    table = estimate[["n"]].copy()
    table["share"] = table["n"] / len(frame)
    approved = pd.Series(p < threshold, dtype=float)  # approved: predicted not to default
    by_key = approved.groupby(keys.reset_index(drop=True), sort=True, dropna=False, observed=True)  # as estimate's
    table["approval_rate"] = by_key.mean().to_numpy()
    table[["mean_score", "estimated_accuracy"]] = estimate[["mean_score", "estimated_accuracy"]]
    if y_true is not None:
        realised = realised_by_chunk(frame[y_true].to_numpy(), p, keys, threshold)
        table[list(WITH_LABELS)] = realised[list(WITH_LABELS)]
    return table


def by_slice(frame: pd.DataFrame, by: str, proba: str, y_true: str | None = None,
             threshold: float = 0.5) -> pd.DataFrame:
    """One row per segment of ``frame[by]`` present in ``frame`` (sorted; missing values are a segment):
    ``n``, ``share`` of rows, ``approval_rate`` (p < threshold), ``mean_score``, ``estimated_accuracy``,
    and with ``y_true`` also ``default_rate``, ``accuracy``, ``recall`` (NaN without defaults)."""
    if len(frame) == 0:
        raise ValueError("frame is empty")
    return _table(frame, frame[by].rename(by), proba, y_true, threshold)


def overall(frame: pd.DataFrame, proba: str, y_true: str | None = None, threshold: float = 0.5) -> pd.Series:
    """The columns of :func:`by_slice` for the whole ``frame`` (``share`` is 1), to compare segments with."""
    if len(frame) == 0:
        raise ValueError("frame is empty")
    keys = pd.Series(np.zeros(len(frame), dtype=np.int64), index=frame.index, name="all")
    return _table(frame, keys, proba, y_true, threshold).iloc[0].rename("all")


def largest_gap(table: pd.DataFrame, metric: str) -> tuple[object, object, float]:
    """(segment with the highest ``metric``, segment with the lowest, their difference), NaN ignored.

    On ``approval_rate`` the difference is the demographic parity difference; on ``recall`` (of
    defaults, the true-positive rate) the equal opportunity difference.  Ties go to the first segment.
    """
    if metric not in table.columns:
        raise ValueError(f"no column {metric!r}; the table has {list(table.columns)}")
    values = table[metric].astype(float).dropna()
    if values.empty:
        raise ValueError(f"{metric!r} is NaN in every segment")
    high, low = values.idxmax(), values.idxmin()
    return high, low, float(values.max() - values.min())
