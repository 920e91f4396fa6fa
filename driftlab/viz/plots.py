"""Course plots (matplotlib), readable without colour: every colour difference is doubled by
a line style, hatch, marker or text label.  Each function draws on ``ax`` (or a new figure)
and returns the Axes.  pyplot is imported only when a new figure is needed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

from driftlab.viz.palette import CURRENT_COLOUR, DRIFT_COLOUR, OK_COLOUR, PALETTE, REFERENCE_COLOUR  # noqa: F401

DRIFT_HATCH = "///"
_MAX_SURPRISE = 300.0  # -log10(p) shown for p == 0


def _axes(ax: "Axes | None", size: tuple[float, float] = (6.0, 3.5)) -> "Axes":
    """``ax`` itself, or the Axes of a new figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=size, layout="constrained")
    return new_ax


def _clean(sample) -> pd.Series:
    """A Series without missing values."""
    return pd.Series(np.asarray(sample).ravel() if not isinstance(sample, pd.Series) else sample).dropna()


def _numeric(series: pd.Series) -> bool:
    """True for numeric, non-boolean data."""
    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def plot_distributions(reference, current, column: str | None = None, ax: "Axes | None" = None,
                       bins: int = 30) -> "Axes":
    """Reference vs current distribution of one column: step histograms or side-by-side bars.

    ``reference``/``current`` are DataFrames (pass ``column``) or 1-D samples.  Both are drawn
    as *shares* of their rows, so samples of different sizes compare fairly.
    """
    ax = _axes(ax)
    ref = _clean(reference[column] if column is not None else reference)
    cur = _clean(current[column] if column is not None else current)
    label = column or "value"
    if _numeric(ref) and _numeric(cur):
        edges = np.histogram_bin_edges(np.concatenate([ref.to_numpy(float), cur.to_numpy(float)]), bins=bins)
        for sample, name, colour, style in ((ref, "reference", REFERENCE_COLOUR, "-"),
                                            (cur, "current", CURRENT_COLOUR, "--")):
            ax.hist(sample.to_numpy(float), bins=edges, weights=np.full(len(sample), 1 / len(sample)),
                    histtype="step", linewidth=2, linestyle=style, color=colour, label=f"{name} (n={len(sample)})")
        ax.set_xlabel(label)
    else:
        ref_share = ref.astype(str).value_counts(normalize=True)
        cur_share = cur.astype(str).value_counts(normalize=True)
        categories = ref_share.index.union(cur_share.index)
        x = np.arange(len(categories))
        width = 0.4
        ax.bar(x - width / 2, ref_share.reindex(categories, fill_value=0), width, color=REFERENCE_COLOUR,
               edgecolor="black", label=f"reference (n={len(ref)})")
        ax.bar(x + width / 2, cur_share.reindex(categories, fill_value=0), width, color=CURRENT_COLOUR,
               edgecolor="black", hatch=DRIFT_HATCH, label=f"current (n={len(cur)})")
        ax.set_xticks(x, list(categories))
        ax.set_xlabel(label)
    ax.set_ylabel("share of rows")
    ax.set_title(f"{label}: reference vs current")
    ax.legend(frameon=False)
    return ax


def _display_value(method: str, statistic: float, p_value: float) -> float:
    """Distances as they are; tests as -log10(p), so a longer bar always means more drift."""
    if method in ("ks", "chi2"):
        return float(min(-np.log10(max(p_value, 10 ** -_MAX_SURPRISE)), _MAX_SURPRISE))
    return float(statistic)


def _display_threshold(method: str, threshold: float) -> float:
    """The threshold on the same scale as :func:`_display_value`."""
    return float(-np.log10(threshold)) if method in ("ks", "chi2") else float(threshold)


def _display_cap(values: Sequence[float], limits: Sequence[float]) -> float:
    """Axis end: keeps ordinary bars readable when one value is huge (e.g. a unit bug)."""
    limit = max(list(limits) + [1e-9])
    finite = [v for v in values if np.isfinite(v) and v <= 20 * limit]
    return float(max(finite + [4 * limit]))


