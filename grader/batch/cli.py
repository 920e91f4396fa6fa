"""``driftlab grade SUBMISSIONS --out DIR [--jobs N | --cluster ADDRESS] [--regrade]``: grades, feedback and a class report.

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
  ``autograded/`` — the executed notebooks; ``.work/`` — the generated course, nbgrader's log per
  submission (``grading.log``).

Grading runs on Dask (:mod:`grader.batch.engine`): a local cluster of ``--jobs`` worker processes,
or an existing scheduler given by ``--cluster ADDRESS``; the same code either way.

Re-running skips every submission whose file, module and grading options are unchanged (keyed by
the file's SHA-256 and a fingerprint of the course) unless ``--regrade`` is given.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from driftlab.errors import DriftLabError
from grader.nbgrader import ROOT, course_config, course_modules

from grader.sandbox import Sandbox, SandboxUnavailable
from grader.sandbox.box import OFF_WARNING

from . import engine as eng
from . import gradebook as gbm
from . import intake as ik
from . import report as rp
from . import results as res
from . import workers as wk
from .files import write_atomic

STATE = "results.json"


class Progress:
    """Progress on stderr: a bar, done / total, per-module counts, elapsed time and an ETA
    (one line per submission when stderr is not a terminal)."""

    def __init__(self, total: int, stream=sys.stderr, modules: dict[str, int] | None = None) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.modules = dict(modules or {})
        self.per_module = {m: 0 for m in self.modules}
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def eta(self) -> str:
        if not self.done or self.done >= self.total:
            return ""
        seconds = (time.monotonic() - self.start) / self.done * (self.total - self.done)
        return f"ETA {int(seconds // 60)}:{int(seconds % 60):02d}"

    def __call__(self, n: int, label: str, module: str | None = None) -> None:
        with self.lock:
            self.done = min(self.total, self.done + n)
            if module in self.per_module:
                self.per_module[module] += n
            width = 30
            filled = int(width * self.done / self.total) if self.total else width
            bar = "#" * filled + "." * (width - filled)
            counts = " ".join(f"{m.split('_')[0]}:{self.per_module[m]}/{self.modules[m]}" for m in sorted(self.modules))
            text = (f"[{bar}] {self.done}/{self.total} autograded  {time.monotonic() - self.start:5.0f} s  "
                    f"{self.eta():>9}  {counts}  {label}")
            if self.tty:
                self.stream.write("\r" + text[:160].ljust(160))
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
    p.add_argument("--jobs", "-j", type=int, default=wk.default_workers(),
                   help="worker processes of the local Dask cluster (default: cores)")
    p.add_argument("--cluster", metavar="ADDRESS", default=None,
                   help="grade on an existing Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a local cluster; "
                        "every worker needs this package and bubblewrap installed")
    p.add_argument("--regrade", action="store_true", help="grade again what is already graded")
    p.add_argument("--module", help="the module of files whose names do not say (single-assignment LMS download)")
    p.add_argument("--timeout", type=int, default=None,
                   help="per-cell time limit in seconds (default: the course's nbgrader_config.py)")
    p.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    p.add_argument("--sandbox", choices=["auto", "bwrap", "off"], default=None,
                   help="run learners' code in bubblewrap: auto = when installed (else a loud warning), "
                        "bwrap = required, off = never (default: the course config's Sandbox.mode, else auto)")
    p.add_argument("--course", type=Path, default=None,
                   help="course directory (nbgrader_config.py + solutions/); default: this repository")
    p.set_defaults(func=run_grade)


def _load_state(out: Path) -> dict[str, dict]:
    """The re-run cache of a previous run in ``out`` (empty when there is none or it is unreadable)."""
    try:
        return json.loads((out / STATE).read_text(encoding="utf-8")).get("cache", {})
    except (OSError, ValueError):
        return {}


def _cache_key(student: str, module: str) -> str:
    return f"{student}\t{module}"


@dataclass
class Plan:
    """What a run does with each submission: a row already (cached or unreadable) or a job for nbgrader."""

    rows: list[res.Row] = field(default_factory=list)
    jobs: list[wk.Job] = field(default_factory=list)
    origin: dict[tuple[str, str], tuple[ik.Submission, str, str, list[str]]] = field(default_factory=dict)
    skipped: int = 0  # rows taken from the cache


def sandbox_warning(mode: str) -> str | None:
    """None when learners' code will run in the sandbox; else why not (every row and the report say so).

    Prints the loud warning; raises DriftLabError for ``--sandbox bwrap`` where bubblewrap cannot run.
    """
    try:
        why = Sandbox(mode=mode).unavailable()
    except SandboxUnavailable as exc:
        raise DriftLabError(f"{exc}. Install bubblewrap (`make setup` does) or use --sandbox auto.") from None
    if why is None:
        return None
    bar = "!" * 100
    print(f"{bar}\nWARNING — " + OFF_WARNING.format(why=why) + f"\n{bar}", file=sys.stderr)
    return why


def check_args(args: argparse.Namespace, course: Path) -> list[str]:
    """The course's modules, once the command line is known to make sense (else DriftLabError)."""
    modules = course_modules(course)
    if args.module and args.module not in modules:
        raise DriftLabError(f"--module {args.module!r} is not a module of this course ({', '.join(modules)})")
    if not args.submissions.exists():
        raise DriftLabError(f"{args.submissions} does not exist")
    return modules


