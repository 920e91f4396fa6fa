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

DIR is a store that each run merges into: a later batch, or ``--student ID``, adds or regrades those
learners and keeps every other learner's rows. Each finished submission is saved at once
(``.progress/``), so an interrupted run (Ctrl-C) resumes where it stopped. Also written:
``exercises.csv`` (one line per learner, module and exercise: score, status, misconception and its
readable name) and, with ``--lms canvas|moodle``, the LMS's import file (``canvas_import.csv`` /
``moodle_import.csv``) and ``lms_not_graded.csv``.

Refused (one line, exit code 2, nothing written): DIR inside SUBMISSIONS or the reverse; DIR at a
course root; an existing DIR that is not an output of this command (unless ``--force``); a module
that cannot be built (its exercise and cell named). ``--dry-run`` lists which file becomes which
learner and module, and what is skipped and why, and grades nothing. Exit code 0 when every
submission was graded, 1 when any could not be, 2 for a refused command line, 130 when interrupted.
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
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from driftlab.errors import DriftLabError
from grader.nbgrader import ROOT, course_config, course_modules

from grader.sandbox import Sandbox, SandboxUnavailable
from grader.sandbox.box import OFF_WARNING

from . import engine as eng
from . import gradebook as gbm
from . import intake as ik
from . import lms as lmsx
from . import report as rp
from . import results as res
from . import safety
from . import workers as wk
from .files import safe_row, write_atomic

STATE = "results.json"
PROGRESS = ".progress"  # one file per submission finished by a run that has not ended yet
MISSING = "missing notebook: no submission of this module was found"
NO_LIMIT_BUDGET = 24 * 3600.0  # --timeout none: the per-submission backstop is a day


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
    p.add_argument("submissions", type=Path,
                   help="a folder or a .zip as downloaded (nbgrader, Canvas, Moodle, plain), or one .ipynb")
    p.add_argument("--out", type=Path, required=True,
                   help="output folder (created; a store that later runs merge into; never inside SUBMISSIONS)")
    p.add_argument("--jobs", "-j", type=_option(safety.parse_jobs), default=wk.default_workers(),
                   help="worker processes of the local Dask cluster (default: cores)")
    p.add_argument("--cluster", metavar="ADDRESS", default=None,
                   help="grade on an existing Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a local cluster; "
                        "every worker needs this package and bubblewrap installed")
    p.add_argument("--worker-wait", type=_option(safety.parse_worker_wait), default=eng.WORKER_WAIT,
                   metavar="SECONDS",
                   help=f"give up on what is left when the cluster has had no worker this long (batch jobs "
                        f"queued or ended; default {eng.WORKER_WAIT}); a re-run grades it")
    p.add_argument("--regrade", action="store_true", help="grade again what is already graded")
    p.add_argument("--module", help="the module of files whose names do not say (single-assignment LMS download)")
    p.add_argument("--timeout", type=_option(safety.parse_timeout), default=None,
                   help="per-cell time limit: whole seconds >= 1, or 'none' for no limit "
                        "(default: the course's nbgrader_config.py)")
    p.add_argument("--student", action="append", metavar="ID",
                   help="grade only this learner (repeatable); everyone else's rows in --out are kept")
    p.add_argument("--dry-run", action="store_true",
                   help="list which file becomes which learner and module (and what is skipped, why); grade nothing")
    p.add_argument("--force", action="store_true",
                   help="write into an existing --out that is not an output of this command")
    p.add_argument("--lms", choices=["canvas", "moodle"], default=None,
                   help="also write the LMS's gradebook import file (canvas_import.csv / moodle_import.csv)")
    p.add_argument("--lms-column", action="append", metavar="MODULE=HEADER",
                   help="the import file's column for a module, e.g. 08_test='Final test (4711)' (Canvas: "
                        "NAME (ASSIGNMENT_ID) updates that assignment); default: the module id")
    p.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    p.add_argument("--sandbox", choices=["auto", "bwrap", "off"], default=None,
                   help="run learners' code in bubblewrap: auto = when installed (else a loud warning), "
                        "bwrap = required, off = never (default: the course config's Sandbox.mode, else auto)")
    p.add_argument("--course", type=Path, default=None,
                   help="course directory (nbgrader_config.py + solutions/); default: this repository")
    p.set_defaults(func=run_grade)

    def one_line_error(message: str) -> None:  # argparse's usage block would bury the one line that matters
        p.exit(2, f"driftlab grade: {message} (see driftlab grade --help)\n")

    p.error = one_line_error  # type: ignore[method-assign]


