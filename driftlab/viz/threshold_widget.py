"""Practice widget: a threshold slider that shows which accuracy alerts would fire, month by month.

The figure is built once (a :class:`matplotlib.figure.Figure`, no pyplot state); a slider move
updates the moving artists in place and blits only them (:class:`driftlab.viz.live_figure.LiveFigure`).
The frame is shown with alternative text that says what it shows now, and the sliders' handles are
named by their labels (:mod:`driftlab.viz.accessible`).
:meth:`ThresholdExplorer.update` is the sliders' callback and can be called directly in tests.
The maths lives in :mod:`driftlab.course.accuracy`.
"""
from __future__ import annotations

from typing import Any, Sequence

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from driftlab.viz.accessible import DescribedImage, name_slider_handles
from driftlab.viz.live_figure import LiveFigure
from driftlab.viz.plots import PALETTE
from driftlab.course.accuracy import alert_months, breach_runs, breaches

__all__ = ["ThresholdExplorer"]


class ThresholdExplorer:
    """Accuracy timeline with a movable retraining threshold and an "N breaches in a row" rule."""

    def __init__(self, months: Sequence[int], accuracies: Sequence[float], baseline: float | None = None,
                 threshold: float = 0.85, consecutive: int = 1, lowest: float | None = None,
                 highest: float | None = None) -> None:
        """Draw the timeline once and wire the sliders to :meth:`update`."""
        self.months = np.asarray(months, dtype=int)
        self.accuracies = np.asarray(accuracies, dtype=float)
        lo = lowest if lowest is not None else float(np.floor(self.accuracies.min() * 100 - 2) / 100)
        hi = highest if highest is not None else float(np.ceil(max(self.accuracies.max(), baseline or 0) * 100 + 1) / 100)
        self.renders = 0
        self.slider = W.FloatSlider(value=threshold, min=lo, max=hi, step=0.005, readout_format=".3f",
                                    description="Retrain threshold", continuous_update=False,
                                    style={"description_width": "initial"}, layout=W.Layout(width="420px"))
        self.run_slider = W.IntSlider(value=consecutive, min=1, max=4, description="Breaches in a row",
                                      continuous_update=False, style={"description_width": "initial"})
        self.fig = Figure(figsize=(8.2, 3.4), dpi=80, layout="constrained")
        ax = self.ax = self.fig.subplots()
        ax.plot(self.months, self.accuracies, marker="o", color=PALETTE["blue"], linewidth=2, label="accuracy")
        if baseline is not None:
            ax.axhline(baseline, color=PALETTE["bluish_green"], linestyle=":", linewidth=2,
                       label=f"baseline ({baseline:.3f})")
        self.threshold_line = ax.axhline(threshold, color=PALETTE["vermillion"], linestyle="--", linewidth=2,
                                         label="threshold")
        self.breach_marks = ax.scatter([], [], marker="o", s=110, facecolors="none", edgecolors=PALETTE["orange"],
                                       linewidths=2, zorder=3, label="breach (at or below)")
        self.alert_marks = ax.scatter([], [], marker="X", s=120, color=PALETTE["vermillion"], edgecolor="black",
                                      zorder=4, label="alert fires")
        ax.set_xlim(self.months.min() - 0.5, self.months.max() + 0.5)
        ax.set_ylim(lo - 0.005, hi + 0.005)
        ax.set_xticks(self.months)
        ax.set_xlabel("month")
        ax.set_ylabel("accuracy")
        self.caption = ax.set_title("Which alerts would fire?")
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        self.live = LiveFigure(self.fig, [self.threshold_line, self.breach_marks, self.alert_marks, self.caption])
        self.baseline = baseline
        self.image = DescribedImage(self.live.canvas.get_width_height(), width="720px")
        self.summary = W.HTML()
        self.slider.observe(self._on_change, names="value")
        self.run_slider.observe(self._on_change, names="value")
        self.box = W.VBox([W.HTML("<strong>Practice — move the threshold</strong> <em>(not graded)</em>"),
                           W.HBox([self.slider, self.run_slider]), self.image.widget, self.summary])
        name_slider_handles(self.box)
        self.state: dict[str, Any] = {}
        self.update()

    def _on_change(self, change: dict[str, Any]) -> None:
        """Slider observer: redraw for the new values."""
        self.update()

    def update(self, threshold: float | None = None, consecutive: int | None = None) -> dict[str, Any]:
        """Move the threshold (and the run length), redraw the same figure; return what fires."""
        if threshold is not None and threshold != self.slider.value:
            self.slider.value = threshold  # the observer calls update() again with no arguments
            return self.state
        if consecutive is not None and consecutive != self.run_slider.value:
            self.run_slider.value = consecutive
            return self.state
        t, n = float(self.slider.value), int(self.run_slider.value)
        hit = breaches(self.accuracies, t)
        fire = breach_runs(self.accuracies, t) >= n
        self.threshold_line.set_ydata([t, t])
        self.breach_marks.set_offsets(np.column_stack([self.months[hit], self.accuracies[hit]]) if hit.any()
                                      else np.empty((0, 2)))
        self.alert_marks.set_offsets(np.column_stack([self.months[fire], self.accuracies[fire]]) if fire.any()
                                     else np.empty((0, 2)))
        fired = alert_months(self.months, fire)
        self.caption.set_text(f"Which alerts would fire? Threshold {t:.3f}, {n} in a row: {len(fired)} alert(s)")
        months_text = ", ".join(map(str, fired)) if fired else "none"
        breach_text = ", ".join(map(str, alert_months(self.months, hit))) or "none"
        baseline = f", the baseline {self.baseline:.3f} dotted" if self.baseline is not None else ""
        self.image.show(self.live.frame(),
                        f"Accuracy by month, months {self.months.min()} to {self.months.max()}: a line from "
                        f"{self.accuracies.min():.3f} to {self.accuracies.max():.3f}, the retrain threshold {t:.3f} "
                        f"dashed{baseline}. Months at or below the threshold (circled): {breach_text}. "
                        f"With {n} breach(es) in a row, alerts fire (X) in months: {months_text}.")
        self.renders += 1
        self.summary.value = (f"<p role='status'>Threshold <strong>{t:.3f}</strong> (alert when accuracy is at or "
                              f"below it), <strong>{n}</strong> breach(es) in a row: alerts fire in months "
                              f"<strong>{months_text}</strong> — {len(fired)} alert(s); "
                              f"{int(hit.sum())} month(s) at or below the threshold.</p>")
        self.state = {"threshold": t, "consecutive": n, "breaches": alert_months(self.months, hit), "alerts": fired}
        return self.state

    def show(self) -> None:
        """Display the widget in the notebook."""
        from IPython.display import display

        display(self.box)
