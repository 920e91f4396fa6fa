"""``driftlab grade SUBMISSIONS --out DIR [--jobs N] [--regrade]``: grades, feedback and a class report.

Writes into DIR:

* ``grades.csv`` — one row per learner and module: ``student_id, module, score, max_score, status,
  reason, notes, source, pattern, feedback``; ``status`` is ``graded`` or ``could not grade`` (then
  ``score`` is empty and ``reason`` says why). A learner who handed in some modules but not others
  gets a ``could not grade`` row (missing notebook) for each module that others handed in.
* ``unmatched.csv`` — every input file that was not graded, with the reason.
* ``feedback/STUDENT/MODULE.html`` — nbgrader's feedback (mistakes, worked solutions, no hidden tests).
* ``gradebook.db`` — one nbgrader gradebook with every autograded submission (merged from the
  workers' gradebooks; ``nbgrader export --db sqlite:///DIR/gradebook.db`` works on it).
* ``report.html`` — the class report; ``results.json`` — everything above, and the re-run cache;
  ``autograded/`` — the executed notebooks; ``.work/`` — scratch courses and nbgrader logs.

Re-running skips every submission whose file, module and grading options are unchanged (keyed by
the file's SHA-256 and a fingerprint of the course) unless ``--regrade`` is given.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import sys
import threading
import time
from pathlib import Path

from grader.nbgrader import course_modules

from . import gradebook as gbm
from . import intake as ik
from . import report as rp
from . import results as res
from . import workers as wk

STATE = "results.json"


class Progress:
    """A text progress bar on stderr (one line per step when stderr is not a terminal)."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, n: int, label: str) -> None:
        with self.lock:
            self.done = min(self.total, self.done + n)
            width = 30
            filled = int(width * self.done / self.total) if self.total else width
            bar = "#" * filled + "." * (width - filled)
            text = f"[{bar}] {self.done}/{self.total} autograded  {time.monotonic() - self.start:5.0f} s  {label}"
            if self.tty:
                self.stream.write("\r" + text[:120].ljust(120))
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(text + "\n")
            self.stream.flush()