def _option(parse):
    """An argparse ``type`` from a parser raising UsageError (argparse shows its message)."""
    def convert(text: str):
        try:
            return parse(text)
        except safety.UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = parse.__name__
    return convert


def _load_state(out: Path) -> dict[str, dict]:
    """The re-run cache of a previous run in ``out`` (empty when there is none or it is unreadable)."""
    return _load_store(out)[1]


def _load_store(out: Path) -> tuple[dict[tuple[str, str], res.Row], dict[str, dict]]:
    """The rows of every earlier run in ``out`` and the re-run cache, with what an interrupted run saved."""
    try:
        state = json.loads((out / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    rows = {}
    for data in state.get("rows", []):
        row = res.Row.from_dict(data)
        if not row.reason.startswith("missing notebook"):
            rows[(row.student_id, row.module)] = row
    cache = dict(state.get("cache", {}))
    for path in sorted((out / PROGRESS).glob("*.json")) if (out / PROGRESS).is_dir() else []:
        try:
            row = res.Row.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        rows[(row.student_id, row.module)] = row
        if row.key:
            cache[_cache_key(row.student_id, row.module)] = row.as_dict()
    return rows, cache


def save_progress(row: res.Row, out: Path) -> None:
    """Save one finished submission's row at once (atomically): an interrupted run resumes from it."""
    name = hashlib.sha256(_cache_key(row.student_id, row.module).encode()).hexdigest()[:24]
    write_atomic(out / PROGRESS / f"{name}.json", json.dumps(row.as_dict()))


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
    if not (course / "solutions").is_dir():
        raise safety.UsageError(f"--course {course} is not a course folder (it has no solutions/)")
    modules = course_modules(course)
    if args.module and args.module not in modules:
        raise DriftLabError(f"--module {args.module!r} is not a module of this course ({', '.join(modules)})")
    if not args.submissions.exists():
        raise DriftLabError(f"{args.submissions} does not exist")
    sub = args.submissions
    if sub.is_file() and not zipfile.is_zipfile(sub) and sub.suffix.lower() == ".zip":
        raise safety.UsageError(f"{sub} is named .zip but is not a readable zip (damaged, or its table of contents "
                                "is cut off: download it again)")
    if sub.is_file() and not zipfile.is_zipfile(sub) and sub.suffix.lower() != ".ipynb":
        raise safety.UsageError(f"{sub} is a file, but neither a .zip nor a notebook: give the folder or the .zip "
                                "downloaded from the LMS (or one .ipynb)")
    safety.check_paths(sub, args.out, course, force=getattr(args, "force", False))
    try:
        args.lms_headers = lmsx.parse_headers(getattr(args, "lms_column", None), modules)
    except ValueError as exc:
        raise safety.UsageError(str(exc)) from None
    return modules


def release_names(course: Path, modules: list[str]) -> dict[str, str]:
    """``{module: its release notebook's file name}`` (the instructor notebook's name)."""
    names = {}
    for module in modules:
        found = sorted((course / "solutions" / module).glob("*.ipynb"))
        if found:
            names[module] = found[0].name
    return names


def take_in(args: argparse.Namespace, modules: list[str], work: Path) -> ik.Intake:
    """The submissions and other files of the input (a zip is extracted into ``work``)."""
    source = args.submissions.resolve()
    if source.is_file() and source.suffix.lower() == ".ipynb" and not zipfile.is_zipfile(source):
        folder = work / "input"  # one notebook: read as the only file of a folder
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        shutil.copy2(source, folder / source.name)
        skipped: list[ik.Unmatched] = []
    else:
        folder, skipped = ik.open_input(source, work)
    found = ik.discover(folder, modules, args.module, release_names(args.course_root, modules))
    found.unmatched = skipped + found.unmatched
    wanted = getattr(args, "student", None)
    if wanted:
        known = {s.student for s in found.submissions}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            sample = ", ".join(sorted(known)[:8]) + (" …" if len(known) > 8 else "")
            raise safety.UsageError(f"--student {', '.join(unknown)}: no submission of this learner in "
                                    f"{args.submissions} (learners found: {sample or 'none'})")
        found.submissions = [s for s in found.submissions if s.student in wanted]
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


def _grading_key(sha: str, fingerprint: str, args: argparse.Namespace) -> str:
    """What must be unchanged for a cached row to stand: the file, the course and the grading options."""
    return (f"{sha}:{fingerprint}:timeout={args.timeout}:feedback={not args.no_feedback}"
            f":sandbox={args.unsandboxed is None}")


def plan(submissions: list[ik.Submission], cache: dict[str, dict], args: argparse.Namespace, course: Path,
         out: Path, prepared: Path) -> Plan:
    """Reuse cached rows of unchanged submissions; prepare the others for nbgrader (or reject them)."""
    fingerprints = {m: wk.course_fingerprint([m], course) for m in {s.module for s in submissions}}
    todo = Plan()
    for sub in submissions:
        raw = sub.path.read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        key = _grading_key(sha, fingerprints[sub.module], args)
        old = cache.get(_cache_key(sub.student, sub.module))
        if old and old.get("key") == key and not args.regrade:
            row = res.Row.from_dict(old)
            row.source, row.pattern = sub.origin, sub.pattern
            row.name, row.late, row.lms_id = sub.name, sub.late, sub.lms_id
            todo.rows.append(row)
            todo.skipped += 1
            continue
        _forget(out, sub.student, sub.module)
        prep = ik.prepare(raw)
        notes = ([sub.note] if sub.note else []) + prep.notes + ([f"not sandboxed: {args.unsandboxed}"] if args.unsandboxed else [])
        if prep.content is None:
            todo.rows.append(res.Row(sub.student, sub.module, res.NOT_GRADED, reason=prep.reason, source=sub.origin,
                                     pattern=sub.pattern, sha256=sha, key=key, notes="; ".join(notes),
                                     name=sub.name, late=sub.late, lms_id=sub.lms_id))
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
    bar = Progress(len(todo.jobs), modules=per_module)
    saved: set[tuple[str, str]] = set()

    def row_of(key: tuple[str, str], done: wk.Done) -> res.Row:
        sub, sha, grading_key, notes = todo.origin[key]
        row = res.row_for(done, sub, sha, grading_key if not done.retry else "", notes)  # "": graded next run
        row.name, row.late, row.lms_id = sub.name, sub.late, sub.lms_id
        if row.feedback:
            row.feedback = str(Path(row.feedback).relative_to(out))
        return row

    def progress(n: int, label: str, module: str | None = None) -> None:
        bar(n, label, module)
        for key, done in list(engine.done.items()):  # the engine records a result, then reports it
            if key not in saved and key in todo.origin:
                saved.add(key)
                save_progress(row_of(key, done), out)

    engine = eng.Engine(todo.jobs, modules, work, out, workers=workers, cluster=cluster, timeout=args.timeout,
                        feedback=not args.no_feedback, sandbox=args.sandbox, root=course, progress=progress,
                        say=lambda text: print(text, file=sys.stderr),
                        limit=NO_LIMIT_BUDGET if args.timeout == -1 else None,
                        worker_wait=getattr(args, "worker_wait", eng.WORKER_WAIT))
    rows = [row_of(key, done) for key, done in sorted(engine.run().items())]
    return rows, engine


def with_missing(rows: list[res.Row], submissions: list[ik.Submission], default_module: str | None) -> list[res.Row]:
    """Every learner for every module that anyone handed in: a missing notebook is a row too (sorted).

    Learners and modules are those of ``rows`` (the merged store) and ``submissions`` (this run).
    """
    students = sorted({s.student for s in submissions} | {r.student_id for r in rows})
    handed_in = sorted({s.module for s in submissions} | {r.module for r in rows}
                       | ({default_module} if default_module else set()))
    have = {(r.student_id, r.module) for r in rows}
    who = {}
    for r in rows:  # a missing row keeps what the download said of the learner (name, LMS id)
        who.setdefault(r.student_id, r)
    missing = []
    for student in students:
        for module in handed_in:
            if (student, module) not in have:
                known = who.get(student)
                missing.append(res.Row(student, module, res.NOT_GRADED, reason=MISSING,
                                       name=known.name if known else "", lms_id=known.lms_id if known else "",
                                       pattern=known.pattern if known else ""))
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
                  warning: str | None = None, labels: dict | None = None, lms: str | None = None,
                  lms_headers: dict[str, str] | None = None) -> None:
    """grades.csv, exercises.csv, unmatched.csv, report.html and the LMS file, each written whole."""
    for row in rows:
        if row.key:
            cache[_cache_key(row.student_id, row.module)] = row.as_dict()
    res.write_csv(rows, out / "grades.csv")
    res.write_exercises_csv(rows, out / "exercises.csv", labels)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["file", "reason"])
    for u in found.unmatched:
        writer.writerow(safe_row([u.origin, u.reason]))
    write_atomic(out / "unmatched.csv", text.getvalue())
    rp.render(rows, found.unmatched, out / "report.html", warning=warning, labels=labels)
    if lms:
        lmsx.export(rows, out, lms, lms_headers)


