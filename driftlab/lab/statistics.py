"""The Drift Lab's drift statistics, vectorised over every day of the year at once.

Same binning and formulas as :mod:`driftlab.course.drift` (reference quantile bins; PSI with empty
bins floored at 1e-4; Jensen-Shannon distance base 2; chi-square test without correction), computed
from per-day bin counts with a cumulative sum, so a threshold or window change costs one pass.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2 as chi2_dist

from driftlab.lab.config import Monitoring

__all__ = ["window_scores", "drifted"]

_EPS = 1e-4  # PSI's floor for an empty bin, as in driftlab.course.drift.psi


def window_scores(ref_counts: np.ndarray, counts: np.ndarray, window: int, statistic: str) -> np.ndarray:
    """(DAYS, F) drift score of each day's trailing ``window`` days against ``ref_counts`` (F, BINS).

    Same binning and formulas as :mod:`driftlab.course.drift` (reference quantile bins; PSI with empty
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
