"""Benchmark: ``driftlab grade --jobs 2`` (a local Dask cluster) against serial ``nbgrader autograde`` on the same submissions.

    python bench/grade.py [--n 100] [--jobs 2] [--quick] [--keep DIR] [--baseline DIR] [--merge-n 10000]
    python bench/grade.py --merge-only [--merge-n 10000] [--keep DIR]   # only the client-side merge (step 8)

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

6. with ``--baseline DIR`` (a checkout of an earlier commit, e.g. ``git archive COMMIT | tar -x -C DIR``
   of the commit before the Dask engine: the home-made pool), that checkout's ``driftlab grade`` on the
   same files (target: this checkout's run no slower than 0.95x of it),
7. ``driftlab grade --jobs 1`` (one Dask worker: the scaling from 1 to J workers; skipped with
   ``--quick``),
8. the client-side merge of ``--merge-n`` synthetic results (files written and read back for
   ``--merge-files`` of them, extrapolated; rows, grades.csv, report, results.json, the merged gradebook),

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


def merge_bench(out: Path, template: Path, modules: list[str], n: int, with_files: int) -> dict[str, float]:
    """Seconds the client spends on ``n`` task results after grading (the run in ``out`` gives real
    notebooks and feedback): receiving (files written, checked), rows (autograded notebooks read for the
    judge's records), grades.csv + report + results.json, and the merged gradebook. Files are handled for
    ``with_files`` results and extrapolated to ``n``."""
    from grader.batch import cli
    from grader.batch import engine as eng
    from grader.batch import intake as ik
    from grader.batch import results as res
    from nbgrader.api import Gradebook

    samples = []
    for nb in sorted((out / "autograded").glob("*/*/*.ipynb")):
        student, module = nb.parts[-3], nb.parts[-2]  # noqa: F841
        fb = out / "feedback" / student / f"{module}.html"
        samples.append((module, nb.read_bytes(), fb.read_bytes() if fb.exists() else None, nb.name))
    with Gradebook(f"sqlite:///{template / 'gradebook.db'}") as gb:
        cells = {m: {c.name: {"score": c.max_score, "max_score": c.max_score, "needs_manual": False}
                     for nb in gb.find_assignment(m).notebooks for c in nb.grade_cells} for m in modules}
    target = out.parent / "merge-bench"
    if target.exists():
        shutil.rmtree(target)
    (target / ".work").mkdir(parents=True)
    engine = eng.Engine([], modules, target / ".work", target)
    times = {}
    t = time.monotonic()
    rows = []
    for i in range(with_files):
        module, notebook, feedback, name = samples[i % len(samples)]
        job = wk.Job(f"s{i:05d}", module, Path("unused"))
        done = engine._receive(job, {"cells": cells[module], "error": None, "autograded": notebook,
                                     "feedback": feedback, "feedback_problem": "", "name": name, "log": ""})
        sub = ik.Submission(student=job.student, module=module, path=Path("unused"), origin="x", pattern="plain")
        rows.append(res.row_for(done, sub, "sha", "key", []))
    per = (time.monotonic() - t) / max(1, with_files)
    if with_files:
        times[f"receive + rows (files, {with_files} measured, x{n / max(1, with_files):g})"] = per * n
    for i in range(with_files, n):  # the rest without files: rows as the client keeps them
        module = modules[i % len(modules)]
        rows.append(res.Row(f"s{i:05d}", module, res.GRADED, score=1.0, max_score=1.0, cells=cells[module],
                            key="key", sha256="sha"))
    found = ik.Intake()
    t = time.monotonic()
    cache: dict = {}
    cli.write_outputs(rows, found, cache, target)
    times["grades.csv + report"] = time.monotonic() - t
    t = time.monotonic()
    cli.write_state(rows, found, cache, target)
    times["results.json"] = time.monotonic() - t
    t = time.monotonic()
    from grader.batch import gradebook as gbm

    gbm.merge(template / "gradebook.db", target / "gradebook.db", rows)
    times["gradebook.db (bulk insert, nbgrader's models)"] = time.monotonic() - t
    times["total"] = sum(times.values())
    shutil.rmtree(target, ignore_errors=True)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="number of submissions (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="workers for driftlab grade (default 2)")
    parser.add_argument("--modules", nargs="*", help="only these modules (default: every module that builds)")
    parser.add_argument("--quick", action="store_true",
                        help="only driftlab grade (full) and serial autograde: no like-for-like runs")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    parser.add_argument("--baseline", type=Path,
                        help="a checkout of an earlier commit (git worktree add DIR COMMIT) whose driftlab grade is "
                             "timed on the same submissions, e.g. the home-made pool before the Dask engine")
    parser.add_argument("--merge-n", type=int, default=10_000,
                        help="synthetic results for the client-side merge benchmark (0: skip; default 10000)")
    parser.add_argument("--merge-only", action="store_true",
                        help="only the client-side merge of --merge-n results (no grading runs; the per-result "
                             "file cost is measured only when --keep DIR holds an earlier run's out/)")
    parser.add_argument("--merge-files", type=int, default=1_000,
                        help="of those, how many also have their notebook and feedback written and read back "
                             "(the per-result file cost, extrapolated to --merge-n; default 1000)")
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
    if args.merge_only:
        files = args.merge_files if (base / "out" / "autograded").is_dir() else 0
        merge_times = merge_bench(base / "out", template, modules, args.merge_n, files)
        print(f"client-side merge of {args.merge_n} synthetic results: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in merge_times.items()))
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        return 0
    corpus = base / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    kinds = make_corpus(corpus, modules, template, args.n)
    print(f"{len(kinds)} submissions: " + ", ".join(f"{k} {list(kinds.values()).count(k)}"
                                                 for k in sorted(set(kinds.values()))))

    def ours(*extra: str, jobs: int | None = None, checkout: Path | None = None) -> tuple[float, float, dict, str]:
        """One ``driftlab grade`` run from a fresh output folder (the generated course handed over).

        ``checkout``: run that checkout's ``driftlab grade`` instead (its course generated first, untimed).
        """
        out = base / "out"
        if out.exists():
            shutil.rmtree(out)
        (out / ".work" / "cache").mkdir(parents=True)
        env, cwd = None, None
        if checkout is None:
            shutil.copytree(template, out / ".work" / "cache" / template.name)
        else:  # its grading code differs, so does its course fingerprint: let it generate its own, untimed
            env, cwd = dict(R.nbgrader_env(), PYTHONPATH=str(checkout)), checkout
            subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                            "from grader.batch import workers as wk; "
                            "wk.template_course(Path(sys.argv[1]), sys.argv[2:])",
                            str(out / ".work" / "cache"), *modules], check=True, env=env, cwd=cwd)
        cpu = _cpu()
        t = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(corpus), "--out", str(out),
                               "--jobs", str(jobs or args.jobs), *extra], capture_output=True, text=True,
                              env=env, cwd=cwd)
        seconds, used = time.monotonic() - t, _cpu() - cpu
        if proc.returncode not in (0, 1):  # 1: some submissions could not be graded (the broken ones)
            raise SystemExit(proc.stdout + proc.stderr)
        generated = [c.name for c in (out / ".work" / "cache").iterdir() if c.is_dir()]
        if checkout is None and generated != [template.name]:  # the code or course changed under the bench
            print(f"WARNING: driftlab grade {' '.join(extra)} generated the course again (time includes it): "
                  "someone edited the course or the grading code during the benchmark")
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
    if args.baseline:
        # --sandbox off on both sides: a checkout's kernel cannot import that checkout's driftlab inside the
        # sandbox (the sandbox shows the installed package), so a sandboxed baseline would grade nothing right
        base_s, base_cpu, base_scores, base_phases = ours("--sandbox", "off", checkout=args.baseline.resolve())
        load.append(os.getloadavg()[0])
    if not args.quick and args.jobs > 1:
        one_s, one_cpu, one_scores, _ = ours(jobs=1)
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
    if args.baseline:
        runs[f"baseline {args.baseline}"] = base_scores
    if not args.quick and args.jobs > 1:
        runs["driftlab grade --jobs 1"] = one_scores
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
          f"(CPU ratio {full_cpu / max(serial_cpu, 1e-9):.2f}: feedback + report are extra work; "
          f"target >= 1.8x on 2 idle cores)")
    if args.baseline:
        print(f"baseline {args.baseline} driftlab grade --jobs {args.jobs} --sandbox off:  {base_s:7.1f} s  CPU {base_cpu:5.0f} s")
        print(f"  phases: {base_phases}")
        print(f"speed, this checkout vs the baseline, both --sandbox off:       {base_s / off_s:.2f}x "
              "(target >= 0.95x: the Dask engine no slower than the old pool)")
        unlike = sorted({m for (s, m) in kinds if base_scores.get((s, m)) != off_scores.get((s, m))})
        if unlike:  # the baseline's own library ran those notebooks: it did other work, not the same work
            print(f"  NOT like for like: the baseline scored {', '.join(unlike)} differently (its driftlab differs); "
                  f"re-run with --modules without them")
    if not args.quick and args.jobs > 1:
        print(f"driftlab grade --jobs 1 (one Dask worker):                      {one_s:7.1f} s  CPU {one_cpu:5.0f} s")
        print(f"scaling, 1 -> {args.jobs} workers:                                  {one_s / full_s:.2f}x")
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
    if args.merge_n:
        merge_times = merge_bench(base / "out", template, modules, args.merge_n, args.merge_files)
        print(f"client-side merge of {args.merge_n} synthetic results: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in merge_times.items()))
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
