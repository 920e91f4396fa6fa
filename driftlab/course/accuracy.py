"""Accuracy monitoring, the pure maths: windows, sampling noise and alert policies.

The course's two boundary conventions come from the seed and are kept everywhere here:

* accuracy **dropped** when it is strictly below the baseline (seed task 2: ``current < baseline``;
  equal is not a drop);
* a **breach** is accuracy at *or below* the retraining threshold (seed MCQ 4: ``accuracy <= 0.85``;
  equal counts).

Thresholds set from measured noise follow ``baseline - k * SD`` (:func:`noise_threshold`), where SD is
one standard deviation of the monitored proportion (accuracy, recall, precision) on the rows it is
measured on (:func:`proportion_sd`) and ``k`` fixes the false-alarm rate (:func:`false_alarm_rate`).

Everything takes and returns plain sequences / numpy arrays; no plotting, no widgets.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import binom, chi2, norm

__all__ = ["accuracy_sd", "cumulative_accuracy", "sliding_accuracy", "breaches", "breach_runs", "alert_levels",
           "dip_probability", "alert_months", "labelled_months", "first_alert", "proportion_sd",
           "noise_threshold", "false_alarm_rate", "sd_interval"]

OK, WARNING, CRITICAL = "ok", "warning", "critical"


def _floats(values: Sequence[float]) -> np.ndarray:
    """A 1-D float array of ``values``."""
    return np.asarray(values, dtype=float).ravel()


def accuracy_sd(p: float, n: int) -> float:
    """One standard deviation of an accuracy measured on ``n`` labelled rows when the true accuracy is ``p``."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return float(binom.std(int(n), float(p)) / int(n))


def _scalar_or_array(values: np.ndarray) -> float | np.ndarray:
    """A 0-d result as a Python float, anything else as the array."""
    return float(values) if np.ndim(values) == 0 else values


def proportion_sd(p: ArrayLike, n: ArrayLike) -> float | np.ndarray:
    """One SD of a proportion (accuracy, recall, precision) measured on ``n`` rows when its true value is ``p``: sqrt(p(1-p)/n)."""
    p_, n_ = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    if np.any(n_ < 1):
        raise ValueError("n must be at least 1")
    if np.any((p_ < 0) | (p_ > 1)):
        raise ValueError("p must be between 0 and 1")
    return _scalar_or_array(np.sqrt(p_ * (1 - p_) / n_))


def noise_threshold(baseline: ArrayLike, sd: ArrayLike, k: ArrayLike = 3.0) -> float | np.ndarray:
    """The alert threshold ``baseline - k * sd``: ``k`` standard deviations of measured noise below the baseline."""
    b, s, k_ = (np.asarray(v, dtype=float) for v in (baseline, sd, k))
    if np.any(s < 0) or np.any(k_ < 0):
        raise ValueError("sd and k must not be negative")
    return _scalar_or_array(b - k_ * s)


def false_alarm_rate(k: ArrayLike) -> float | np.ndarray:
    """P(a healthy period measures at least ``k`` SDs below its true value by chance), normal approximation: 1 - Phi(k)."""
    return _scalar_or_array(norm.sf(np.asarray(k, dtype=float)))


def sd_interval(sd: ArrayLike, n: int, level: float = 0.95) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Confidence interval (chi-square) of a standard deviation ``sd`` estimated with ddof=1 from ``n`` normal values."""
    if n < 2:
        raise ValueError("n must be at least 2")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    s, df = np.asarray(sd, dtype=float), n - 1
    low = s * np.sqrt(df / chi2.ppf((1 + level) / 2, df))
    high = s * np.sqrt(df / chi2.ppf((1 - level) / 2, df))
    return _scalar_or_array(low), _scalar_or_array(high)


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


def breach_runs(accuracies: Sequence[float], threshold: float) -> np.ndarray:
    """Length of the current run of breaches at each period (0 where accuracy is above ``threshold``).

    "N breaches in a row" rules compare this with N: ``breach_runs(acc, t) >= n``.
    """
    hit = breaches(accuracies, threshold)
    period = np.arange(len(hit))
    last_ok = np.maximum.accumulate(np.where(hit, -1, period))
    return period - last_ok


def alert_levels(accuracies: Sequence[float], baseline: float, threshold: float, n: int = 1) -> list[str]:
    """Per period: 'critical' after ``n`` breaches in a row, 'warning' for a shorter run or below ``baseline``, else 'ok'."""
    if n < 1:
        raise ValueError("n must be at least 1")
    acc = _floats(accuracies)
    runs = breach_runs(acc, threshold)
    levels = np.select([runs >= n, runs > 0, acc < baseline], [CRITICAL, WARNING, WARNING], default=OK)
    return levels.tolist()


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
