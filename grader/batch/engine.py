"""The engine of ``driftlab grade``: one task per submission on a Dask cluster (local or remote).

One scheduling path for one machine and for a cohort beyond it:

* without ``--cluster`` a :class:`distributed.LocalCluster` of ``--jobs`` worker processes (one
  thread each) runs in the ``driftlab grade`` process; with ``--cluster ADDRESS`` the same tasks go
  to an existing scheduler (SLURM via dask-jobqueue, Kubernetes, Dask Gateway …);
* the client generates the course once (:func:`grader.batch.workers.template_course`, cached by
  the course's fingerprint) and ships it to every worker as a tar in memory inside a
  :class:`CoursePlugin` (a ``WorkerPlugin``: the scheduler hands it to every worker that joins,
  restarted ones included, so a worker needs the installed package and bubblewrap, not the course);
* on each worker the plugin unpacks the course once and keeps long-lived
  :mod:`grader.batch.autograder` processes (nbgrader in-process, each with its own copy of the
  course and gradebook), one per task slot; a task sends the submission's *bytes* (a worker need
  not share the client's file system) and returns plain data built by our code — per-cell scores,
  the autograded notebook and the feedback HTML as bytes, nbgrader's error — never an object
  from the learner's notebook;
* the client alone writes every output file and the merged gradebook (:mod:`grader.batch.cli`).

Faults: a task whose worker dies is retried by the scheduler on another worker; the scheduler's
``distributed.scheduler.allowed-failures`` is 1 (set for the local cluster; recommended for a
remote one), so a submission that kills its worker twice ends as "could not grade: worker died".
The plugin's teardown (at the end of the run, or when a worker closes) stops its processes; an
autograder whose worker was killed ends by itself (:func:`grader.batch.autograder.watch_parent`).
"""
from __future__ import annotations

import importlib.util
import io
import logging
import os
import shutil
import signal
import tarfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from driftlab.errors import DriftLabError

from . import feedback as fb
from .workers import (ROOT, Done, Job, _Autograder, _Gone, _Stopped, code_fingerprint, notebook_name,
                      template_course)

# Environment variable of a *worker* process (set by whoever starts the worker, never by a
# submission): a task for this student id kills its worker first. Only tests use it, to prove that
# a submission that keeps killing its workers ends as "could not grade".
KILL_HOOK = "DRIFTLAB_TEST_KILL_WORKER_ON"
ALLOWED_FAILURES = 1  # a task is retried once after its worker died; the second death fails it
WORKER_WAIT = 600  # default seconds a run waits while the cluster has no worker (batch jobs queued or ended)
LOG_LIMIT = 20_000  # characters of nbgrader's log per submission sent back to the client
FILE_LIMIT = 128 << 20  # bytes of an autograded notebook or feedback file a task returns at most (they are far
# smaller: the kernel's output is bounded by c.OutputLimits, a submission by intake's 64 MiB per file)
# Dask's background work tuned down for the local cluster. A task only waits for its autograder process,
# so the statistical profiler (100 samples/s per worker thread), the event-loop tick (every 20 ms in every
# process), frequent system and memory monitors and work stealing (we never queue more tasks than threads)
# buy nothing here. Measured on 2 cores, a 2-worker cluster whose threads wait: 1.6 CPU-s per 10 s by
# default (8 % of the machine, taken from the kernels that grade), 0.2 with these.
QUIET_CLUSTER = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing": False,
}


def budget(timeout: int | None) -> float:
    """Seconds one submission may take in all before its process is killed (a backstop only:
    nbgrader's per-cell timeout interrupts ordinary infinite loops long before)."""
    return 300 + 10 * (timeout or 60)


