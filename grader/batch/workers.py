"""Parallel autograding with real nbgrader: N workers, each with its own scratch course and gradebook.

nbgrader's ``autograde`` is serial and its gradebook is one SQLite file, so the batch is split:

* the course (config + ``solutions/``) is generated once (``nbgrader generate_assignment`` for each
  module that has submissions) into a template course directory, cached by the course's fingerprint;
* each worker copies that template (its own ``gradebook.db``), then repeatedly takes a chunk of
  submissions of one module from a shared queue, puts them in a chunk-specific ``submitted``
  folder (``--CourseDirectory.submitted_directory``) and runs one ``nbgrader autograde`` over it;
* after each chunk the worker reads every submission's grades back from its own gradebook and the
  autograded notebook (see :mod:`grader.batch.results`); nbgrader's log attributes failures
  (corrupt file, kernel died …) to students;
* when the queue is empty the worker runs ``nbgrader generate_feedback`` for its students.

Workers are threads that drive nbgrader subprocesses (the CPU work is in nbgrader and the kernels),
so there is no shared mutable state except the queue and the results dict (guarded by a lock).
Each submission is graded exactly as a serial ``nbgrader autograde`` would: same config, same
gradebook contents, one fresh kernel per notebook.
"""
from __future__ import annotations

import hashlib
import math
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import nbgrader_run as R
from . import feedback as fb
from . import results as res

ROOT = R.ROOT


@dataclass
class Job:
    """One prepared submission to autograde."""

    student: str
    module: str
    notebook: Path  # the prepared (readable, nbformat 4) file
    key: str = ""


@dataclass
class Done:
    """What grading one job produced (before it becomes a row of grades.csv)."""

    job: Job
    cells: dict[str, dict] | None = None  # grade_id -> {score, max_score, needs_manual}
    error: str | None = None  # nbgrader's failure for this submission (last traceback line)
    autograded: Path | None = None  # the executed notebook (kept in the output folder)
    feedback: Path | None = None
    feedback_problem: str = ""


