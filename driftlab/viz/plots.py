"""Course plots (matplotlib), readable without colour: every colour difference is doubled by
a line style, hatch, marker or text label.  Each function draws on ``ax`` (or a new figure)
and returns the Axes.  pyplot is imported only when a new figure is needed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import pandas as pd

from driftlab.course.importance import KEPT, compare_importances
from driftlab.viz.palette import CURRENT_COLOUR, PALETTE, REFERENCE_COLOUR

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from driftlab.course.retraining import RetrainRun

__all__ = ["PALETTE", "plot_distributions", "plot_accuracy_timeline", "plot_importance_change", "plot_runs"]

DRIFT_HATCH = "///"


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


def plot_importance_change(old: Mapping[str, float] | pd.Series | pd.DataFrame,
                           new: Mapping[str, float] | pd.Series | pd.DataFrame,
                           old_label: str = "reference", new_label: str = "production",
                           ax: "Axes | None" = None) -> "Axes":
    """Horizontal bars of old vs new importance per feature (hatched = new), largest change on top."""
    table = compare_importances(old, new).iloc[::-1]
    ax = _axes(ax, (6.5, 0.45 * len(table) + 1.4))
    y = np.arange(len(table))
    height = 0.38
    ax.barh(y + height / 2, table["old"], height, color=PALETTE["blue"], label=old_label)
    ax.barh(y - height / 2, table["new"], height, color=PALETTE["vermillion"], hatch=DRIFT_HATCH,
            edgecolor="white", label=new_label)
    labels = [f"{name} ({status})" if status != KEPT else name for name, status in zip(table.index, table["status"])]
    ax.set_yticks(y, labels)
    ax.axvline(0, color=PALETTE["black"], linewidth=0.8)
    ax.set_xlabel("permutation importance (drop in score when shuffled)")
    ax.set_title("Feature importance: old vs new")
    ax.legend(frameon=False, loc="lower right")
    return ax


def plot_runs(runs: "Sequence[RetrainRun]", threshold: float | None = None, ax: "Axes | None" = None) -> "Axes":
    """Accuracy per month of several retraining runs (distinct colour, line style and marker each); promotions marked."""
    ax = _axes(ax, (7.5, 3.8))
    colours = [PALETTE[c] for c in ("black", "blue", "orange", "bluish_green", "reddish_purple", "vermillion")]
    styles = ["-", "--", "-.", ":", "-", "--"]
    markers = ["o", "s", "^", "D", "v", "P"]
    for i, run in enumerate(runs):
        c, ls, mk = colours[i % 6], styles[i % 6], markers[i % 6]
        ax.plot(run.months, run.accuracy, color=c, linestyle=ls, marker=mk, markersize=4, linewidth=1.8,
                label=f"{run.policy}: {run.n_retrains} retrains")
        for m in run.promoted_months:  # the new model serves from the next month
            ax.axvline(m + 0.5, color=c, linestyle=ls, linewidth=0.8, alpha=0.5)
    if threshold is not None:
        ax.axhline(threshold, color=PALETTE["vermillion"], linestyle=(0, (1, 1)), linewidth=1.5,
                   label=f"threshold {threshold:.2f}")
    ax.set_xlabel("month (thin vertical lines: a retrained model starts serving)")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy of the serving model, month by month")
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    return ax