def course_tar(course: Path) -> bytes:
    """The generated course as an uncompressed tar in memory (~1 MB for the whole course)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(course, arcname="course", filter=lambda info: None if "__pycache__" in info.name else info)
    return buffer.getvalue()


def _plain(value: Any) -> bool:
    """True when ``value`` is plain data (what a task may return to the client)."""
    if value is None or isinstance(value, (str, bytes, bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


# ------------------------------------------------------------------------------------ worker side

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # pragma: no cover - distributed is a dependency
    WorkerPlugin = object  # type: ignore[misc,assignment]


class CoursePlugin(WorkerPlugin):
    """The generated course and the grading options of one run, on every worker of the cluster.

    ``setup`` unpacks the course into the worker's local directory; :meth:`grade` (called by
    :func:`grade_task`) borrows an idle autograder process or starts one; ``teardown`` stops them
    all and removes the folder.
    """

    idempotent = False

    def __init__(self, name: str, tar: bytes, timeout: int | None, feedback: bool, sandbox: str,
                 limit: float, code: str) -> None:
        self.name, self.tar, self.timeout, self.feedback = name, tar, timeout, feedback
        self.sandbox, self.limit, self.code = sandbox, limit, code

    # runs on the worker from here on
    def setup(self, worker: Any) -> None:
        self.worker_address = getattr(worker, "address", "")
        self.dir = Path(getattr(worker, "local_directory", None) or os.getcwd()) / self.name
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(self.tar), mode="r") as tar:
            tar.extractall(self.dir, filter="data")
        self.template = self.dir / "course"
        self.lock = threading.Lock()
        self.idle: list[_Autograder] = []
        self.busy: set[_Autograder] = set()
        self.started = 0
        self.unsandboxed = None  # why this worker grades without bubblewrap (mode auto, no bwrap here)
        if self.sandbox == "auto":
            from grader.sandbox import Sandbox

            self.unsandboxed = Sandbox(mode="auto").unavailable()
        mine = code_fingerprint()
        self.mismatch = None if mine == self.code else (
            f"internal error: this worker's driftlab/grader code ({mine}) differs from the client's ({self.code}); "
            "install the same version of the package on every worker")

    def teardown(self, worker: Any) -> None:
        with self.lock:
            idle, busy = self.idle, list(self.busy)
            self.idle = []
            self.busy.clear()
        for process in busy:  # a task still running (the run was interrupted): stop it
            process.kill()
        for process in idle:
            process.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _take(self) -> _Autograder | None:
        with self.lock:
            process = self.idle.pop() if self.idle else None
            if process is not None:
                self.busy.add(process)
            return process

    def _start(self) -> _Autograder:
        with self.lock:
            self.started += 1
            number = self.started
        course, out = self.dir / f"grader-{number}", self.dir / f"out-{number}"
        out.mkdir(parents=True, exist_ok=True)
        process = _Autograder.start(self.template, course, out, self.dir / f"grader-{number}.log", self.timeout,
                                    self.feedback, self.sandbox)
        process.out = out
        with self.lock:
            self.busy.add(process)
        return process

    def _done_with(self, process: _Autograder | None, keep: bool) -> None:
        if process is None:
            return
        with self.lock:
            self.busy.discard(process)
            if keep:
                self.idle.append(process)
        if not keep:
            process.kill()

    def grade(self, student: str, module: str, notebook: bytes) -> dict[str, Any]:
        """Autograde one submission; the reply as plain data (files as bytes)."""
        if os.environ.get(KILL_HOOK) and os.environ.get(KILL_HOOK) == student:
            os.kill(os.getpid(), signal.SIGKILL)  # the test hook: this worker dies now
        started = time.monotonic()
        result: dict[str, Any] = {"student": student, "module": module, "worker": self.worker_address,
                                  "cells": None, "error": None, "autograded": None, "feedback": None,
                                  "feedback_problem": "", "name": "", "log": "", "seconds": 0.0,
                                  "unsandboxed": self.unsandboxed, "notes": [], "max_rss_mb": None}
        if self.mismatch:
            result["error"] = self.mismatch
            return result
        work = self.dir / f"in-{uuid.uuid4().hex}"
        work.mkdir()
        path = work / "submission.ipynb"
        path.write_bytes(notebook)
        job = Job(student, module, path)
        process, reply = self._take(), {}
        for _attempt in range(2):
            try:
                if process is None:
                    process = self._start()
                reply = process.grade(job, self.limit)
                break
            except _Gone as exc:  # it died before taking this job: once more on a fresh process
                self._done_with(process, keep=False)
                process, reply = None, {"error": str(exc)}
            except _Stopped as exc:  # this job stopped it (timeout, crash): the job's outcome
                self._done_with(process, keep=False)
                process, reply = None, {"error": str(exc)}
                break
            except Exception as exc:  # noqa: BLE001 - one submission must never stop the worker
                self._done_with(process, keep=False)
                process, reply = None, {"error": f"internal error running nbgrader: {exc}"}
                break
        try:
            result["error"] = reply.get("error")
            result["cells"] = reply.get("cells")
            result["feedback_problem"] = reply.get("feedback_problem") or ""
            result["log"] = (reply.get("log") or "")[-LOG_LIMIT:]
            result["name"] = notebook_name(self.template, module)
            result["notes"] = [str(n)[:2000] for n in reply.get("notes") or []][:10]
            result["max_rss_mb"] = reply.get("max_rss_mb")
            for key in ("autograded", "feedback"):
                if reply.get(key):
                    produced = Path(reply[key])
                    size = produced.stat().st_size
                    if size <= FILE_LIMIT:
                        result[key] = produced.read_bytes()
                    else:
                        result["notes"].append(f"{key} file not kept: {size >> 20} MB (over {FILE_LIMIT >> 20} MB)")
                    produced.unlink()
        finally:
            self._done_with(process, keep=True)
            shutil.rmtree(work, ignore_errors=True)
        result["seconds"] = round(time.monotonic() - started, 2)
        return result


def grade_task(plugin: str, student: str, module: str, notebook: bytes) -> dict[str, Any]:
    """A Dask task: grade one submission with the worker's :class:`CoursePlugin` named ``plugin``."""
    from distributed import get_worker

    course = get_worker().plugins.get(plugin)
    if course is None:
        raise RuntimeError(f"this worker has no course {plugin!r} (its plugin was not set up)")
    result = course.grade(student, module, notebook)
    assert _plain(result), "a task must return plain data"
    return result