def plot_drift_scores(scores: pd.DataFrame, ax: "Axes | None" = None) -> "Axes":
    """Horizontal bars of each column's drift score with its threshold; drifting bars are hatched
    and labelled "DRIFT" (not marked by colour alone).

    Distances are drawn as they are; tests as -log10(p-value), so for every method a bar that
    crosses its threshold line means drift.  Each bar is labelled with its value; a value
    far beyond the rest is cut at the axis end and labelled "(off scale)".
    """
    ax = _axes(ax, (6.0, 0.45 * len(scores) + 1.2))
    methods = scores["method"].astype(str).to_numpy()
    values = [_display_value(m, s, p) for m, s, p in zip(methods, scores["statistic"], scores["p_value"])]
    limits = [_display_threshold(m, t) for m, t in zip(methods, scores["threshold"])]
    drift = scores["drift"].to_numpy(dtype=bool)
    y = np.arange(len(scores))[::-1]
    ax.barh(y, np.minimum(np.nan_to_num(values), _display_cap(values, limits)), color=[DRIFT_COLOUR if d else OK_COLOUR for d in drift],
            hatch=[DRIFT_HATCH if d else "" for d in drift], edgecolor="black")
    ax.set_yticks(y, [f"{name} ({m})" for name, m in zip(scores.index, methods)])
    if len(set(limits)) == 1 and limits:
        ax.axvline(limits[0], color="black", linestyle="--", linewidth=1.5, label=f"threshold ({limits[0]:.3g})")
    else:
        for yi, limit in zip(y, limits):
            ax.plot([limit, limit], [yi - 0.45, yi + 0.45], color="black", linestyle="--", linewidth=1.5)
        ax.plot([], [], color="black", linestyle="--", label="threshold (per column)")
    cap = _display_cap(values, limits)
    shown_as = [f"p={p:.2g}" if m in ("ks", "chi2") else f"{s:.3g}"
                for m, s, p in zip(methods, scores["statistic"], scores["p_value"])]
    for yi, value, is_drift, number in zip(y, values, drift, shown_as):
        shown = min(value, cap) if np.isfinite(value) else 0.0
        text = f"{'DRIFT' if is_drift else 'ok'} {number}" + (" (off scale)" if value > cap else "")
        ax.text(shown + cap * 0.02, yi, text, va="center", fontweight="bold" if is_drift else "normal")
    ax.set_xlim(0, cap * 1.7)
    tests = {m for m in methods if m in ("ks", "chi2")}
    if tests and len(tests) == len(set(methods)):
        ax.set_xlabel("-log10(p-value)  (longer = stronger evidence of drift)")
    elif tests:
        ax.set_xlabel("distance, or -log10(p-value) for tests")
    else:
        ax.set_xlabel("distance  (longer = more drift)")
    ax.set_title("Drift score per column")
    ax.legend(frameon=False, loc="best")
    return ax


def plot_accuracy_timeline(months: Sequence[int], accuracies: Sequence[float], threshold: float | None = None,
                           baseline: float | None = None, ax: "Axes | None" = None) -> "Axes":
    """Accuracy per month, with optional baseline and retraining threshold; months at or below
    the threshold (the course's retraining rule) get a cross marker and a text label.
    """
    ax = _axes(ax)
    months = np.asarray(months)
    accuracies = np.asarray(accuracies, dtype=float)
    ax.plot(months, accuracies, marker="o", color=PALETTE["blue"], linewidth=2, label="accuracy")
    if baseline is not None:
        ax.axhline(baseline, color=PALETTE["bluish_green"], linestyle=":", linewidth=2,
                   label=f"baseline ({baseline:.2f})")
    if threshold is not None:
        ax.axhline(threshold, color=PALETTE["vermillion"], linestyle="--", linewidth=2,
                   label=f"retrain threshold ({threshold:.2f})")
        low = accuracies <= threshold
        if low.any():
            ax.scatter(months[low], accuracies[low], marker="X", s=90, color=PALETTE["vermillion"],
                       edgecolor="black", zorder=3, label="at or below threshold")
            for m, a in zip(months[low], accuracies[low]):
                ax.annotate("retrain", (m, a), textcoords="offset points", xytext=(0, -14),
                            ha="center", fontsize=8)
    ax.set_xlabel("month")
    ax.set_ylabel("accuracy")
    ax.set_title("Model accuracy in production")
    ax.legend(frameon=False, loc="best")
    return ax