def add_grade_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``driftlab grade``."""
    p = subparsers.add_parser(
        "grade", help="grade a folder or zip of submissions with nbgrader (grades, feedback, report)",
        description=__doc__ + "\n" + ik.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", type=Path, help="a folder or a .zip as downloaded (nbgrader, Canvas, Moodle, plain)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created; re-used on re-runs)")
    p.add_argument("--jobs", "-j", type=int, default=wk.default_workers(), help="parallel workers (default: cores)")
    p.add_argument("--regrade", action="store_true", help="grade again what is already graded")
    p.add_argument("--module", help="the module of files whose names do not say (single-assignment LMS download)")
    p.add_argument("--timeout", type=int, default=None,
                   help="per-cell time limit in seconds (default: the course's nbgrader_config.py)")
    p.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    p.add_argument("--course", type=Path, default=None,
                   help="course directory (nbgrader_config.py + solutions/); default: this repository")
    p.set_defaults(func=run_grade)


def _load_state(out: Path) -> dict[str, dict]:
    try:
        return json.loads((out / STATE).read_text(encoding="utf-8")).get("cache", {})
    except (OSError, ValueError):
        return {}


def _cache_key(student: str, module: str) -> str:
    return f"{student}\t{module}"


def run_grade(args: argparse.Namespace) -> int:
    """The whole pipeline; returns the exit code (0 when the batch completed)."""
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    course = (args.course or wk.ROOT).resolve()
    modules = course_modules(course)
    if args.module and args.module not in modules:
        print(f"--module {args.module!r} is not a module of this course ({', '.join(modules)})", file=sys.stderr)
        return 2
    if not args.submissions.exists():
        print(f"{args.submissions} does not exist", file=sys.stderr)
        return 2
    out = args.out.resolve()
    work = out / ".work"
    work.mkdir(parents=True, exist_ok=True)
    root = ik.open_input(args.submissions.resolve(), work)
    found = ik.discover(root, modules, args.module)
    timings["intake"] = time.monotonic() - t0
    print(f"found {len(found.submissions)} submissions ({len({s.student for s in found.submissions})} learners), "
          f"{len(found.unmatched)} other files", file=sys.stderr)
    if not found.submissions and not found.unmatched:
        print("nothing to grade: the input holds no files", file=sys.stderr)
        return 2

    cache = _load_state(out)
    fingerprints = {m: wk.course_fingerprint([m], course) for m in {s.module for s in found.submissions}}
    rows: list[res.Row] = []
    jobs: list[wk.Job] = []
    meta: dict[tuple[str, str], tuple] = {}
    prepared = work / "prepared"
    skipped = 0
    for sub in found.submissions:
        raw = sub.path.read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        key = f"{sha}:{fingerprints[sub.module]}:timeout={args.timeout}:feedback={not args.no_feedback}"
        old = cache.get(_cache_key(sub.student, sub.module))
        if old and old.get("key") == key and not args.regrade:
            row = res.Row.from_dict(old)
            row.source, row.pattern = sub.origin, sub.pattern
            rows.append(row)
            skipped += 1
            continue
        for stale in (out / "feedback" / sub.student / f"{sub.module}.html", out / "autograded" / sub.student / sub.module):
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
        prep = ik.prepare(raw)
        if prep.content is None:
            rows.append(res.Row(sub.student, sub.module, res.NOT_GRADED, reason=prep.reason, source=sub.origin,
                                pattern=sub.pattern, sha256=sha, key=key))
            continue
        path = prepared / sub.student / f"{sub.module}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(prep.content)
        jobs.append(wk.Job(sub.student, sub.module, path, key))
        meta[(sub.student, sub.module)] = (sub, sha, key, prep.notes)
    timings["prepare"] = time.monotonic() - t0 - timings["intake"]
    if skipped:
        print(f"{skipped} already graded with the same file and course (use --regrade to grade again)", file=sys.stderr)

    pool = None
    if jobs:
        workers = max(1, min(args.jobs, len(jobs)))
        print(f"autograding {len(jobs)} submissions with {workers} worker(s)…", file=sys.stderr)
        t1 = time.monotonic()
        pool = wk.Pool(jobs, modules, work, out, workers=workers, timeout=args.timeout,
                       feedback=not args.no_feedback, progress=Progress(len(jobs)), root=course)
        done = pool.run()
        timings["autograde+feedback"] = time.monotonic() - t1
        for (student, module), d in sorted(done.items()):
            sub, sha, key, notes = meta[(student, module)]
            row = res.row_for(d, sub, sha, key, notes)
            if row.feedback:
                row.feedback = str(Path(row.feedback).relative_to(out))
            rows.append(row)

    # every learner appears for every module that anyone handed in
    students = sorted({s.student for s in found.submissions})
    handed_in = sorted({s.module for s in found.submissions} | ({args.module} if args.module else set()))
    have = {(r.student_id, r.module) for r in rows}
    for student in students:
        for module in handed_in:
            if (student, module) not in have:
                rows.append(res.Row(student, module, res.NOT_GRADED,
                                    reason="missing notebook: no submission of this module was found"))
    rows.sort(key=lambda r: (r.student_id, r.module))

    t2 = time.monotonic()
    for row in rows:
        if row.key:
            cache[_cache_key(row.student_id, row.module)] = row.as_dict()
    res.write_csv(rows, out / "grades.csv")
    with open(out / "unmatched.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "reason"])
        for u in found.unmatched:
            writer.writerow([u.origin, u.reason])
    rp.render(rows, found.unmatched, out / "report.html")
    merged = sorted({r.module for r in rows if r.cells})
    if merged:
        template = pool.template if pool is not None and pool.template is not None else None
        if template is None or not all((template / "solutions" / m).is_dir() for m in merged):
            template, _ = wk.template_course(work / "cache", merged, course)
        gbm.merge(template / "gradebook.db", out / "gradebook.db", rows)
    (out / STATE).write_text(json.dumps({
        "rows": [r.as_dict() for r in rows],
        "unmatched": [u.__dict__ for u in found.unmatched],
        "cache": cache}, indent=1), encoding="utf-8")
    timings["report"] = time.monotonic() - t2
    timings["total"] = time.monotonic() - t0
    (out / "timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    for folder in work.glob("worker-*"):
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)

    graded = sum(r.status == res.GRADED for r in rows)
    print(f"{graded} graded, {len(rows) - graded} could not be graded, {len(found.unmatched)} files not graded; "
          f"{timings['total']:.1f} s", file=sys.stderr)
    print(f"wrote {out / 'grades.csv'}, {out / 'report.html'}, {out / 'feedback'}/", file=sys.stderr)
    return 0
