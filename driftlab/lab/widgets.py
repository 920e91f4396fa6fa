"""The Drift Lab's controls and its one live figure (ipywidgets + matplotlib's Agg canvas).

Every control has a visible text label (its ``description``, read by screen readers; a slider's
handle gets it as its accessible name, see :mod:`driftlab.viz.accessible`) and is a standard
keyboard-usable widget (dropdowns, sliders: Tab to focus, arrow keys to move).  The
figure is created once; a control change re-runs :func:`driftlab.lab.run` (cached, fast) and
updates the existing artists in place with ``set_data`` / ``set_ydata`` before one redraw to JPEG.
The figure's alternative text, the scoreboard and a plain-text summary of the plot are text, so
nothing depends on seeing the figure or its colours.

Tests and the benchmark drive it from Python: ``lab.set(magnitude=1.5)`` moves a control exactly as
the learner would (its observer runs the update); ``lab.update()`` recomputes directly.
"""
from __future__ import annotations

import html
import time
from typing import Any, Callable

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from driftlab.lab.config import DAYS, Drift, Monitoring
from driftlab.lab.loop import LabResult, run
from driftlab.viz.accessible import DescribedImage, name_slider_handles
from driftlab.viz.live_figure import LiveFigure
from driftlab.viz.plots import PALETTE
from driftlab.course.simulation import FEATURES

__all__ = ["DriftLab", "relative_scores", "describe", "alt_text"]

DRIFT_AXIS_TOP = 5.0

_LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3)))
_FEATURE_COLOURS = (PALETTE["blue"], PALETTE["orange"], PALETTE["bluish_green"], PALETTE["vermillion"],
                    PALETTE["reddish_purple"], PALETTE["sky_blue"], PALETTE["black"])
_DRIFT_LABELS = (("no drift", "none"), ("sudden shift", "sudden"), ("gradual shift", "gradual"),
                 ("recurring (seasonal) shift", "recurring"), ("unit bug in the pipeline", "unit_bug"),
                 ("concept change (P(Y|X))", "concept"))
_STAT_LABELS = (("PSI (alert at >= threshold)", "psi"), ("Jensen-Shannon distance (>= threshold)", "jensen_shannon"),
                ("chi-square test (alert at p < threshold)", "chi2"))
_POLICY_LABELS = (("none: never act", "none"), ("scheduled: retrain every 90 days", "scheduled"),
                  ("triggered: retrain on an alert", "triggered"),
                  ("triggered + data-quality gate", "triggered_dq"))


