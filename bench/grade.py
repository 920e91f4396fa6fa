"""Benchmark: ``driftlab grade --jobs 2`` against serial ``nbgrader autograde`` on the same submissions.

    python bench/grade.py [--n 100] [--jobs 2] [--keep DIR]

Builds N synthetic submissions across the course's modules (right, wrong, untouched, a mix of right
and wrong, and broken: corrupt JSON, empty file, a kernel that exits), then in the same run

1. grades them with ``driftlab grade --jobs J`` (intake, parallel autograde, feedback, report), and
2. autogrades the same files with one serial ``nbgrader autograde MODULE`` per module,

both starting from an already generated course (generation is timed separately, once), and prints
both times, the ratio and whether every (learner, module) got the same score or the same
"not graded" verdict.
"""
from __future__ import annotations

import argparse
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import hostile  # noqa: E402
from grader import nbgrader_run as R  # noqa: E402
from grader.batch import workers as wk  # noqa: E402
from grader.build import modules as course_modules  # noqa: E402

KINDS = ["right", "wrong", "untouched", "mixed", "right", "wrong", "mixed", "broken"]
BROKEN = [hostile.corrupt_json, hostile.empty_file, hostile.kernel_exit]


def make_corpus(dest: Path, modules: list[str], template: Path, n: int, seed: int = 0) -> dict[tuple[str, str], str]:
    """N submissions as ``sNNN__MODULE.ipynb``; returns ``{(student, module): kind}``."""
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    specs = {m: hostile.graded_specs(m, template) for m in modules}
    kinds = {}
    for i in range(n):
        module = modules[i % len(modules)]
        student = f"s{i:03d}"
        kind = KINDS[i % len(KINDS)]  # 8 kinds vs 7 modules: every pairing turns up
        if kind == "mixed":
            mode = {s.id: rng.choice(["right", "wrong", "untouched"]) for s in specs[module]}
            data = hostile._dump(hostile.answered(module, mode, template))
        elif kind == "broken":
            maker = BROKEN[i % len(BROKEN)]
            data = maker(hostile.answered(module, "right", template))
            kind = f"broken:{maker.__name__}"
        else:
            data = hostile._dump(hostile.answered(module, kind, template))
        (dest / f"{student}__{module}.ipynb").write_bytes(data)
        kinds[(student, module)] = kind
    return kinds


def serial_scores(course: Path, modules: list[str]) -> dict[tuple[str, str], str]:
    """Score per submission from a serial run's gradebook ('not graded' where nbgrader gave none)."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for module in modules:
            for sub in gb.assignment_submissions(module):
                grades = [g for nb in sub.notebooks for g in nb.grades]
                if not grades or any(g.auto_score is None or g.needs_manual_grade for g in grades):
                    out[(sub.student_id, module)] = "not graded"
                else:
                    out[(sub.student_id, module)] = f"{sum(g.auto_score for g in grades):g}"
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
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="driftlab-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    wanted = args.modules or course_modules()
    t = time.monotonic()
    template, broken = wk.template_course(base / "cache", wanted)
    generate_s = time.monotonic() - t
    modules = [m for m in wanted if m not in broken and hostile.graded_specs(m, template)]
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

    # 1. driftlab grade --jobs J (the generated course is handed over, as a re-run would find it)
    out = base / "out"
    if out.exists():
        shutil.rmtree(out)
    (out / ".work" / "cache").mkdir(parents=True)
    shutil.copytree(template, out / ".work" / "cache" / template.name)
    load_a = os.getloadavg()[0]
    cpu = _cpu()
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(corpus), "--out", str(out),
                           "--jobs", str(args.jobs)], capture_output=True, text=True)
    parallel_s = time.monotonic() - t
    parallel_cpu = _cpu() - cpu
    load_b = os.getloadavg()[0]
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr)
        return 1
    timings = (out / "timings.json").read_text()
    with open(out / "grades.csv", newline="") as fh:
        ours = {(r["student_id"], r["module"]): (r["score"] if r["status"] == "graded" else "not graded")
                for r in csv.DictReader(fh)}

    # 2. serial nbgrader autograde, one process per module, same files
    course = base / "serial"
    if course.exists():
        shutil.rmtree(course)
    shutil.copytree(template, course)
    for (student, module) in kinds:
        name = wk.notebook_name(course, module)
        R.submit(course, student, module, corpus / f"{student}__{module}.ipynb", name=name)
    load_c = os.getloadavg()[0]
    cpu = _cpu()
    t = time.monotonic()
    for module in modules:
        R.autograde(course, module)
    serial_s = time.monotonic() - t
    serial_cpu = _cpu() - cpu
    load_d = os.getloadavg()[0]
    theirs = serial_scores(course, modules)
    for key in kinds:
        theirs.setdefault(key, "not graded")

    differ = sorted(k for k in kinds if ours.get(k) != theirs.get(k))
    print(f"driftlab grade --jobs {args.jobs} (intake + autograde + feedback + report): {parallel_s:.1f} s")
    print(f"  phases: {' '.join(timings.split())}")
    print(f"serial nbgrader autograde ({len(modules)} process(es)):                  {serial_s:.1f} s")
    print(f"speed-up: {serial_s / parallel_s:.2f}x")
    print(f"CPU seconds used: driftlab grade {parallel_cpu:.0f} s, serial nbgrader {serial_cpu:.0f} s "
          f"(ratio {parallel_cpu / max(serial_cpu, 1e-9):.2f}; feedback + report are extra work)")
    print(f"1-min load average on {os.cpu_count()} cores: driftlab run {load_a:.1f} -> {load_b:.1f}, "
          f"serial run {load_c:.1f} -> {load_d:.1f} (other users' processes compete for the same cores)")
    ideal = serial_cpu / max(parallel_cpu, 1e-9) * min(args.jobs, os.cpu_count() or 1)
    print(f"on otherwise idle cores the CPU ratio bounds the speed-up at about {ideal:.2f}x")
    print(f"scores agree: {'yes' if not differ else 'NO'} ({len(kinds) - len(differ)}/{len(kinds)} identical)")
    for key in differ[:20]:
        print(f"  {key}: driftlab {ours.get(key)!r} vs nbgrader {theirs.get(key)!r} ({kinds[key]})")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