def take_in(args: argparse.Namespace, modules: list[str], work: Path) -> ik.Intake:
    """The submissions and other files of the input (a zip is extracted into ``work``)."""
    folder, skipped = ik.open_input(args.submissions.resolve(), work)
    found = ik.discover(folder, modules, args.module)
    found.unmatched = skipped + found.unmatched
    print(f"found {len(found.submissions)} submissions ({len({s.student for s in found.submissions})} learners), "
          f"{len(found.unmatched)} other files", file=sys.stderr)
    if not found.submissions and not found.unmatched:
        raise DriftLabError("nothing to grade: the input holds no files")
    return found


def _forget(out: Path, student: str, module: str) -> None:
    """Remove a previous run's feedback and autograded notebook of a submission graded again."""
    for stale in (out / "feedback" / student / f"{module}.html", out / "autograded" / student / module):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()


def plan(submissions: list[ik.Submission], cache: dict[str, dict], args: argparse.Namespace, course: Path,
         out: Path, prepared: Path) -> Plan:
    """Reuse cached rows of unchanged submissions; prepare the others for nbgrader (or reject them)."""
    fingerprints = {m: wk.course_fingerprint([m], course) for m in {s.module for s in submissions}}
    todo = Plan()
    for sub in submissions:
        raw = sub.path.read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        key = (f"{sha}:{fingerprints[sub.module]}:timeout={args.timeout}:feedback={not args.no_feedback}"
               f":sandbox={args.unsandboxed is None}")
        old = cache.get(_cache_key(sub.student, sub.module))
        if old and old.get("key") == key and not args.regrade:
            row = res.Row.from_dict(old)
            row.source, row.pattern = sub.origin, sub.pattern
            todo.rows.append(row)
            todo.skipped += 1
            continue
        _forget(out, sub.student, sub.module)
        prep = ik.prepare(raw)
        notes = ([sub.note] if sub.note else []) + prep.notes + ([f"not sandboxed: {args.unsandboxed}"] if args.unsandboxed else [])
        if prep.content is None:
            todo.rows.append(res.Row(sub.student, sub.module, res.NOT_GRADED, reason=prep.reason, source=sub.origin,
                                     pattern=sub.pattern, sha256=sha, key=key, notes="; ".join(notes)))
            continue
        path = prepared / sub.student / f"{sub.module}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(prep.content)
        todo.jobs.append(wk.Job(sub.student, sub.module, path, key))
        todo.origin[(sub.student, sub.module)] = (sub, sha, key, notes)
    return todo


def autograde(todo: Plan, args: argparse.Namespace, modules: list[str], course: Path, work: Path,
              out: Path) -> tuple[list[res.Row], eng.Engine]:
    """Grade the planned jobs on a Dask cluster (local, or ``--cluster``); their rows and the engine
    (its template course)."""
    cluster = getattr(args, "cluster", None)
    workers = max(1, min(args.jobs, len(todo.jobs)))
    where = f"on the Dask cluster {cluster}" if cluster else f"with {workers} local worker(s)"
    print(f"autograding {len(todo.jobs)} submissions {where}…", file=sys.stderr)
    per_module: dict[str, int] = {}
    for job in todo.jobs:
        per_module[job.module] = per_module.get(job.module, 0) + 1
    engine = eng.Engine(todo.jobs, modules, work, out, workers=workers, cluster=cluster, timeout=args.timeout,
                        feedback=not args.no_feedback, sandbox=args.sandbox, root=course,
                        progress=Progress(len(todo.jobs), modules=per_module),
                        say=lambda text: print(text, file=sys.stderr))
    rows = []
    for (student, module), done in sorted(engine.run().items()):
        sub, sha, key, notes = todo.origin[(student, module)]
        row = res.row_for(done, sub, sha, key, notes)
        if row.feedback:
            row.feedback = str(Path(row.feedback).relative_to(out))
        rows.append(row)
    return rows, engine