class DriftLab:
    """The interactive lab. ``policy``: an optional learner function ``policy(state) -> action``,
    offered as an extra choice "your policy"."""

    def __init__(self, policy: Callable[[dict], str] | None = None, seed: int = 0, dpi: int = 72,
                 drift: Drift | None = None, monitoring: Monitoring | None = None,
                 policy_name: str = "triggered_dq") -> None:
        drift = drift or Drift()
        monitoring = monitoring or Monitoring()
        self.seed, self.dpi, self.user_policy = seed, dpi, policy
        self.result: LabResult | None = None
        self.timings: list[float] = []
        style = {"description_width": "11em"}
        wide = W.Layout(width="26em")
        policies = list(_POLICY_LABELS) + ([("your policy(state) function", "yours")] if policy else [])
        self.controls: dict[str, W.ValueWidget] = {
            "type": W.Dropdown(options=_DRIFT_LABELS, value=drift.type, description="Drift type",
                               style=style, layout=wide),
            "feature": W.Dropdown(options=list(FEATURES), value=drift.feature, description="Drifting feature",
                                  style=style, layout=wide),
            "magnitude": W.FloatSlider(value=drift.magnitude, min=0.0, max=2.0, step=0.1,
                                       description="Magnitude", continuous_update=False, style=style, layout=wide),
            "onset": W.IntSlider(value=drift.onset, min=10, max=330, step=10, description="Onset (day)",
                                 continuous_update=False, style=style, layout=wide),
            "label_delay": W.IntSlider(value=drift.label_delay, min=0, max=90, step=5,
                                       description="Label delay (days)", continuous_update=False, style=style,
                                       layout=wide),
            "statistic": W.Dropdown(options=_STAT_LABELS, value=monitoring.statistic, description="Drift statistic",
                                    style=style, layout=wide),
            "threshold": W.FloatSlider(value=monitoring.threshold, min=0.01, max=0.5, step=0.01,
                                       description="Alert threshold", continuous_update=False, style=style,
                                       layout=wide),
            "window": W.IntSlider(value=monitoring.window, min=1, max=60, step=1, description="Window (days)",
                                  continuous_update=False, style=style, layout=wide),
            "policy": W.Dropdown(options=policies, value=policy_name, description="Response policy",
                                 style=style, layout=wide),
        }
        for name, widget in self.controls.items():
            widget.tooltip = widget.description  # also exposed as the control's accessible name
            widget.observe(self._on_change, names="value")
        self._build_figure()
        # an <img> with alternative text (ipywidgets.Image has none), described again in words below
        self.image = DescribedImage(self.canvas.get_width_height(), width="100%", max_width="760px")
        self.scoreboard = W.HTML(layout=W.Layout(margin="4px 0"))
        self.summary = W.HTML()
        self.message = W.HTML()
        left = W.VBox([self.controls[k] for k in ("type", "feature", "magnitude", "onset", "label_delay")],
                      layout=W.Layout(border="1px solid #999", padding="4px"))
        right = W.VBox([self.controls[k] for k in ("statistic", "threshold", "window", "policy")],
                       layout=W.Layout(border="1px solid #999", padding="4px"))
        heading = W.HTML("<strong>Drift Lab</strong> — inject a drift (left), set monitoring and the response "
                         "(right). Every change re-runs the year; the figure and the scoreboard below update.")
        self.box = W.VBox([heading, W.HBox([W.VBox([W.HTML("<em>Injected drift</em>"), left]),
                                            W.VBox([W.HTML("<em>Monitoring and response</em>"), right])],
                                           layout=W.Layout(flex_flow="row wrap")),
                           self.message, self.scoreboard, self.image.widget, self.summary],
                          layout=W.Layout(padding="4px"))
        self.box.add_class("driftlab-lab")
        name_slider_handles(self.box)
        self.update()

    # ------------------------------------------------------------------ figure (built once)
    def _build_figure(self) -> None:
        """Create the figure, its three panels and every artist the updates will move."""
        self.figure = Figure(figsize=(9.5, 7.0), dpi=self.dpi, layout="constrained")
        ax_drift, ax_acc, ax_events = self.figure.subplots(3, 1, sharex=True, height_ratios=(3, 3, 1.6))
        self.axes = (ax_drift, ax_acc, ax_events)
        days = np.arange(DAYS)
        nan = np.full(DAYS, np.nan)
        self.score_lines = [ax_drift.plot(days, nan, color=c, linestyle=s, linewidth=1.6, label=f)[0]
                            for f, c, s in zip(FEATURES, _FEATURE_COLOURS, _LINE_STYLES)]
        ax_drift.axhline(1.0, color="black", linestyle="--", linewidth=1.2, label="threshold (alert at >= 1)")
        ax_drift.set_ylim(0, DRIFT_AXIS_TOP)
        ax_drift.set_ylabel("score / threshold")
        ax_drift.set_title("Drift score per feature, as a multiple of its threshold (capped at the top)")
        ax_drift.legend(ncol=4, fontsize=8, frameon=False, loc="upper left")
        self.predicted_line, = ax_acc.plot(days, nan, color=PALETTE["orange"], linestyle="--", linewidth=1.8,
                                           label="predicted (confidence-based, no labels needed)")
        self.realised_line, = ax_acc.plot(days, nan, color=PALETTE["blue"], linewidth=1.8,
                                          label="realised (labelled, as known that day)")
        self.true_line, = ax_acc.plot(days, nan, color=PALETTE["black"], linestyle=":", linewidth=1.4,
                                      label="true accuracy, 14 days (hindsight)")
        self.acc_threshold_line = ax_acc.axhline(0.87, color=PALETTE["vermillion"], linestyle="-.",
                                                 linewidth=1.2, label="accuracy threshold (0.87)")
        self.estimate_note = ax_acc.text(0.99, 0.97, "", transform=ax_acc.transAxes, ha="right", va="top",
                                         fontsize=8.5, color=PALETTE["vermillion"])
        ax_acc.set_ylim(0.5, 1.0)
        ax_acc.set_ylabel("accuracy")
        ax_acc.set_title("Predicted vs realised accuracy of the deployed model")
        ax_acc.legend(ncol=2, fontsize=8, frameon=False, loc="lower left")
        rows = ("drift on", "alert", "retrain", "fix pipeline")
        markers = (("|", PALETTE["reddish_purple"]), ("o", PALETTE["vermillion"]), ("^", PALETTE["blue"]),
                   ("s", PALETTE["bluish_green"]))
        self.event_lines = [ax_events.plot([], [], linestyle="none", marker=m, color=c, markersize=6)[0]
                            for m, c in markers]
        ax_events.set_yticks(range(len(rows)), rows)
        ax_events.set_ylim(-0.6, len(rows) - 0.4)
        ax_events.set_xlim(0, DAYS - 1)
        ax_events.set_xlabel("day in production")
        self.retrain_marks = [ax.plot([], [], color=PALETTE["blue"], linewidth=0.8, alpha=0.6,
                                      transform=ax.get_xaxis_transform())[0] for ax in (ax_drift, ax_acc)]
        # Everything above except the data artists is static: draw it once, then blit the data.
        self.dynamic = (self.score_lines + [self.predicted_line, self.realised_line, self.true_line]
                        + self.event_lines + self.retrain_marks + [self.estimate_note])
        self.live = LiveFigure(self.figure, self.dynamic)
        self.canvas = self.live.canvas

    def render(self) -> bytes:
        """Blit the data artists onto the cached background and encode the frame (JPEG, ~10 ms)."""
        return self.live.frame()

    # ------------------------------------------------------------------ settings
    def settings(self) -> tuple[Drift, Monitoring, Any]:
        """The current control values as the lab's Drift, Monitoring and policy."""
        c = {k: w.value for k, w in self.controls.items()}
        drift = Drift(type=c["type"], feature=c["feature"], magnitude=float(c["magnitude"]), onset=int(c["onset"]),
                        label_delay=int(c["label_delay"]))
        monitoring = Monitoring(statistic=c["statistic"], threshold=float(c["threshold"]), window=int(c["window"]))
        policy = self.user_policy if c["policy"] == "yours" else c["policy"]
        return drift, monitoring, policy

    def set(self, **values: Any) -> None:
        """Move controls as a learner would (each change runs the update through its observer)."""
        for name, value in values.items():
            self.controls[name].value = value

    def _on_change(self, change: dict) -> None:
        """Observer of every control."""
        self.update()

    # ------------------------------------------------------------------ update
    def update(self) -> LabResult | None:
        """Re-run the simulation for the current controls and redraw in place; returns the result."""
        start = time.perf_counter()
        try:
            drift, monitoring, policy = self.settings()
            result = run(drift, monitoring, policy, seed=self.seed)
        except (NotImplementedError, NameError):
            self.message.value = '<p role="alert">✘ Your <code>policy</code> is not written yet: pick another policy.</p>'
            return None
        except Exception as exc:  # a bad combination of controls or a failing learner policy
            self.message.value = f'<p role="alert">✘ Cannot run this combination: {html.escape(str(exc))}</p>'
            return None
        self.message.value = ""
        self.result = result
        self._redraw(result)
        self.timings.append(time.perf_counter() - start)
        return result

    def _redraw(self, r: LabResult) -> None:
        """Move the existing artists to the new result, render once, update the texts."""
        ratio = relative_scores(r)
        for j, line in enumerate(self.score_lines):
            line.set_ydata(np.minimum(ratio[:, j], DRIFT_AXIS_TOP * 0.98))
        self.predicted_line.set_ydata(r.predicted_accuracy)
        self.realised_line.set_ydata(r.realised_accuracy)
        self.true_line.set_ydata(r.true_accuracy)
        days = np.arange(DAYS)
        rows = (days[r.drift_on], days[r.alert], np.asarray(r.retrain_days, dtype=float),
                np.asarray(r.fix_days, dtype=float))
        for y, (line, xs) in enumerate(zip(self.event_lines, rows)):
            line.set_data(xs, np.full(len(xs), y))
        xs = np.repeat(np.asarray(r.retrain_days, dtype=float), 3)
        ys = np.tile([0.0, 1.0, np.nan], len(r.retrain_days))
        if len(xs):
            xs[2::3] = np.nan
        for line in self.retrain_marks:
            line.set_data(xs, ys)
        misled = estimate_misled(r)
        self.estimate_note.set_text("" if misled is None else
                                    f"estimate misleads: day {misled[0]}, {misled[1]:.2f} predicted vs {misled[2]:.2f} true")
        self.image.show(self.render(), alt_text(r))
        s = r.scoreboard
        self.scoreboard.value = (
            '<div role="status" aria-live="polite" class="driftlab-scoreboard" style="font-size:1.05em">'
            f"<strong>Scoreboard</strong> ({html.escape(r.policy)} policy): "
            f"days degraded <strong>{s['days_degraded']}</strong> · alerts without harm <strong>{s['alerts_without_harm']}</strong>"
            f" (of {s['alert_days']} alert days) · retrains <strong>{s['retrains']}</strong> · "
            f"pipeline fixes <strong>{s['fixes']}</strong> · final accuracy <strong>{s['final_accuracy']:.3f}</strong>"
            "</div>")
        self.summary.value = f"<p><em>Plot in words:</em> {html.escape(describe(r))}</p>"


