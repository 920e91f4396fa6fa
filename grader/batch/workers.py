"""What the Dask engine (:mod:`grader.batch.engine`) grades with: the generated course and one
long-lived nbgrader process.

nbgrader's ``autograde`` is serial and its gradebook is one SQLite file (nbgrader#174), so:

* the course (config + ``solutions/``) is generated once (``nbgrader generate_assignment`` for each
  module that has submissions) into a template course directory, cached by the course's fingerprint
  (:func:`template_course`); the engine ships it to every worker;
* each task slot of a worker runs one long-lived :mod:`grader.batch.autograder` process
  (:class:`_Autograder`) on its own copy of that template (its own ``gradebook.db``) and feeds it one
  submission at a time; the process autogrades it with nbgrader's own converter, reads the grades
  back from its gradebook (see :mod:`grader.batch.results`) and writes the feedback;
* the per-cell scores go into one merged gradebook afterwards (:mod:`grader.batch.gradebook`).

Each submission is graded exactly as a serial ``nbgrader autograde`` would: same config, same
gradebook contents, one fresh kernel per notebook.
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import driftlab
from driftlab.errors import BuildError
from grader import nbgrader as R

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
    notes: list[str] | None = None  # what the worker adds (e.g. it had no sandbox)
    retry: bool = False  # the failure was the cluster's, not the submission's: a later run grades it again


# The code that can change a grade, in nbgrader's process or the learner's kernel (package, glob): all
# of both packages (the judge and its keys in grader; the checks, the course library the notebooks run).
GRADING_CODE = (("driftlab", "**/*.py"), ("grader", "**/*.py"))


def course_fingerprint(modules: list[str], root: Path = ROOT) -> str:
    """Hash of what decides a grade: the config, the modules' instructor notebooks, the grading code."""
    h = hashlib.sha256()
    files = [(root / "nbgrader_config.py", "nbgrader_config.py")]
    for module in sorted(modules):
        for p in sorted((root / "solutions" / module).rglob("*")):
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts:
                files.append((p, str(p.relative_to(root))))
    packages = {"driftlab": Path(driftlab.__file__).resolve().parent, "grader": Path(__file__).resolve().parents[1]}
    for package, pattern in GRADING_CODE:
        files += [(p, f"{package}/{p.relative_to(packages[package])}") for p in sorted(packages[package].glob(pattern))]
    for path, name in files:
        h.update(name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def code_fingerprint() -> str:
    """Hash of the grading code installed here (a cluster worker must run the client's version)."""
    h = hashlib.sha256()
    packages = {"driftlab": Path(driftlab.__file__).resolve().parent, "grader": Path(__file__).resolve().parents[1]}
    for package, pattern in GRADING_CODE:
        for p in sorted(packages[package].glob(pattern)):
            h.update(f"{package}/{p.relative_to(packages[package])}".encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def template_course(cache: Path, modules: list[str], root: Path = ROOT) -> tuple[Path, dict[str, str]]:
    """A generated course (gradebook filled) for ``modules``, reused while the course is unchanged.

    Returns the course and ``{module: error}`` for modules nbgrader could not generate (their
    submissions cannot be graded; the other modules are).
    """
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
        except BuildError as exc:  # one broken module must not stop the others; its first line names the cause
            from grader.build import one_line

            failed[module] = one_line(str(exc))
    (tmp / ".generated").write_text(json.dumps(failed))
    tmp.rename(target)
    return target, failed


def notebook_name(course: Path, module: str) -> str:
    """The file name nbgrader expects for a module's (single) notebook."""
    return sorted((course / "solutions" / module).glob("*.ipynb"))[0].name


REPLY_LIMIT = 8 << 20  # characters of one reply line of an autograder process (paths, scores, a bounded log)
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


class _Stopped(Exception):
    """The autograder process died or ran over its budget on a job (the message is the reason)."""


class _Gone(_Stopped):
    """The autograder process had already ended before it was given the job."""


class _Autograder:
    """One :mod:`grader.batch.autograder` process and the thread that reads its replies."""

    def __init__(self, proc: subprocess.Popen, course: Path, log_path: Path) -> None:
        self.proc, self.course, self.log_path = proc, course, log_path
        self.replies: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    @classmethod
    def start(cls, template: Path, course: Path, out: Path, log_path: Path, timeout: int | None,
              feedback: bool, sandbox: str = "auto") -> "_Autograder":
        if course.exists():
            shutil.rmtree(course)
        shutil.copytree(template, course)
        cmd = [sys.executable, "-m", "grader.batch.autograder", str(course), str(out)]
        if timeout:
            cmd.append(f"--timeout={int(timeout)}")
        if not feedback:
            cmd.append("--no-feedback")
        cmd.append(f"--sandbox={sandbox}")
        env = R.nbgrader_env()  # exactly what `nbgrader autograde` gets: the kernels must not see a difference
        with open(log_path, "a", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=course, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=log, text=True, errors="replace", bufsize=1)
        worker = cls(proc, course, log_path)
        ready = worker._reply(180)
        if not ready.get("ready"):
            worker.kill()
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise _Stopped(f"internal error: the grading process did not start: {tail[0][:300]}")
        return worker

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := self.proc.stdout.readline(REPLY_LIMIT):
            if len(line) >= REPLY_LIMIT and not line.endswith("\n"):  # longer than any reply of ours: skip it
                while (rest := self.proc.stdout.readline(REPLY_LIMIT)) and not rest.endswith("\n"):
                    pass
                self.replies.put({"error": f"internal error: the grading process's reply passed {REPLY_LIMIT >> 20} MB"})
                continue
            try:
                self.replies.put(json.loads(line))
            except ValueError:
                continue
        self.replies.put(None)  # end of output: the process is gone

    def _reply(self, limit: float) -> dict:
        try:
            reply = self.replies.get(timeout=limit)
        except queue.Empty:
            raise _Stopped(f"timeout: grading took longer than {limit:.0f} s and was stopped") from None
        if reply is None:
            code = self.proc.wait()
            raise _Stopped(f"internal error: the grading process stopped (exit code {code})")
        return reply

    def grade(self, job: Job, limit: float) -> dict:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"student": job.student, "module": job.module,
                                              "notebook": str(job.notebook)}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _Gone(f"internal error: the grading process had stopped (exit code {self.proc.poll()})") from None
        return self._reply(limit)  # nbgrader's log of this submission is in reply["log"]

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except Exception:  # noqa: BLE001
            self.kill()


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