# ------------------------------------------------------------------------------------ client side

def _has_bokeh(dask_scheduler: Any = None) -> bool:
    return importlib.util.find_spec("bokeh") is not None


class _Slots:
    """The cluster's number of worker threads (at least 1), asked of the scheduler at most once a second."""

    def __init__(self, client: Any) -> None:
        self.client, self.when, self.value = client, 0.0, 1

    def __call__(self) -> int:
        if time.monotonic() - self.when > 1.0:
            try:
                workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
                self.value = max(1, sum(w.get("nthreads", 0) for w in workers.values()))
            except Exception:  # noqa: BLE001 - keep the last known value
                pass
            self.when = time.monotonic()
        return self.value


class _WorkerWatch(threading.Thread):
    """Gives up (calls ``give_up`` once) when the cluster has had no worker for ``wait`` seconds.

    A remote cluster can lose every worker (batch jobs that reach their wall time) or not have one yet
    (jobs still queued): tasks would wait in the scheduler forever. The run says so after a few
    seconds, and after ``wait`` seconds what is left is "could not grade" with a reason that says a
    re-run grades it (its rows are not kept as final).
    """

    def __init__(self, client: Any, wait: float, say: Callable[[str], None], give_up: Callable[[], Any]) -> None:
        super().__init__(name="driftlab-worker-watch", daemon=True)
        self.client, self.wait, self.say, self.give_up = client, float(wait), say, give_up
        self.halt = threading.Event()
        self.reason = (f"no Dask worker in the cluster for {int(wait)} s: not graded this run "
                       "(run driftlab grade again to grade it)")

    def stop(self) -> None:
        self.halt.set()

    def run(self) -> None:
        seen, told = time.monotonic(), False
        while not self.halt.wait(min(1.0, self.wait / 4)):
            try:
                workers = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
            except Exception:  # noqa: BLE001 - the scheduler is busy or gone; the client reports that
                continue
            now = time.monotonic()
            if workers:
                if told:
                    self.say(f"Dask workers are back: {workers}")
                seen, told = now, False
                continue
            if not told and now - seen >= min(5.0, self.wait / 2):
                self.say(f"the Dask cluster has no worker; waiting up to {int(self.wait)} s for one "
                         "(--worker-wait)")
                told = True
            if now - seen >= self.wait:
                self.say(f"no Dask worker for {int(self.wait)} s: giving up on the submissions not graded yet "
                         "(a re-run grades them)")
                self.give_up()
                return