def relative_scores(r: LabResult) -> np.ndarray:
    """(DAYS, F) drift scores as multiples of the threshold (>= 1 means an alert on that feature).

    Distances: score / threshold.  chi2 (a p-value): -log10(p) / -log10(alpha), so a p-value at
    alpha gives exactly 1 and smaller p-values give more.
    """
    if r.monitoring.statistic == "chi2":
        return -np.log10(np.clip(r.scores, 1e-300, 1)) / -np.log10(r.monitoring.threshold)
    return r.scores / r.monitoring.threshold


def alt_text(r: LabResult) -> str:
    """The figure's alternative text: what its three panels show, then what they show now."""
    statistic = dict((v, k) for k, v in _STAT_LABELS)[r.monitoring.statistic].split(" (")[0]
    return (f"Drift Lab figure, day 0 to {DAYS - 1} in production, three panels: each feature's {statistic} "
            f"as a multiple of its alert threshold; predicted, realised and true accuracy against the "
            f"{r.accuracy_threshold:.2f} accuracy threshold; the days with drift, alerts, retrains and pipeline "
            f"fixes. {describe(r)}")


ESTIMATE_GAP = 0.05  # off-drift, the estimate stays within 0.04 of the true accuracy on every built-in drift


def estimate_misled(r: LabResult) -> tuple[int, float, float, int] | None:
    """Where the confidence-based estimate overstates the true accuracy by more than ESTIMATE_GAP while the
    drift is on: (worst day, predicted, true, number of such days), or None."""
    gap = r.predicted_accuracy - r.true_accuracy
    days = np.flatnonzero(r.drift_on & np.isfinite(gap) & (gap > ESTIMATE_GAP))
    if not days.size:
        return None
    worst = int(days[np.argmax(gap[days])])
    return worst, float(r.predicted_accuracy[worst]), float(r.true_accuracy[worst]), int(days.size)


