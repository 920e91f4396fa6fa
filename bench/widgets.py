"""In-process latency benchmark of every widget interaction (callbacks driven from Python).

    .venv/bin/python bench/widgets.py [--repeat N] [--json out.json]

Measures, per interaction, the wall time of the callback a browser event would run, including
the redraw of its figure (Agg canvas, rendered to the image the widget ships to the browser):

* practice widget: select an answer + press Check (``PracticeWidget.answer`` + ``.check``);
* threshold slider (driftlab/viz/threshold_widget.py, if present): move the slider;
* Drift Lab: every control, moved through several values (the observer re-runs the year and
  redraws in place); the full ``fig.canvas.draw()`` of the lab figure is reported separately.

Prints median and 95th percentile in ms; targets: median <= 100 ms, p95 <= 250 ms (2 cores).
Exit status 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("MPLBACKEND", "Agg")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import numpy as np  # noqa: E402

MEDIAN_MS, P95_MS = 100.0, 250.0


CPU: list[float] = []  # CPU milliseconds of the latest call, parallel to every wall-time sample


def timed(action: Callable[[], object]) -> float:
    """Wall-clock milliseconds one call takes (its process CPU time is kept in ``CPU``)."""
    cpu, start = time.process_time(), time.perf_counter()
    action()
    wall = (time.perf_counter() - start) * 1000
    CPU.append((time.process_time() - cpu) * 1000)
    return wall


def practice_samples(repeat: int) -> list[float]:
    """Answer + check on the Drift Lab's practice questions, every option, fresh widgets."""
    import nbformat

    from grader.exercises.source import compile_notebook
    from driftlab.exercises.practice import PracticeWidget

    entries = compile_notebook(nbformat.read(ROOT / "solutions/07_drift_lab/07_drift_lab.ipynb", as_version=4))
    practice = [e for e in entries.values() if not e.graded]
    samples = []
    for _ in range(repeat):
        for entry in practice:
            widget = PracticeWidget(entry)
            for letter in entry.options:
                samples.append(timed(lambda: (widget.answer(letter), widget.check(), widget.show_hint())))
    return samples


def threshold_samples(repeat: int) -> list[float] | None:
    """Move the threshold slider of driftlab/viz/threshold_widget.py (skipped if that module is absent)."""
    if not (ROOT / "driftlab/viz/threshold_widget.py").exists():
        return None
    from driftlab.viz.threshold_widget import ThresholdExplorer

    rng = np.random.default_rng(0)
    accuracies = np.clip(0.9 - 0.01 * np.arange(12) + rng.normal(0, 0.01, 12), 0.6, 1)
    explorer = ThresholdExplorer(list(range(1, 13)), accuracies, baseline=0.9, threshold=0.85)
    values = np.round(np.linspace(explorer.slider.min, explorer.slider.max, 9), 3)
    samples = []
    for _ in range(repeat):
        for value in values:
            samples.append(timed(lambda: setattr(explorer.slider, "value", float(value))))
        explorer.slider.value = 0.85
    return samples


LAB_MOVES: dict[str, list] = {
    "type": ["gradual", "recurring", "unit_bug", "concept", "sudden"],
    "feature": ["credit_score", "debt_to_income", "age", "loan_amount", "income"],
    "magnitude": [0.5, 1.5, 2.0, 0.8, 1.0],
    "onset": [60, 200, 300, 150, 120],
    "label_delay": [0, 60, 90, 10, 30],
    "statistic": ["jensen_shannon", "chi2", "psi"],
    "threshold": [0.05, 0.2, 0.25, 0.15, 0.1],
    "window": [1, 7, 30, 60, 14],
    "policy": ["none", "scheduled", "triggered", "triggered_dq"],
}


def lab_samples(repeat: int) -> tuple[dict[str, list[float]], dict[str, list[float]], list[float], float]:
    """Every Drift Lab control through several values; also the full canvas draw and the first build."""
    from driftlab import lab as L
    from driftlab.lab.widgets import DriftLab

    L.clear_cache()
    start = time.perf_counter()
    ui = DriftLab()
    first = (time.perf_counter() - start) * 1000
    per_control: dict[str, list[float]] = {name: [] for name in LAB_MOVES}
    cpu_control: dict[str, list[float]] = {name: [] for name in LAB_MOVES}
    for _ in range(repeat):
        for name, values in LAB_MOVES.items():
            for value in values:
                per_control[name].append(timed(lambda: ui.set(**{name: value})))
                cpu_control[name].append(CPU[-1])
                if ui.message.value:  # an invalid combination is not an interaction worth timing
                    per_control[name].pop()
                    cpu_control[name].pop()
    draws = [timed(ui.canvas.draw) for _ in range(5)]
    return per_control, cpu_control, draws, first


def stats(samples: list[float]) -> tuple[float, float]:
    """(median, p95) in ms."""
    return float(np.median(samples)), float(np.percentile(samples, 95))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows: list[tuple[str, int, float, float, float]] = []
    CPU.clear()
    practice = practice_samples(args.repeat)
    rows.append(("practice: answer + check + hint", len(practice), *stats(practice), float(np.median(CPU))))
    CPU.clear()
    threshold = threshold_samples(args.repeat)
    if threshold is None:
        print("threshold slider: driftlab/viz/threshold_widget.py not found, skipped")
    else:
        rows.append(("threshold slider: move", len(threshold), *stats(threshold), float(np.median(CPU))))
    per_control, cpu_control, draws, first = lab_samples(args.repeat)
    everything: list[float] = []
    cpu_all: list[float] = []
    for name, samples in per_control.items():
        rows.append((f"drift lab: {name}", len(samples), *stats(samples), float(np.median(cpu_control[name]))))
        everything += samples
        cpu_all += cpu_control[name]
    rows.append(("drift lab: ALL controls", len(everything), *stats(everything), float(np.median(cpu_all))))
    print(f"{'interaction':36s} {'n':>4s} {'median ms':>10s} {'p95 ms':>8s} {'CPU median ms':>14s}")
    failed = False
    for label, n, median, p95, cpu in rows:
        flag = "" if median <= MEDIAN_MS and p95 <= P95_MS else "  <-- over target"
        failed |= bool(flag)
        print(f"{label:36s} {n:4d} {median:10.1f} {p95:8.1f} {cpu:14.1f}{flag}")
    print(f"(drift lab: first build incl. data and launch model, cold cache: {first:.0f} ms; "
          f"full fig.canvas.draw(), not used per update: median {np.median(draws):.0f} ms)")
    print(f"targets: median <= {MEDIAN_MS:g} ms, p95 <= {P95_MS:g} ms (wall clock); load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (CPU ms = this process's CPU time, less "
          "sensitive to other processes)")
    if args.json:
        args.json.write_text(json.dumps([dict(zip(("interaction", "n", "median_ms", "p95_ms", "cpu_median_ms"), r))
                                         for r in rows],
                                        indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