def write_state(rows: list[res.Row], found: ik.Intake, cache: dict[str, dict], out: Path) -> None:
    """results.json: every row and unmatched file, and the re-run cache; then the progress files go."""
    write_atomic(out / STATE, json.dumps({
        "rows": [r.as_dict() for r in rows],
        "unmatched": [u.__dict__ for u in found.unmatched],
        "cache": cache}, indent=1))
    shutil.rmtree(out / PROGRESS, ignore_errors=True)


def build_problem(modules: list[str], course: Path, work: Path) -> str | None:
    """None when every module can be generated; else one line per broken module (cause, exercise, cell)."""
    from grader.build import one_line

    _, broken = wk.template_course(work / "cache", sorted(set(modules)), course)
    if not broken:
        return None
    return "\n".join(one_line(broken[m]) for m in sorted(broken))


def dry_run(args: argparse.Namespace, modules: list[str], course: Path) -> int:
    """List what a run would do with each file; write nothing in --out."""
    import tempfile

    out = args.out.resolve()
    with tempfile.TemporaryDirectory(prefix="driftlab-dry-") as scratch:
        found = take_in(args, modules, Path(scratch))
        cache = _load_state(out)
        args.unsandboxed = Sandbox(mode=args.sandbox).unavailable() if args.sandbox != "off" else "off"
        fingerprints = {m: wk.course_fingerprint([m], course) for m in {s.module for s in found.submissions}}
        cached = 0
        for sub in found.submissions:
            key = _grading_key(hashlib.sha256(sub.path.read_bytes()).hexdigest(), fingerprints[sub.module], args)
            old = cache.get(_cache_key(sub.student, sub.module))
            unchanged = bool(old and old.get("key") == key and not args.regrade)
            cached += unchanged
            who = f"{sub.student}" + (f" ({sub.name})" if sub.name else "")
            extra = [sub.pattern] + (["late"] if sub.late == "yes" else []) + (["already graded, unchanged"] if unchanged else [])
            print(f"grade  {sub.origin}  ->  learner {who}, module {sub.module}  [{', '.join(extra)}]")
        for u in found.unmatched:
            print(f"skip   {u.origin}: {u.reason}")
    print(f"dry run: {len(found.submissions) - cached} submission(s) of "
          f"{len({s.student for s in found.submissions})} learner(s) would be graded, {cached} kept from {out}, "
          f"{len(found.unmatched)} file(s) skipped; nothing was graded or written", file=sys.stderr)
    return 0


