"""The Drift Lab's drift statistics, vectorised over every day of the year at once.

Same binning and formulas as :mod:`driftlab.course.drift` (reference quantile bins; PSI with empty
bins floored at 1e-4; Jensen-Shannon distance with scipy's natural log; Evidently's chi-square
goodness-of-fit test of the window's counts against the reference shares), computed from per-day
bin counts with a cumulative sum, so a threshold or window change costs one pass.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import chisquare

from driftlab.lab.config import Monitoring

__all__ = ["window_scores", "drifted"]

_EPS = 1e-4  # PSI's floor for an empty bin, as in driftlab.course.drift.psi


def window_scores(ref_counts: np.ndarray, counts: np.ndarray, window: int, statistic: str) -> np.ndarray:
    """(DAYS, F) drift score of each day's trailing ``window`` days against ``ref_counts`` (F, BINS).

    Same binning and formulas as :mod:`driftlab.course.drift` (reference quantile bins; PSI with empty
    bins floored at 1e-4; Jensen-Shannon distance, natural log; chi-square goodness of fit), all
    days at once.  chi2 returns p-values.
    """
    cs = np.concatenate([np.zeros((1,) + counts.shape[1:]), np.cumsum(counts, axis=0)])
    days = np.arange(counts.shape[0])
    cur = cs[days + 1] - cs[np.maximum(days + 1 - int(window), 0)]  # (T, F, B)
    ref = np.broadcast_to(ref_counts.astype(float), cur.shape)
    if statistic == "chi2":
        # scipy.stats.chisquare(current counts, reference counts scaled to the window's total), as
        # driftlab.course.drift.chi_square_test.  Bins empty on both sides (padding of the short
        # categoricals) are not categories: set to 1 vs 1 (a zero term) and taken out of the degrees
        # of freedom with ddof.  A bin the reference never had but the window has: inf, p = 0.
        unused = (ref == 0) & (cur == 0)
        expected = ref * (cur.sum(-1, keepdims=True) / ref.sum(-1, keepdims=True))
        with np.errstate(divide="ignore", invalid="ignore"):
            p = chisquare(np.where(unused, 1.0, cur), np.where(unused, 1.0, expected),
                          ddof=unused.sum(-1), axis=-1).pvalue
        return np.where((~unused).sum(-1) > 1, p, 1.0)
    r = ref / ref.sum(-1, keepdims=True)
    c = cur / np.maximum(cur.sum(-1, keepdims=True), 1)
    if statistic == "psi":
        r0, c0 = np.where(r == 0, _EPS, r), np.where(c == 0, _EPS, c)
        pad = (r == 0) & (c == 0)  # padding bins of short categoricals: empty in both, no drift
        return np.where(pad, 0.0, (c0 - r0) * np.log(c0 / r0)).sum(-1)
    return jensenshannon(r, c, axis=-1)


def drifted(scores: np.ndarray, monitoring: Monitoring) -> np.ndarray:
    """True where a score crosses the threshold (p < alpha for chi2, as Evidently; score >= threshold otherwise)."""
    if monitoring.statistic == "chi2":
        return scores < monitoring.threshold
    return scores >= monitoring.threshold