def with_missing(rows: list[res.Row], submissions: list[ik.Submission], default_module: str | None) -> list[res.Row]:
    """Every learner for every module that anyone handed in: a missing notebook is a row too (sorted)."""
    students = sorted({s.student for s in submissions})
    handed_in = sorted({s.module for s in submissions} | ({default_module} if default_module else set()))
    have = {(r.student_id, r.module) for r in rows}
    reason = "missing notebook: no submission of this module was found"
    missing = [res.Row(student, module, res.NOT_GRADED, reason=reason)
               for student in students for module in handed_in if (student, module) not in have]
    return sorted(rows + missing, key=lambda r: (r.student_id, r.module))


def merge_gradebook(rows: list[res.Row], template: Path | None, course: Path, work: Path, out: Path) -> None:
    """``out/gradebook.db``: the generated course's gradebook plus every autograded submission."""
    merged = sorted({r.module for r in rows if r.cells})
    if not merged:
        return
    if template is None or not all((template / "solutions" / m).is_dir() for m in merged):
        template, _ = wk.template_course(work / "cache", merged, course)  # rows from the cache only
    gbm.merge(template / "gradebook.db", out / "gradebook.db", rows)


def write_outputs(rows: list[res.Row], found: ik.Intake, cache: dict[str, dict], out: Path,
                  warning: str | None = None) -> None:
    """grades.csv, unmatched.csv and report.html, each written whole (``warning`` heads the report)."""
    for row in rows:
        if row.key:
            cache[_cache_key(row.student_id, row.module)] = row.as_dict()
    res.write_csv(rows, out / "grades.csv")
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["file", "reason"])
    for u in found.unmatched:
        writer.writerow([u.origin, u.reason])
    write_atomic(out / "unmatched.csv", text.getvalue())
    rp.render(rows, found.unmatched, out / "report.html", warning=warning)


def write_state(rows: list[res.Row], found: ik.Intake, cache: dict[str, dict], out: Path) -> None:
    """results.json: every row and unmatched file, and the re-run cache."""
    write_atomic(out / STATE, json.dumps({
        "rows": [r.as_dict() for r in rows],
        "unmatched": [u.__dict__ for u in found.unmatched],
        "cache": cache}, indent=1))


def run_grade(args: argparse.Namespace) -> int:
    """The whole pipeline; returns the exit code (0 when the batch completed, 2 for a bad input)."""
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    course = (args.course or ROOT).resolve()
    out = args.out.resolve()
    work = out / ".work"
    try:
        args.sandbox = args.sandbox or course_config(course).Sandbox.get("mode", "auto")
        args.unsandboxed = sandbox_warning(args.sandbox)
        modules = check_args(args, course)
        work.mkdir(parents=True, exist_ok=True)
        found = take_in(args, modules, work)
    except DriftLabError as exc:
        print(exc, file=sys.stderr)
        return 2
    timings["intake"] = time.monotonic() - t0

    cache = _load_state(out)
    todo = plan(found.submissions, cache, args, course, out, work / "prepared")
    timings["prepare"] = time.monotonic() - t0 - timings["intake"]
    if todo.skipped:
        print(f"{todo.skipped} already graded with the same file and course (use --regrade to grade again)",
              file=sys.stderr)
    rows, template = list(todo.rows), None
    if todo.jobs:
        t1 = time.monotonic()
        try:
            graded, engine = autograde(todo, args, modules, course, work, out)
        except DriftLabError as exc:
            print(exc, file=sys.stderr)
            return 2
        rows, template = rows + graded, engine.template
        timings["autograde+feedback"] = time.monotonic() - t1
        timings.update({f"engine: {k}": v for k, v in engine.stats.items()})  # cluster start, course shipped …
    rows = with_missing(rows, found.submissions, args.module)

    t2 = time.monotonic()
    write_outputs(rows, found, cache, out, warning=args.unsandboxed and OFF_WARNING.format(why=args.unsandboxed))
    merge_gradebook(rows, template, course, work, out)
    write_state(rows, found, cache, out)
    timings["report"] = time.monotonic() - t2
    timings["total"] = time.monotonic() - t0
    write_atomic(out / "timings.json", json.dumps(timings, indent=1))
    shutil.rmtree(work / "dask", ignore_errors=True)  # the local cluster's scratch space

    graded_n = sum(r.status == res.GRADED for r in rows)
    print(f"{graded_n} graded, {len(rows) - graded_n} could not be graded, {len(found.unmatched)} files not graded; "
          f"{timings['total']:.1f} s", file=sys.stderr)
    print(f"wrote {out / 'grades.csv'}, {out / 'report.html'}, {out / 'feedback'}/", file=sys.stderr)
    return 0
