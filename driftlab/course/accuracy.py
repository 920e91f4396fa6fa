"""Accuracy monitoring, the pure maths: windows, sampling noise and alert policies.

The course's two boundary conventions come from the seed and are kept everywhere here:

* accuracy **dropped** when it is strictly below the baseline (seed task 2: ``current < baseline``;
  equal is not a drop);
* a **breach** is accuracy at *or below* the retraining threshold (seed MCQ 4: ``accuracy <= 0.85``;
  equal counts).

Everything takes and returns plain sequences / numpy arrays; no plotting, no widgets.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy.stats import binom

__all__ = ["accuracy_sd", "cumulative_accuracy", "sliding_accuracy", "breaches", "consecutive_breaches",
           "alert_level", "alert_levels", "dip_probability", "alert_months", "labelled_months",
           "first_alert"]

OK, WARNING, CRITICAL = "ok", "warning", "critical"


def _floats(values: Sequence[float]) -> np.ndarray:
    """A 1-D float array of ``values``."""
    return np.asarray(values, dtype=float).ravel()


def accuracy_sd(p: float, n: int) -> float:
    """One standard deviation of an accuracy measured on ``n`` labelled rows when the true accuracy is ``p``."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return float(binom.std(int(n), float(p)) / int(n))


def cumulative_accuracy(correct: Sequence[float], n: Sequence[float]) -> np.ndarray:
    """Accuracy over everything seen so far: cumsum(correct) / cumsum(n), one value per period."""
    c, m = _floats(correct), _floats(n)
    return np.cumsum(c) / np.cumsum(m)


def sliding_accuracy(correct: Sequence[float], n: Sequence[float], window: int) -> np.ndarray:
    """Accuracy over the last ``window`` periods (fewer at the start), pooled by row counts."""
    if window < 1:
        raise ValueError("window must be at least 1")
    c = pd.Series(_floats(correct)).rolling(window, min_periods=1).sum()
    m = pd.Series(_floats(n)).rolling(window, min_periods=1).sum()
    return (c / m).to_numpy()


def breaches(accuracies: Sequence[float], threshold: float) -> np.ndarray:
    """True where accuracy is at or below ``threshold`` (equal counts, as in seed MCQ 4)."""
    return _floats(accuracies) <= threshold


def consecutive_breaches(accuracies: Sequence[float], threshold: float, n: int) -> list[bool]:
    """True at period i when periods i-n+1 … i are all breaches (at or below ``threshold``)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    run, out = 0, []
    for hit in breaches(accuracies, threshold):
        run = run + 1 if hit else 0
        out.append(run >= n)
    return out


def alert_level(accuracy: float, baseline: float, threshold: float) -> str:
    """'critical' at or below ``threshold``, 'warning' strictly below ``baseline``, else 'ok'."""
    if accuracy <= threshold:
        return CRITICAL
    if accuracy < baseline:
        return WARNING
    return OK


def alert_levels(accuracies: Sequence[float], baseline: float, threshold: float, n: int = 1) -> list[str]:
    """:func:`alert_level` per period, where 'critical' needs ``n`` breaches in a row (else 'warning')."""
    sustained = consecutive_breaches(accuracies, threshold, n)
    levels = []
    for accuracy, confirmed in zip(_floats(accuracies), sustained):
        level = alert_level(accuracy, baseline, threshold)
        levels.append(WARNING if level == CRITICAL and not confirmed else level)
    return levels


def dip_probability(p: float, n: int, threshold: float) -> float:
    """P(accuracy on ``n`` rows is at or below ``threshold``) when the true accuracy is ``p`` (binomial)."""
    k = int(np.floor(round(threshold * n, 9)))  # round: 0.29 * 100 is 28.999999999999996 in floats
    return float(binom.cdf(k, int(n), float(p)))


def alert_months(months: Sequence[int], flags: Sequence[bool]) -> list[int]:
    """The months whose flag is set, as plain ints."""
    return [int(m) for m, f in zip(months, flags) if f]


def first_alert(months: Sequence[int], flags: Sequence[bool]) -> int | None:
    """The first month whose flag is set, or None."""
    found = alert_months(months, flags)
    return found[0] if found else None


def labelled_months(months: Sequence[int], today: int, delay: int) -> list[int]:
    """Months whose labels have arrived by month ``today`` when outcomes take ``delay`` months."""
    return [int(m) for m in months if m + delay <= today]
