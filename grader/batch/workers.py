"""Parallel autograding with real nbgrader: N workers, each with its own scratch course and gradebook.

nbgrader's ``autograde`` is serial and its gradebook is one SQLite file (nbgrader#174), so:

* the course (config + ``solutions/``) is generated once (``nbgrader generate_assignment`` for each
  module that has submissions) into a template course directory, cached by the course's fingerprint;
* each worker runs one long-lived :mod:`grader.batch.autograder` process on its own copy of that
  template (its own ``gradebook.db``) and feeds it one submission at a time from a shared queue;
  the process autogrades it with nbgrader's own converter, reads the grades back from its gradebook
  (see :mod:`grader.batch.results`) and writes the feedback;
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

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
            failed[module] = str(exc).strip().splitlines()[0][:300]
    (tmp / ".generated").write_text(json.dumps(failed))
    tmp.rename(target)
    return target, failed


def notebook_name(course: Path, module: str) -> str:
    """The file name nbgrader expects for a module's (single) notebook."""
    return sorted((course / "solutions" / module).glob("*.ipynb"))[0].name


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


@dataclass
class Pool:
    """A batch of jobs graded by ``workers`` workers in ``workdir``; results land in ``out``.

    Each worker is a thread that drives one :mod:`grader.batch.autograder` process (nbgrader
    in-process, its own copy of the generated course and gradebook) and hands it one submission at a
    time from a shared queue, longest modules first, so the workers finish together. A submission
    that takes longer than the budget gets its process killed ("could not grade: timeout") and the
    worker starts a fresh process for the rest.
    """

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
    sandbox: str = "auto"  # Sandbox.mode of the grading processes (grader/sandbox)

    def budget(self) -> float:
        """Seconds one submission may take in all before its process is killed (a backstop only:
        nbgrader's per-cell timeout interrupts ordinary infinite loops long before)."""
        return 300 + 10 * (self.timeout or 60)

    def run(self) -> dict[tuple[str, str], Done]:
        if not self.jobs:
            return {}
        modules = sorted({j.module for j in self.jobs})
        template, broken = template_course(self.workdir / "cache", modules, self.root)
        self.template = template
        for job in [j for j in self.jobs if j.module in broken]:
            self.done[(job.student, job.module)] = Done(job, error=f"course module could not be generated: {broken[job.module]}")
            self.progress(1, f"{job.student} · {job.module} (module broken)")
        todo = [j for j in self.jobs if j.module not in broken]
        if not todo:
            return self.done
        # Longest first (LPT): a module's cost per notebook is estimated by its instructor notebook's size.
        weight = {m: sum(p.stat().st_size for p in (template / "solutions" / m).glob("*.ipynb"))
                  for m in {j.module for j in todo}}
        pending: queue.Queue = queue.Queue()
        for job in sorted(todo, key=lambda j: (-weight[j.module], j.module, j.student)):
            pending.put(job)
        self._lock = threading.Lock()
        self._generation = 0
        threads = [threading.Thread(target=self._worker, args=(w, template, pending), daemon=True)
                   for w in range(max(1, min(self.workers, len(todo))))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for job in self.jobs:  # a worker that crashed must not lose a learner
            self.done.setdefault((job.student, job.module), Done(job, error="internal error: the worker stopped"))
        return self.done

    def _worker(self, number: int, template: Path, pending: queue.Queue) -> None:
        log_path = self.workdir / f"worker-{number}.log"
        log_path.write_text("")
        process: _Autograder | None = None
        try:
            while True:
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    break
                reply: dict = {}
                for _attempt in range(2):
                    try:
                        if process is None:
                            with self._lock:
                                self._generation += 1
                                course = self.workdir / f"worker-{number}-{self._generation}"
                            process = _Autograder.start(template, course, self.out, log_path, self.timeout,
                                                        self.feedback, self.sandbox)
                        reply = process.grade(job, self.budget())
                        break
                    except _Gone as exc:  # it died before taking this job: once more on a fresh process
                        process = _discard(process)
                        reply = {"error": str(exc)}
                    except _Stopped as exc:  # this job stopped it (timeout, crash): the job's outcome
                        process = _discard(process)
                        reply = {"error": str(exc)}
                        break
                    except Exception as exc:  # noqa: BLE001 - never lose the batch
                        process = _discard(process)
                        reply = {"error": f"internal error running nbgrader: {exc}"}
                        break
                self._record(job, reply)
                self.progress(1, f"{job.student} · {job.module}")
        finally:
            if process is not None:
                process.close()

    def _record(self, job: Job, reply: dict) -> None:
        error = reply.get("error")
        autograded = reply.get("autograded")
        feedback = reply.get("feedback")
        done = Done(job, cells=None if error else reply.get("cells"), error=error,
                    autograded=Path(autograded) if autograded and not error else None,
                    feedback=Path(feedback) if feedback else None,
                    feedback_problem=reply.get("feedback_problem") or "")
        with self._lock:
            self.done[(job.student, job.module)] = done


def _discard(process: "_Autograder | None") -> None:
    """Kill a worker's process (if any); returns None, the worker's new process."""
    if process is not None:
        process.kill()
    return None


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
            raise _Stopped("internal error: the grading process did not start (see .work/worker-*.log)")
        return worker

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
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
        reply = self._reply(limit)
        with open(self.log_path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {job.student} · {job.module}: {reply.get('seconds', '?')} s\n{reply.pop('log', '')}")
        return reply

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
