"""Benchmark: ``driftlab grade --jobs 2`` against serial ``nbgrader autograde`` on the same submissions.

    python bench/grade.py [--n 100] [--jobs 2] [--quick] [--keep DIR]

Builds N synthetic submissions across the course's modules (right, wrong, untouched, a mix of right
and wrong, and broken: corrupt JSON, empty file, a kernel that exits), then in the same run

1. grades them with ``driftlab grade --jobs J`` (intake, parallel autograde, feedback, report), with
   every kernel in the grading sandbox (bubblewrap, the default),
2. again with ``--sandbox off`` (the sandbox's overhead: target ≤ 15 % of wall time),
3. again with ``--no-feedback`` (grades and report only; skipped with ``--quick``),
4. autogrades the same files with one serial ``nbgrader autograde MODULE`` per module (sandboxed too:
   the course config's Execute step), and
5. writes nbgrader's feedback with one serial ``nbgrader generate_feedback MODULE`` per module
   (skipped with ``--quick``),

all starting from an already generated course (generation is timed separately, once), and prints
the times, the ratios — the whole ``driftlab grade`` against serial autograde alone (the headline),
and like for like: grades against autograde, grades + feedback against autograde + generate_feedback
— the CPU seconds each used, and whether every (learner, module) got the same score or the same
"not graded" verdict in every run.
"""
from __future__ import annotations

import argparse
import copy
import csv
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from driftlab.protocol import ANSWER_SUFFIX, exercise_of  # noqa: E402
from grader import nbgrader as R  # noqa: E402
from grader.batch import synthetic as syn  # noqa: E402
from grader.batch import workers as wk  # noqa: E402
from grader.nbgrader import course_modules  # noqa: E402