def _finish(rows: list[res.Row], found: ik.Intake, cache: dict[str, dict], store: dict, args: argparse.Namespace,
            course: Path, out: Path, work: Path, template: Path | None) -> list[res.Row]:
    """Merge this run's rows into the store and write every output; returns the merged rows."""
    merged = dict(store)
    merged.update({(r.student_id, r.module): r for r in rows})
    all_rows = with_missing(list(merged.values()), found.submissions, args.module)
    labels = res.misconception_labels(sorted({r.module for r in all_rows}), course)
    write_outputs(all_rows, found, cache, out, warning=args.unsandboxed and OFF_WARNING.format(why=args.unsandboxed),
                  labels=labels, lms=getattr(args, "lms", None), lms_headers=getattr(args, "lms_headers", None))
    merge_gradebook(all_rows, template, course, work, out)
    write_state(all_rows, found, cache, out)
    return all_rows


def run_grade(args: argparse.Namespace) -> int:
    """The whole pipeline; returns the exit code (0: every submission graded; 1: some could not be;
    2: the command line or the course was refused, nothing graded; 130: interrupted, progress kept)."""
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    course = (getattr(args, "course", None) or ROOT).resolve()
    args.course_root = course
    for name, default in (("force", False), ("dry_run", False), ("student", None), ("lms", None),
                          ("lms_column", None), ("regrade", False), ("no_feedback", False), ("timeout", None)):
        if not hasattr(args, name):
            setattr(args, name, default)
    out = args.out.resolve()
    work = out / ".work"
    try:
        args.sandbox = args.sandbox or course_config(course).Sandbox.get("mode", "auto")
        modules = check_args(args, course)
        if args.dry_run:
            return dry_run(args, modules, course)
        args.unsandboxed = sandbox_warning(args.sandbox)
        safety.claim(out, course, [])
        work.mkdir(parents=True, exist_ok=True)
        found = take_in(args, modules, work)
    except DriftLabError as exc:
        print(f"driftlab grade: {exc}", file=sys.stderr)
        return 2
    timings["intake"] = time.monotonic() - t0

    store, cache = _load_store(out)
    todo = plan(found.submissions, cache, args, course, out, work / "prepared")
    timings["prepare"] = time.monotonic() - t0 - timings["intake"]
    if todo.skipped:
        print(f"{todo.skipped} already graded with the same file and course (use --regrade to grade again)",
              file=sys.stderr)
    rows, template = list(todo.rows), None
    if todo.jobs:
        problem = build_problem([j.module for j in todo.jobs], course, work)
        if problem:
            print(f"{problem}\nnothing was graded: fix the module (driftlab build shows the same), then run again",
                  file=sys.stderr)
            return 2
        t1 = time.monotonic()
        try:
            graded, engine = autograde(todo, args, modules, course, work, out)
        except DriftLabError as exc:
            print(f"driftlab grade: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            saved, _ = _load_store(out)
            done = [r for key, r in saved.items() if key in todo.origin]
            kept = {(r.student_id, r.module) for r in rows + done}  # not yet graded is not "missing"
            partial = ik.Intake([s for s in found.submissions if s.key in kept], found.unmatched)
            _finish(rows + done, partial, cache, store, args, course, out, work, None)
            print(f"\ninterrupted: {len(done)} of {len(todo.jobs)} submissions were graded and saved in {out}; "
                  "run the same command again to grade the rest", file=sys.stderr)
            return 130
        rows, template = rows + graded, engine.template
        timings["autograde+feedback"] = time.monotonic() - t1
        timings.update({f"engine: {k}": v for k, v in engine.stats.items()})  # cluster start, course shipped …

    t2 = time.monotonic()
    safety.claim(out, course, sorted({r.module for r in rows}))
    all_rows = _finish(rows, found, cache, store, args, course, out, work, template)
    timings["report"] = time.monotonic() - t2
    timings["total"] = time.monotonic() - t0
    write_atomic(out / "timings.json", json.dumps(timings, indent=1))
    shutil.rmtree(work / "dask", ignore_errors=True)  # the local cluster's scratch space

    this_run = {(r.student_id, r.module) for r in rows}
    failed = [r for r in rows if r.status != res.GRADED]
    graded_n = len(rows) - len(failed)
    kept = len([r for r in all_rows if (r.student_id, r.module) not in this_run and not r.reason.startswith("missing")])
    missing = sum(r.reason == MISSING for r in all_rows)
    print(f"{graded_n} graded, {len(failed)} could not be graded, {len(found.unmatched)} files not graded; "
          f"{kept} earlier rows kept, {missing} missing notebooks; {timings['total']:.1f} s", file=sys.stderr)
    for r in failed[:20]:
        print(f"  could not grade {r.student_id} · {r.module}: {r.reason}", file=sys.stderr)
    extra = f", {out / (lmsx.CANVAS_FILE if args.lms == 'canvas' else lmsx.MOODLE_FILE)}" if args.lms else ""
    print(f"wrote {out / 'grades.csv'}, {out / 'exercises.csv'}, {out / 'report.html'}, {out / 'feedback'}/{extra}",
          file=sys.stderr)
    return 1 if failed else 0