@dataclass
class Engine:
    """Grade ``jobs`` on a Dask cluster; results (``Done``) land in ``out`` (written by this process).

    ``cluster`` is a scheduler address, or None for a local cluster of ``workers`` processes.
    """

    jobs: list[Job]
    modules: list[str]
    workdir: Path
    out: Path
    workers: int = 2
    cluster: str | None = None
    timeout: int | None = None
    feedback: bool = True
    sandbox: str = "auto"
    root: Path = ROOT
    progress: Callable[..., None] = lambda n, label, module=None: None
    say: Callable[[str], None] = lambda text: None
    limit: float | None = None  # the per-submission budget (default: :func:`budget`)
    worker_wait: float = WORKER_WAIT  # seconds with no worker in the cluster before the rest is given up
    done: dict[tuple[str, str], Done] = field(default_factory=dict)
    template: Path | None = None  # the generated course the workers got (set by run)
    stats: dict[str, Any] = field(default_factory=dict)

    def run(self) -> dict[tuple[str, str], Done]:
        if not self.jobs:
            return {}
        modules = sorted({j.module for j in self.jobs})
        template, broken = template_course(self.workdir / "cache", modules, self.root)
        self.template = template
        for job in [j for j in self.jobs if j.module in broken]:
            self.done[(job.student, job.module)] = Done(job, error=f"course module could not be generated: {broken[job.module]}")
            self.progress(1, f"{job.student} · {job.module} (module broken)", job.module)
        todo = [j for j in self.jobs if j.module not in broken]
        if todo:
            self._grade(todo, template)
        for job in self.jobs:  # nothing may lose a learner
            self.done.setdefault((job.student, job.module), Done(job, error="internal error: no result came back"))
        return self.done

    def _client(self):
        """A connected client and the local cluster it runs on (None with ``--cluster``)."""
        import dask
        from distributed import Client, LocalCluster

        if self.cluster:
            try:  # Dask's connect timeout (30 s unless DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT says otherwise)
                client = Client(self.cluster, timeout=dask.config.get("distributed.comm.timeouts.connect"))
            except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ValueError (a malformed address) …
                raise DriftLabError(f"could not reach the Dask scheduler at {self.cluster}: {exc}") from None
            return client, None
        with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                              "distributed.scheduler.worker-saturation": 1.0, **QUIET_CLUSTER}):
            local = self.workdir / "dask"
            local.mkdir(parents=True, exist_ok=True)
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0" if _has_bokeh() else None, host="127.0.0.1",
                                   local_directory=str(local), silence_logs=logging.ERROR)
            return Client(cluster), cluster

    def _announce(self, client: Any, local: bool) -> None:
        workers = client.scheduler_info(n_workers=-1).get("workers", {}) if not local else {}
        try:  # a lambda travels by value: the scheduler need not have this package installed
            dashboard = client.run_on_scheduler(
                lambda dask_scheduler=None: __import__("importlib.util").util.find_spec("bokeh") is not None)
        except Exception:  # noqa: BLE001 - a scheduler may refuse to run functions
            dashboard = None
        if local:
            if dashboard:
                self.say(f"Dask dashboard: {client.dashboard_link}")
            return
        self.say(f"Dask cluster {self.cluster}: {len(workers)} worker(s), "
                 f"{sum(w.get('nthreads', 0) for w in workers.values())} thread(s)")
        if dashboard is None:
            self.say(f"Dask dashboard: {client.dashboard_link} (if the scheduler serves one)")
        else:
            self.say(f"Dask dashboard: {client.dashboard_link}" if dashboard
                     else "Dask dashboard: unavailable (bokeh is not installed on the scheduler)")
        try:
            allowed = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
        except Exception:  # noqa: BLE001
            allowed = None
        if allowed is not None and allowed != ALLOWED_FAILURES:
            self.say(f"note: the scheduler retries a task whose worker died {allowed} time(s) "
                     f"(distributed.scheduler.allowed-failures); {ALLOWED_FAILURES} is recommended for grading")

    def _grade(self, todo: list[Job], template: Path) -> None:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        t0 = time.monotonic()
        tar = course_tar(template)
        self.stats["course_tar_bytes"] = len(tar)
        self.stats["course_tar_s"] = time.monotonic() - t0
        run = uuid.uuid4().hex[:8]
        name = f"driftlab-course-{template.name.split('-')[1]}-{run}"
        plugin = CoursePlugin(name, tar, self.timeout, self.feedback, self.sandbox,
                              self.limit or budget(self.timeout), code_fingerprint())
        t1 = time.monotonic()
        client, cluster = self._client()
        watchdog: _WorkerWatch | None = None
        try:
            self.stats["cluster_start_s"] = time.monotonic() - t1
            self._announce(client, cluster is not None)
            t2 = time.monotonic()
            client.register_plugin(plugin, name=name)
            self.stats["course_ship_s"] = time.monotonic() - t2
            # Longest first (LPT): a module's cost per notebook is estimated by its instructor notebook's size.
            weight = {m: sum(p.stat().st_size for p in (template / "solutions" / m).glob("*.ipynb"))
                      for m in {j.module for j in todo}}
            # Submitted as slots free up, never more tasks than the cluster has threads: the scheduler
            # counts every task *assigned* to a worker that dies as suspect, so a submission that kills
            # its worker must not take queued innocents down with it.
            queue = deque(sorted(todo, key=lambda j: (-weight[j.module], j.module, j.student)))
            running: dict[str, Job] = {}
            pending: dict[str, Any] = {}  # key -> future, for the watchdog to cancel
            finished = as_completed()
            slots = _Slots(client)
            gave_up = threading.Event()
            watchdog = _WorkerWatch(client, self.worker_wait, self.say,
                                    lambda: (gave_up.set(), client.cancel(list(pending.values()))))
            watchdog.start()

            def fill() -> None:
                while queue and len(running) < slots() and not gave_up.is_set():
                    job = queue.popleft()
                    future = client.submit(grade_task, name, job.student, job.module, job.notebook.read_bytes(),
                                           key=f"driftlab-grade-{run}-{len(queue)}", pure=False, retries=0)
                    running[future.key], pending[future.key] = job, future
                    finished.add(future)
                    if gave_up.is_set():  # the watchdog gave up while this one was being sent
                        client.cancel([future])

            fill()
            for future in finished:
                job = running.pop(future.key)
                pending.pop(future.key, None)
                if future.status == "finished":
                    done = self._receive(job, future.result())
                elif gave_up.is_set() and future.status == "cancelled":
                    done = Done(job, error=watchdog.reason, retry=True)
                else:
                    exc = future.exception()
                    if isinstance(exc, KilledWorker):
                        error = (f"worker died: the Dask worker grading this submission died "
                                 f"{ALLOWED_FAILURES + 1} times (it was retried on another worker)")
                    else:
                        error = f"internal error on the Dask worker: {type(exc).__name__}: {exc}"[:400]
                    done = Done(job, error=error)
                self.done[(job.student, job.module)] = done
                self.progress(1, f"{job.student} · {job.module}", job.module)
                future.release()
                fill()
            watchdog.stop()
            for job in queue:  # never sent: the cluster had no worker left
                self.done[(job.student, job.module)] = Done(job, error=watchdog.reason, retry=True)
                self.progress(1, f"{job.student} · {job.module} (no worker)", job.module)
            try:
                client.unregister_worker_plugin(name)  # stops the workers' grading processes
            except Exception:  # noqa: BLE001 - the workers close anyway (local) or keep nothing running
                pass
        finally:
            if watchdog is not None:
                watchdog.stop()
            client.close()
            if cluster is not None:
                cluster.close()
        self.stats["grade_s"] = time.monotonic() - t0

    def _receive(self, job: Job, result: Any) -> Done:
        """A task's result, checked to be plain data, as a ``Done`` whose files are in ``out``."""
        if not isinstance(result, dict) or not _plain(result):
            return Done(job, error="internal error: the worker's reply is not plain data")
        if result.get("log"):
            with open(self.workdir / "grading.log", "a", encoding="utf-8") as log:
                log.write(f"--- {job.student} · {job.module} on {result.get('worker')}: {result.get('seconds')} s, "
                          f"grading process peak {result.get('max_rss_mb')} MB\n{result['log']}\n")
        error = result.get("error")
        autograded = feedback = None
        name = result.get("name") or f"{job.module}.ipynb"
        if result.get("autograded") and not error:
            autograded = self.out / "autograded" / job.student / job.module / Path(name).name
            autograded.parent.mkdir(parents=True, exist_ok=True)
            autograded.write_bytes(result["autograded"])
        problem = result.get("feedback_problem") or ""
        if result.get("feedback") and not error:
            text = result["feedback"].decode("utf-8", errors="replace")
            bad = fb.leaks(text)
            if bad:  # the worker checked already; the client does not trust that alone
                problem = "feedback withheld: it contains hidden-test text (" + ", ".join(bad) + ")"
            else:
                feedback = self.out / "feedback" / job.student / f"{job.module}.html"
                feedback.parent.mkdir(parents=True, exist_ok=True)
                feedback.write_bytes(result["feedback"])
        notes = [f"not sandboxed: {result['unsandboxed']} (on the Dask worker {result.get('worker')})"] \
            if result.get("unsandboxed") else []
        notes += [str(n) for n in result.get("notes") or []]  # output the grader did not keep
        return Done(job, cells=None if error else result.get("cells"), error=error, autograded=autograded,
                    feedback=feedback, feedback_problem=problem, notes=notes)