def corrupt_json(nb: Any) -> bytes:
    """The first half of the file."""
    raw = syn.dump(nb)
    return raw[: len(raw) // 2]


def empty_file(nb: Any) -> bytes:
    """Nothing at all."""
    return b""


def kernel_exit(nb: Any) -> bytes:
    """A cell that kills the kernel (``os._exit``) after the first answer."""
    nb = copy.deepcopy(nb)
    first = next(i for i, c in enumerate(nb.cells)
                 if exercise_of(syn.grade_id(c) or "", ANSWER_SUFFIX))
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    return syn.dump(nb)


KINDS = ["right", "wrong", "untouched", "mixed", "right", "wrong", "mixed", "broken"]
BROKEN = [corrupt_json, empty_file, kernel_exit]


def make_corpus(dest: Path, modules: list[str], template: Path, n: int, seed: int = 0) -> dict[tuple[str, str], str]:
    """N submissions as ``sNNN__MODULE.ipynb``; returns ``{(student, module): kind}``."""
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    specs = {m: syn.graded_specs(m, template) for m in modules}
    kinds = {}
    for i in range(n):
        module = modules[i % len(modules)]
        student = f"s{i:03d}"
        kind = KINDS[i % len(KINDS)]  # 8 kinds vs 7 modules: every pairing turns up
        if kind == "mixed":
            mode = {s.id: rng.choice(["right", "wrong", "untouched"]) for s in specs[module]}
            data = syn.dump(syn.answered(module, mode, template))
        elif kind == "broken":
            maker = BROKEN[i % len(BROKEN)]
            data = maker(syn.answered(module, "right", template))
            kind = f"broken:{maker.__name__}"
        else:
            data = syn.dump(syn.answered(module, kind, template))
        (dest / f"{student}__{module}.ipynb").write_bytes(data)
        kinds[(student, module)] = kind
    return kinds


def serial_scores(course: Path, submissions: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Score per submission from a serial run's gradebook ('not graded' where nbgrader gave none)."""
    out = {}
    for student, module in submissions:
        cells = R.cell_scores(course, module, student)
        if not cells or any(c.score is None or c.needs_manual for c in cells.values()):
            out[(student, module)] = "not graded"
        else:
            out[(student, module)] = f"{sum(c.score for c in cells.values()):g}"
    return out


def _cpu() -> float:
    """CPU seconds (user + system) of finished child processes and their waited-for descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="number of submissions (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="workers for driftlab grade (default 2)")
    parser.add_argument("--modules", nargs="*", help="only these modules (default: every module that builds)")
    parser.add_argument("--quick", action="store_true",
                        help="only driftlab grade (full) and serial autograde: no like-for-like runs")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="driftlab-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    wanted = args.modules or course_modules()
    t = time.monotonic()
    template, broken = wk.template_course(base / "cache", wanted)
    generate_s = time.monotonic() - t
    modules = [m for m in wanted if m not in broken and syn.graded_specs(m, template)]
    for m, err in broken.items():
        print(f"skipping {m}: it does not build ({err})")
    if modules != wanted:  # driftlab grade looks for a course generated for exactly these modules
        template, _ = wk.template_course(base / "cache", modules)
        generate_s = time.monotonic() - t
    print(f"generated {', '.join(modules)} once in {generate_s:.1f} s (not counted below)")
    corpus = base / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    kinds = make_corpus(corpus, modules, template, args.n)
    print(f"{len(kinds)} submissions: " + ", ".join(f"{k} {list(kinds.values()).count(k)}"
                                                 for k in sorted(set(kinds.values()))))

    def ours(*extra: str) -> tuple[float, float, dict, str]:
        """One ``driftlab grade`` run from a fresh output folder (the generated course handed over)."""
        out = base / "out"
        if out.exists():
            shutil.rmtree(out)
        (out / ".work" / "cache").mkdir(parents=True)
        shutil.copytree(template, out / ".work" / "cache" / template.name)
        cpu = _cpu()
        t = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(corpus), "--out", str(out),
                               "--jobs", str(args.jobs), *extra], capture_output=True, text=True)
        seconds, used = time.monotonic() - t, _cpu() - cpu
        if proc.returncode != 0:
            raise SystemExit(proc.stdout + proc.stderr)
        with open(out / "grades.csv", newline="") as fh:
            scores = {(r["student_id"], r["module"]): (r["score"] if r["status"] == "graded" else "not graded")
                      for r in csv.DictReader(fh)}
        return seconds, used, scores, " ".join((out / "timings.json").read_text().split())

    load = [os.getloadavg()[0]]
    full_s, full_cpu, full_scores, full_phases = ours()
    load.append(os.getloadavg()[0])
    off_s, off_cpu, off_scores, _ = ours("--sandbox", "off")
    load.append(os.getloadavg()[0])
    if not args.quick:
        bare_s, bare_cpu, bare_scores, _ = ours("--no-feedback")
        load.append(os.getloadavg()[0])

    # serial nbgrader: one autograde process per module, then one generate_feedback per module
    course = base / "serial"
    if course.exists():
        shutil.rmtree(course)
    shutil.copytree(template, course)
    for (student, module) in kinds:
        name = wk.notebook_name(course, module)
        R.submit(course, student, module, corpus / f"{student}__{module}.ipynb", name=name)
    cpu = _cpu()
    t = time.monotonic()
    for module in modules:
        R.autograde(course, module)
    serial_s, serial_cpu = time.monotonic() - t, _cpu() - cpu
    load.append(os.getloadavg()[0])
    theirs = serial_scores(course, list(kinds))
    if not args.quick:
        cpu = _cpu()
        t = time.monotonic()
        for module in modules:
            R.run_nbgrader(course, "generate_feedback", module, "--force", "--log-level=WARN", check=False)
        feedback_s, feedback_cpu = time.monotonic() - t, _cpu() - cpu
        load.append(os.getloadavg()[0])

    runs = {"driftlab grade": full_scores, "driftlab grade --sandbox off": off_scores}
    if not args.quick:
        runs["driftlab grade --no-feedback"] = bare_scores
    differ = {name: sorted(k for k in kinds if got.get(k) != theirs.get(k)) for name, got in runs.items()}
    cores = min(args.jobs, os.cpu_count() or 1)
    print(f"driftlab grade --jobs {args.jobs} (intake + autograde + feedback + report): {full_s:7.1f} s  CPU {full_cpu:5.0f} s")
    print(f"  phases: {full_phases}")
    print(f"driftlab grade --jobs {args.jobs} --sandbox off (no bubblewrap):          {off_s:7.1f} s  CPU {off_cpu:5.0f} s")
    if not args.quick:
        print(f"driftlab grade --jobs {args.jobs} --no-feedback (grades + report):      {bare_s:7.1f} s  CPU {bare_cpu:5.0f} s")
    print(f"serial nbgrader autograde ({len(modules)} processes, sandboxed):           {serial_s:7.1f} s  CPU {serial_cpu:5.0f} s")
    print(f"sandbox overhead, driftlab grade sandboxed vs --sandbox off:    {full_s / off_s - 1:+.1%} wall "
          f"({full_cpu / max(off_cpu, 1e-9) - 1:+.1%} CPU; target <= +15% wall)")
    if not args.quick:
        print(f"serial nbgrader generate_feedback ({len(modules)} processes):              {feedback_s:7.1f} s  CPU {feedback_cpu:5.0f} s")
    print(f"speed-up, driftlab grade vs serial autograde:                   {serial_s / full_s:.2f}x "
          f"(CPU ratio {full_cpu / max(serial_cpu, 1e-9):.2f}: feedback + report are extra work)")
    if not args.quick:
        print(f"speed-up, like for like, grades: --no-feedback vs autograde:     {serial_s / bare_s:.2f}x "
              f"(CPU ratio {bare_cpu / max(serial_cpu, 1e-9):.2f})")
        print(f"speed-up, like for like, grades + feedback:                     "
              f"{(serial_s + feedback_s) / full_s:.2f}x (CPU ratio {full_cpu / max(serial_cpu + feedback_cpu, 1e-9):.2f})")
    print("  (CPU: getrusage of waited-for children; the processes inside a bubblewrap sandbox are not counted, "
          "so sandboxed runs show only nbgrader's own CPU — compare CPU with --sandbox off)")
    print(f"on {cores} otherwise idle cores the CPU ratio bounds the headline speed-up at about "
          f"{serial_cpu / max(full_cpu, 1e-9) * cores:.2f}x")
    print(f"1-min load average on {os.cpu_count()} cores before/after each run: "
          + " -> ".join(f"{x:.1f}" for x in load) + " (other users' processes compete for the same cores)")
    for name, keys in differ.items():
        print(f"scores agree, {name} vs serial nbgrader: {'yes' if not keys else 'NO'} "
              f"({len(kinds) - len(keys)}/{len(kinds)} identical)")
        for key in keys[:20]:
            print(f"  {key}: {runs[name].get(key)!r} vs nbgrader {theirs.get(key)!r} ({kinds[key]})")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if not any(differ.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