_WHY_MISLED = {
    "unit_bug": "a unit bug pushes the model's probabilities to the extremes: more confident, not more right",
    "concept": "a concept change moves P(Y|X), which the model's own probabilities cannot know",
}


def describe(r: LabResult) -> str:
    """A plain-text account of what the figure shows (for screen readers and for tests)."""
    first_alert = int(np.argmax(r.alert)) if r.alert.any() else None
    drift_days = np.flatnonzero(r.drift_on)
    kind = {"none": "none", "sudden": "sudden shift", "gradual": "gradual shift", "recurring": "recurring shift",
            "unit_bug": "unit bug", "concept": "concept change"}[r.drift.type]
    parts = [f"Drift: {kind}" + (f" of {r.drift.feature} from day {drift_days[0]}" if drift_days.size else "") + "."]
    parts.append(f"First alert on day {first_alert}." if first_alert is not None else "No alert.")
    if r.retrain_days:
        parts.append("Retrained on day(s) " + ", ".join(str(d) for d in r.retrain_days[:8])
                     + ("…" if len(r.retrain_days) > 8 else "") + ".")
    if r.fix_days:
        parts.append("Pipeline fix requested on day(s) " + ", ".join(str(d) for d in r.fix_days) + ".")
    misled = estimate_misled(r)
    if misled is not None:
        day, predicted, true, n = misled
        why = _WHY_MISLED.get(r.drift.type, "it assumes calibrated probabilities and an unchanged P(Y|X)")
        parts.append(f"The confidence-based estimate misleads on {n} day(s): on day {day} it says {predicted:.2f} "
                     f"while the true accuracy is {true:.2f} ({why}).")
    low = np.flatnonzero(r.true_accuracy < r.accuracy_threshold)
    parts.append(f"Accuracy below {r.accuracy_threshold:.2f} on {low.size} day(s)"
                 + (f", first on day {low[0]}." if low.size else "."))
    return " ".join(parts)
