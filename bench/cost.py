"""Benchmark: what one submission costs on one task slot — the numbers docs/SCALING.md's cost model uses.

    python bench/cost.py [--per-module 3] [--modules 01_why_models_degrade ...] [--keep DIR]

Grades ``--per-module`` synthetic submissions (right, wrong, untouched, …) of every module with
``driftlab grade --jobs 1`` (one Dask worker, one thread, the sandbox as configured) from an already
generated course, while a sampler walks the run's process tree from ``/proc`` every 50 ms and keeps
each process's CPU seconds (utime + stime) and peak resident set (VmHWM). Prints the CPU and peak
memory per kind of process (the learner's kernel, the judge, the autograder, the Dask worker, the
client), the kernel CPU per module (with one slot the kernels run one after another, in the order of
the run's grading.log), the worker-side wall time per submission, and the bytes in and out per
submission.

Processes that live less than 50 ms are missed; the sampler's own CPU is not counted.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch import synthetic as syn  # noqa: E402
from grader.batch import workers as wk  # noqa: E402
from grader.nbgrader import course_modules  # noqa: E402
from notebooks import peak_rss_mb  # noqa: E402  (bench/notebooks.py: VmHWM of a process, in MB)

MODES = ["right", "wrong", "untouched"]


def kind_of(cmdline: list[str]) -> str:
    """Which part of a grading run a process is, from its command line."""
    text = " ".join(cmdline)
    if cmdline and ("bwrap" in Path(cmdline[0]).name or "enter.py" in text):
        return "other (bwrap, sandbox launcher, resource tracker)"
    if "ipykernel" in text:
        return "kernel (learner's notebook, sandboxed)"
    if "driftlab.exercises.runner" in text:
        return "judge (driftlab.exercises.runner, sandboxed)"
    if "grader.batch.autograder" in text:
        return "autograder (nbgrader in-process, one per slot)"
    if "grader.cli" in text:
        return "client (driftlab grade)"
    if "multiprocessing" in text or "distributed" in text:
        return "Dask worker process"
    return "other (bwrap, sandbox launcher, resource tracker)"


class Sampler(threading.Thread):
    """Every ``interval`` s: the latest CPU seconds and VmHWM of every process under ``root``."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root, self.interval, self.stop = root, interval, threading.Event()
        self.seen: dict[int, dict] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                top = psutil.Process(self.root)
                procs = [top] + top.children(recursive=True)
            except psutil.Error:
                return
            for p in procs:
                try:
                    with p.oneshot():
                        times = p.cpu_times()
                        entry = self.seen.setdefault(p.pid, {"cmdline": p.cmdline(), "started": p.create_time(),
                                                             "cpu": 0.0, "hwm": 0.0})
                        entry["cpu"] = max(entry["cpu"], times.user + times.system)
                    entry["hwm"] = max(entry["hwm"], peak_rss_mb(p.pid))
                except (psutil.Error, OSError):
                    continue
            self.stop.wait(self.interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-module", type=int, default=3, help="submissions per module (default 3)")
    parser.add_argument("--modules", nargs="*", help="only these modules (default: every module)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="driftlab-cost-"))
    base.mkdir(parents=True, exist_ok=True)
    modules = args.modules or course_modules()
    template, broken = wk.template_course(base / "cache", modules)
    if broken:
        raise SystemExit(f"modules that do not build: {broken}")
    corpus = base / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir()
    for module in modules:
        for i in range(args.per_module):
            data = syn.dump(syn.answered(module, MODES[i % len(MODES)], template))
            (corpus / f"s{i:02d}{module[:2]}__{module}.ipynb").write_bytes(data)
    n = len(modules) * args.per_module
    out = base / "out"
    shutil.rmtree(out, ignore_errors=True)
    (out / ".work" / "cache").mkdir(parents=True)
    shutil.copytree(template, out / ".work" / "cache" / template.name)

    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", "grade", str(corpus), "--out", str(out), "--jobs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    wall = time.monotonic() - start
    sampler.stop.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(err[-3000:])

    by_kind: dict[str, list[dict]] = defaultdict(list)
    for entry in sampler.seen.values():
        by_kind[kind_of(entry["cmdline"])].append(entry)
    seconds: dict[str, list[float]] = defaultdict(list)
    order = []
    log = out / ".work" / "grading.log"
    if log.exists():
        for found in re.finditer(r"^--- \S+ · (\S+) on \S*: ([\d.]+) s$", log.read_text(), re.M):
            seconds[found.group(1)].append(float(found.group(2)))
            order.append(found.group(1))
    # a notebook's kernel imports the scientific stack (> 0.3 CPU-s); shorter ipykernel processes are not one
    kernels = sorted((e for e in by_kind.get("kernel (learner's notebook, sandboxed)", []) if e["cpu"] > 0.3),
                     key=lambda e: e["started"])
    kernel_cpu: dict[str, list[float]] = defaultdict(list)
    if len(kernels) == len(order):  # one kernel per submission, one at a time: the log's order is theirs
        for module, entry in zip(order, kernels):
            kernel_cpu[module].append(entry["cpu"])
    else:
        print(f"(kernel CPU per module unknown: {len(kernels)} notebook kernels seen for {len(order)} submissions "
              "in grading.log)")
    sent = {m: statistics.mean(p.stat().st_size for p in corpus.glob(f"*__{m}.ipynb")) for m in modules}
    back = {m: sum(p.stat().st_size for p in (out / "autograded").glob(f"*/{m}/*.ipynb"))
            + sum(p.stat().st_size for p in (out / "feedback").glob(f"*/{m}.html")) for m in modules}

    print(f"driftlab grade --jobs 1 on {n} submissions ({args.per_module} per module): {wall:.1f} s wall, "
          f"{wall / n:.2f} s per submission")
    print(f"{'module':32s} {'worker s':>9s} {'kernel CPU s':>13s} {'in KB':>7s} {'out KB':>7s}")
    for m in modules:
        worker = f"{statistics.mean(seconds[m]):.1f}" if seconds[m] else "?"
        kernel = f"{statistics.mean(kernel_cpu[m]):.1f}" if kernel_cpu[m] else "?"
        print(f"{m:32s} {worker:>9s} {kernel:>13s} {sent[m] / 1024:7.0f} {back[m] / args.per_module / 1024:7.0f}")
    total = 0.0
    print(f"\n{'process':52s} {'CPU s':>7s} {'per submission':>15s} {'peak RSS MB':>12s}")
    for kind, entries in sorted(by_kind.items()):
        cpu = sum(e["cpu"] for e in entries)
        total += cpu
        print(f"{kind:52s} {cpu:7.1f} {cpu / n:15.2f} {max(e['hwm'] for e in entries):12.0f}")
    print(f"{'everything sampled':52s} {total:7.1f} {total / n:15.2f}")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
