"""Benchmark: every course notebook executed headless, against the floor of importing the stack.

Prints, per notebook, the median wall time of ``--repeat`` runs, the kernel's peak memory (VmHWM of the
kernel process) and the ratio to the floor: a notebook that only imports the same libraries. The floor
is measured side by side with each notebook (floor, notebook, floor, notebook, ...), so a machine that
gets busier or quieter during the run moves both alike (on this shared VM the floor alone moved 2.3-3.6 s within one run).
Targets (issue #2): <= 1.5x the floor and <= 300 MB per notebook.

    .venv/bin/python bench/notebooks.py [--repeat 5] [--only 02_detecting_drift] [--solutions]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
FLOOR_SOURCE = ("import numpy, pandas, scipy.stats, sklearn.linear_model, matplotlib.pyplot, ipywidgets\n"
                "import driftlab.exercises, driftlab.course.simulation, driftlab.course.drift, driftlab.course.model, driftlab.viz.plots")


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of a process (Linux VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(nb, cwd: Path) -> tuple[float, float, int, float]:
    """Execute a notebook in a fresh kernel: (seconds, peak MB, error outputs, work seconds).

    Work is the time of every cell after the first code cell (the imports): the run without the
    kernel's start and shutdown and the imports, which the floor pays too.
    """
    client = NotebookClient(nb, timeout=300, startup_timeout=120, kernel_name="python3",
                            allow_errors=True, resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    work, imported = 0.0, False
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            began = time.perf_counter()
            client.execute_cell(cell, index)
            if imported:
                work += time.perf_counter() - began
            imported = imported or cell.cell_type == "code"
        pid = client.km.provisioner.process.pid
        peak = peak_rss_mb(pid)
    elapsed = time.perf_counter() - start
    errors = sum(1 for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error")
    return elapsed, peak, errors, work


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each notebook and of the floor beside it (median; with 3 a ratio moved by up to 0.3)")
    parser.add_argument("--only", action="append", help="module folder(s) to run")
    parser.add_argument("--solutions", action="store_true", help="also run the instructor notebooks")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")

    floor_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR_SOURCE)])
    run(nbformat.from_dict(floor_nb), ROOT)   # warm-up: the first kernel of a run pays for cold caches
    print(f"{'notebook':58s} {'time s':>7s} {'floor s':>7s} {'ratio':>6s} {'work s':>6s} {'budget':>6s} {'peak MB':>8s} "
          f"{'errors':>6s}  verdict")
    paths = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
    if args.solutions:
        paths += sorted((ROOT / "solutions").glob("*/*.ipynb"))
    failed = 0
    for path in paths:
        if args.only and path.parent.name not in args.only:
            continue
        runs, floors = [], []
        for _ in range(args.repeat):
            floors.append(run(nbformat.from_dict(floor_nb), ROOT)[0])
            runs.append(run(nbformat.read(path, as_version=4), path.parent))
        elapsed = statistics.median(r[0] for r in runs)      # one run on a busy 2-core machine varies by +-20 %
        floor_t = statistics.median(floors)
        peak, errors = max(r[1] for r in runs), max(r[2] for r in runs)
        ratio = elapsed / floor_t
        work = statistics.median(r[3] for r in runs)   # cells after the imports; budget: what 1.5x leaves them
        budget = 1.5 * floor_t - (elapsed - work)
        ok = ratio <= 1.5 and peak <= 300 and errors == 0
        failed += not ok
        rel = path.relative_to(ROOT)
        print(f"{str(rel):58s} {elapsed:7.2f} {floor_t:7.2f} {ratio:6.2f} {work:6.2f} {budget:6.2f} {peak:8.0f} "
              f"{errors:6d}  {'ok' if ok else 'OVER TARGET'}", flush=True)
    print(f"{failed} notebook(s) over target (<= 1.5x floor, <= 300 MB, no errors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