def course_fingerprint(modules: list[str], root: Path = ROOT) -> str:
    """Hash of what decides a grade: the config, the modules' instructor notebooks, the grader code."""
    h = hashlib.sha256()
    files = [(root / "nbgrader_config.py", "nbgrader_config.py")]
    for module in sorted(modules):
        for p in sorted((root / "solutions" / module).rglob("*")):
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts:
                files.append((p, str(p.relative_to(root))))
    package = Path(__file__).resolve().parents[1]  # the grader package the kernels import
    files += [(p, f"grader/{p.name}") for p in sorted(package.glob("*.py"))]
    for path, name in files:
        h.update(name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def template_course(cache: Path, modules: list[str], root: Path = ROOT) -> tuple[Path, dict[str, str]]:
    """A generated course (gradebook filled) for ``modules``, reused while the course is unchanged.

    Returns the course and ``{module: error}`` for modules nbgrader could not generate (their
    submissions cannot be graded; the other modules are).
    """
    import json

    target = cache / f"course-{course_fingerprint(modules, root)}-{'-'.join(sorted(modules))}"[:200]
    if (target / ".generated").exists():
        return target, json.loads((target / ".generated").read_text())
    if target.exists():
        shutil.rmtree(target)
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    R.make_course(tmp, root, modules)
    failed = {}
    for module in modules:
        try:
            R.generate(tmp, module)
        except Exception as exc:  # noqa: BLE001 - one broken module must not stop the others
            failed[module] = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else repr(exc)
    (tmp / ".generated").write_text(json.dumps(failed))
    tmp.rename(target)
    return target, failed


def notebook_name(course: Path, module: str) -> str:
    """The file name nbgrader expects for a module's (single) notebook."""
    return sorted((course / "solutions" / module).glob("*.ipynb"))[0].name


START = re.compile(r"Creating/updating student with ID '(?P<student>[^']+)'")
FAILED = re.compile(r"There was an error processing assignment: (?P<path>\S+)")


def parse_failures(log: str) -> dict[str, str]:
    """``{student: last line of the traceback}`` for each submission nbgrader failed to autograde."""
    failures: dict[str, str] = {}
    lines = log.splitlines()
    for i, line in enumerate(lines):
        match = FAILED.search(line)
        if not match:
            continue
        student = Path(match.group("path")).parent.name
        last = ""
        for follow in lines[i + 1:]:
            if follow.startswith("["):
                if "Traceback (most recent call last)" in follow:
                    continue
                break
            if follow.startswith("    ") and follow.strip():  # nbgrader indents the traceback
                last = follow.strip()
        failures[student] = last or "nbgrader failed (see the log)"
    return failures


def _autograde(course: Path, module: str, submitted: str, timeout: int | None, log_path: Path,
               on_student_done: Callable[[str], None], limit: float) -> str:
    """One ``nbgrader autograde`` over a chunk folder; calls back as each student finishes."""
    cmd = [sys.executable, "-m", "nbgrader", "autograde", module, "--create", "--force", "--log-level=INFO",
           f"--CourseDirectory.root={course}", f"--CourseDirectory.submitted_directory={submitted}"]
    if timeout:
        cmd.append(f"--Execute.timeout={int(timeout)}")
    env = R.nbgrader_env()
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    lines: list[str] = []
    current: list[str | None] = [None]
    with subprocess.Popen(cmd, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as proc:
        timer = threading.Timer(limit, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                match = START.search(line)
                if match:
                    if current[0] is not None:
                        on_student_done(current[0])
                    current[0] = match.group("student")
        finally:
            timer.cancel()
            proc.wait()
    if current[0] is not None:
        on_student_done(current[0])
    text = "".join(lines)
    if proc.returncode not in (0, 1):
        text += f"\n[driftlab] nbgrader autograde ended with code {proc.returncode} (killed after {limit:.0f} s?)\n"
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(text)
    return text


@dataclass
class Pool:
    """A batch of jobs graded by ``workers`` workers in ``workdir``; results land in ``out``."""

    jobs: list[Job]
    modules: list[str]
    workdir: Path
    out: Path
    workers: int = 2
    timeout: int | None = None
    feedback: bool = True
    progress: Callable[[int, str], None] = lambda n, label: None
    root: Path = ROOT
    done: dict[tuple[str, str], Done] = field(default_factory=dict)
    template: Path | None = None  # the generated course the workers copied (set by run)

    def run(self) -> dict[tuple[str, str], Done]:
        if not self.jobs:
            return {}
        modules = sorted({j.module for j in self.jobs})
        template, broken = template_course(self.workdir / "cache", modules, self.root)
        self.template = template
        for job in [j for j in self.jobs if j.module in broken]:
            self.done[(job.student, job.module)] = Done(job, error=f"course module could not be generated: {broken[job.module]}")
            self.progress(1, f"{job.student} · {job.module} (module broken)")
        modules = [m for m in modules if m not in broken]
        todo_jobs = [j for j in self.jobs if j.module in modules]
        if not todo_jobs:
            return self.done
        workers = max(1, min(self.workers, len(todo_jobs)))
        # Longest first (LPT): a module's cost per notebook is estimated by its instructor notebook's
        # size; chunks small enough that no worker is left alone with a long tail.
        size = max(1, math.ceil(len(todo_jobs) / (3 * workers)))
        pending = []
        for module in modules:
            todo = [j for j in todo_jobs if j.module == module]
            weight = sum(p.stat().st_size for p in (template / "solutions" / module).glob("*.ipynb"))
            for i in range(0, len(todo), size):
                pending.append((weight * len(todo[i:i + size]), module, todo[i:i + size]))
        chunks: queue.Queue = queue.Queue()
        for _, module, part in sorted(pending, key=lambda c: (-c[0], c[1])):
            chunks.put((module, part))
        self._lock = threading.Lock()
        self._chunk_no = 0
        threads = [threading.Thread(target=self._worker, args=(w, template, chunks), daemon=True)
                   for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for job in self.jobs:  # a worker that crashed must not lose a learner
            self.done.setdefault((job.student, job.module), Done(job, error="internal error: the worker stopped"))
        return self.done

    def _worker(self, number: int, template: Path, chunks: queue.Queue) -> None:
        course = self.workdir / f"worker-{number}"
        if course.exists():
            shutil.rmtree(course)
        shutil.copytree(template, course)
        log_path = self.workdir / f"worker-{number}.log"
        log_path.write_text("")
        graded_modules: set[str] = set()
        mine: list[Job] = []
        while True:
            try:
                module, jobs = chunks.get_nowait()
            except queue.Empty:
                break
            with self._lock:
                self._chunk_no += 1
                folder = f"submitted-{self._chunk_no}"
            name = notebook_name(course, module)
            for job in jobs:
                R.submit(course, job.student, module, job.notebook, name=name)
                shutil.move(str(course / "submitted" / job.student / module),
                            str(_ensure(course / folder / job.student) / module))
            budget = 120 + len(jobs) * max(60, (self.timeout or 60)) * 6
            try:
                log = _autograde(course, module, folder, self.timeout, log_path,
                                 lambda student: self.progress(1, f"{student} · {module}"), budget)
            except Exception as exc:  # noqa: BLE001 - never lose the batch
                log = ""
                failures = {job.student: f"internal error running nbgrader: {exc}" for job in jobs}
            else:
                failures = parse_failures(log)
            graded_modules.add(module)
            for job in jobs:
                self._collect(course, job, failures.get(job.student))
                mine.append(job)
        if self.feedback and mine:
            for module in sorted(graded_modules):
                try:
                    problem = fb.generate(course, module)
                except Exception as exc:  # noqa: BLE001 - feedback must not cost a learner the grade
                    problem = f"generate_feedback failed: {exc}"
                for job in (j for j in mine if j.module == module):
                    done = self.done[(job.student, job.module)]
                    if done.autograded is None:
                        continue
                    path, issue = fb.collect(course, module, job.student, self.out / "feedback")
                    done.feedback, done.feedback_problem = path, issue or problem

    def _collect(self, course: Path, job: Job, failure: str | None) -> None:
        cells = None if failure else res.gradebook_cells(course, job.module, job.student)
        autograded = course / "autograded" / job.student / job.module / notebook_name(course, job.module)
        kept = None
        if autograded.exists() and not failure:
            kept = self.out / "autograded" / job.student / job.module / autograded.name
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(autograded, kept)
        with self._lock:
            self.done[(job.student, job.module)] = Done(job, cells=cells, error=failure, autograded=kept)


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def elapsed(start: float) -> str:
    return f"{time.monotonic() - start:.1f} s"
