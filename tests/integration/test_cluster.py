"""``driftlab grade --cluster``: a real Dask scheduler and two workers, each a separate process on localhost.

One module-scoped run grades a small corpus of the tiny module (tests/integration/hostile.py) on the
cluster and with serial ``nbgrader autograde`` (the local cluster, ``--jobs 2``, grades the same
synthetic submissions in test_grade_pipeline.py against the same expected scores), and, on the
cluster, two faults:

* ``a-sleeper`` (right answers, a cell that sleeps): the test kills the worker process that is
  grading it; the scheduler retries the task elsewhere and the learner is graded once, in full;
* ``z-killer``: its workers run with the test hook ``DRIFTLAB_TEST_KILL_WORKER_ON=z-killer`` (an
  environment variable of the worker process, out of any submission's reach), so every worker that
  takes it dies; after two deaths it is "could not grade: worker died" and nobody else is hurt.

Every process the test starts is stopped at the end (by process group), also on failure.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from grader import nbgrader as R
from grader.batch import results as res
from grader.batch import workers as wk
from grader.batch.engine import QUIET_CLUSTER
from tests.integration import hostile

TINY = hostile.TINY
TIMEOUT = 30  # per cell: the sleeper's cell must fit
BIN = Path(sys.executable).parent
COMMON = {"b-right": "right", "c-wrong": "wrong", "d-untouched": "untouched",
          "e-mixed": {"tiny-blank": "right", "tiny-choice": "wrong", "tiny-func": "right"}}
SLEEPER, KILLER = "a-sleeper", "z-killer"


def _sleeper(nb) -> bytes:
    nb = copy.deepcopy(nb)
    nb.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(8)"))
    return hostile._dump(nb)


def _scores(out: Path) -> dict[str, tuple[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {r["student_id"]: (r["status"], r["score"]) for r in csv.DictReader(fh)}


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra)
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "1"
    env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] = "1.0"
    for key, value in QUIET_CLUSTER.items():  # the quiet-worker settings docs/SCALING.md recommends
        env["DASK_" + key.upper().replace(".", "__").replace("-", "_")] = str(value)
    return env


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes, each in its own process group."""

    def __init__(self, base: Path) -> None:
        self.base, self.procs = base, []
        self.file = base / "scheduler.json"
        self.address = ""

    def start(self, workers: int, **worker_env: str) -> None:
        self.procs.append(subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(self.file)], env=_env(), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=open(self.base / "scheduler.log", "w")))
        for _ in range(300):
            if self.file.exists():
                try:
                    self.address = json.loads(self.file.read_text())["address"]
                    break
                except (ValueError, KeyError):
                    pass
            time.sleep(0.1)
        assert self.address.startswith("tcp://127.0.0.1:"), (self.base / "scheduler.log").read_text()
        self.add_workers(workers, **worker_env)

    def add_workers(self, workers: int, **worker_env: str) -> None:
        first = sum(1 for p in self.base.glob("worker-*") if p.is_dir())
        for n in range(first, first + workers):
            local = self.base / f"worker-{n}"
            local.mkdir()
            self.procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", self.address, "--nworkers", "1", "--nthreads", "1",
                 "--name", f"w{n}", "--local-directory", str(local), "--no-dashboard"],
                env=_env(**worker_env), start_new_session=True, stdout=subprocess.DEVNULL,
                stderr=open(self.base / f"worker-{n}.log", "w")))

    def stop(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _running_a_kernel(pid: int) -> bool:
    """Whether a worker process has a (sandboxed) kernel among its descendants."""
    try:
        found = psutil.Process(pid).children(recursive=True)
        return any("ipykernel" in " ".join(c.cmdline()) for c in found)
    except psutil.Error:
        return False


def _kill_the_sleeper(address: str, record: dict, stop: threading.Event) -> None:
    """Find the worker grading the sleeper and kill it a few seconds into its task; note every process seen."""
    from distributed import Client

    with Client(address, timeout="30s") as client:
        while not stop.is_set():
            try:
                # a lambda travels by value (the workers cannot import this test module)
                executing = client.run(lambda dask_worker: [str(ts.key) for ts in dask_worker.state.executing])
                keys = {k for ks in executing.values() for k in ks}
                owner = {k: addr for addr, ks in executing.items() for k in ks}
                pids = client.run(os.getpid)
            except Exception as exc:  # noqa: BLE001 - a worker just died (the killer): ask again
                record["last_error"] = repr(exc)
                time.sleep(0.2)
                continue
            record.setdefault("seen", set()).update(p for p in pids.values())
            for pid in pids.values():
                try:
                    record["seen"].update(c.pid for c in psutil.Process(pid).children(recursive=True))
                except psutil.Error:
                    pass
            sleeper = [k for k in keys if record.get("sleeper_key") and k == record["sleeper_key"]]
            if not record.get("sleeper_key"):
                # the engine names tasks driftlab-grade-RUN-N, N counting down from the first submitted:
                # the sleeper is submitted first (same module, "a-" sorts first), so it has the largest N
                grading = sorted((k for k in keys if k.startswith("driftlab-grade-")),
                                 key=lambda k: -int(k.rsplit("-", 1)[1]))
                if grading and int(grading[0].rsplit("-", 1)[1]) == record["total"] - 1:
                    record["sleeper_key"] = grading[0]
                    sleeper = [grading[0]]
            if sleeper and "killed" not in record:
                pid = pids[owner[sleeper[0]]]
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not _running_a_kernel(pid):
                    time.sleep(0.2)
                time.sleep(1)  # the learner's kernel is running the notebook (the 8 s sleep): mid-task
                record["kernel_seen"] = _running_a_kernel(pid)
                os.kill(pid, signal.SIGKILL)
                record["killed"] = pid
                return
            time.sleep(0.2)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("cluster")
    course = hostile.tiny_course(base / "course")
    cache = base / "cache"
    template, broken = wk.template_course(cache, [TINY], course)
    assert not broken, broken
    common, everything = base / "common", base / "all"
    for student, mode in COMMON.items():
        hostile.write_notebook(hostile.answered(TINY, mode, template), common / f"{student}__{TINY}.ipynb")
    (common / f"f-exit__{TINY}.ipynb").write_bytes(hostile.kernel_exit(hostile.answered(TINY, "right", template)))
    shutil.copytree(common, everything)
    (everything / f"{SLEEPER}__{TINY}.ipynb").write_bytes(_sleeper(hostile.answered(TINY, "right", template)))
    hostile.write_notebook(hostile.answered(TINY, "right", template), everything / f"{KILLER}__{TINY}.ipynb")

    def grade(corpus: Path, out: Path, *extra: str) -> subprocess.Popen:
        return _grade(cache, course, corpus, out, *extra)

    found: dict = {"base": base, "template": template, "course": course, "cache": cache, "common": common}
    cluster = Cluster(base)
    try:
        cluster.start(2, DRIFTLAB_TEST_KILL_WORKER_ON=KILLER)
        record = {"total": len(COMMON) + 3}
        stop = threading.Event()
        killer = threading.Thread(target=_kill_the_sleeper, args=(cluster.address, record, stop), daemon=True)
        killer.start()
        start = time.monotonic()
        proc = grade(everything, base / "out-cluster", "--cluster", cluster.address)
        stdout, stderr = proc.communicate(timeout=600)
        found["cluster_s"] = time.monotonic() - start
        stop.set()
        killer.join(timeout=30)
        found.update(cluster=proc, cluster_err=stderr, record=record, out=base / "out-cluster")
        time.sleep(1.5)  # an autograder orphaned by the kill notices within 0.5 s
        found["left_after_run"] = [p.pid for p in psutil.process_iter() if p.pid in record.get("seen", set())
                                   and p.pid not in _cluster_pids(cluster)]
    finally:
        cluster.stop()
    found["left_after_stop"] = [" ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])
                                if str(base) in " ".join(p.info["cmdline"] or [])
                                or p.pid in found.get("record", {}).get("seen", set())]


    serial = base / "serial"
    shutil.copytree(template, serial)
    for p in common.glob("*.ipynb"):
        R.submit(serial, p.name.split("__")[0], TINY, p, name=f"{TINY}.ipynb")
    plain = R.run_nbgrader(serial, "autograde", TINY, "--create", "--force", f"--Execute.timeout={TIMEOUT}",
                           check=False, timeout=600)
    failures = wk.parse_failures(plain.stderr)
    found["serial"] = {}
    for p in common.glob("*.ipynb"):
        student = p.name.split("__")[0]
        cells = None if student in failures else R.cell_scores(serial, TINY, student)
        ok = cells and all(c.score is not None and not c.needs_manual for c in cells.values())
        found["serial"][student] = (res.GRADED, f"{sum(c.score for c in cells.values()):g}") if ok else (res.NOT_GRADED, "")
    return found


def _grade(cache: Path, course: Path, corpus: Path, out: Path, *extra: str) -> subprocess.Popen:
    """``driftlab grade`` in a subprocess; a first run into ``out`` gets the generated course (as a re-run has it)."""
    if not (out / ".work").exists():
        (out / ".work").mkdir(parents=True)
        shutil.copytree(cache, out / ".work" / "cache")
    return subprocess.Popen([sys.executable, "-m", "grader.cli", "grade", str(corpus), "--out", str(out),
                             "--timeout", str(TIMEOUT), "--course", str(course), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())


def _cluster_pids(cluster: Cluster) -> set[int]:
    """The scheduler, nannies and worker processes themselves (alive until the cluster is stopped)."""
    pids = set()
    for proc in cluster.procs:
        try:
            parent = psutil.Process(proc.pid)
        except psutil.Error:
            continue
        pids.add(proc.pid)
        pids.update(c.pid for c in parent.children(recursive=False))  # a nanny's worker process
    return pids


@pytest.mark.slow
def test_cluster_run_completes_and_says_where_it_ran(runs):
    proc, err = runs["cluster"], runs["cluster_err"]
    assert proc.returncode == 1, err[-4000:]  # 1: some submissions could not be graded (z-killer, f-exit)
    assert f"Dask cluster {runs['cluster'].args[runs['cluster'].args.index('--cluster') + 1]}" in err
    assert "Dask dashboard:" in err  # the link, or that it is unavailable (no bokeh here)
    assert "[##############################] 7/7 autograded" in err and "99:7/7" in err


@pytest.mark.slow
def test_cluster_and_serial_nbgrader_give_identical_scores(runs):
    """The local cluster (``--jobs 2``) is held to the same expected scores in test_grade_pipeline.py (the
    same synthetic submissions, the hostile corpus included): not graded a third time here."""
    cluster = _scores(runs["out"])
    full = f"{hostile.max_score(TINY, runs['template']):g}"
    for student in list(COMMON) + ["f-exit"]:
        assert cluster[student] == runs["serial"][student], student
    assert cluster["b-right"] == (res.GRADED, full) and cluster["c-wrong"] == (res.GRADED, "0")
    assert cluster["e-mixed"] == (res.GRADED, f"{hostile.expected_score(TINY, COMMON['e-mixed'], runs['template']):g}")


@pytest.mark.slow
def test_a_worker_killed_mid_task_costs_nothing(runs):
    record = runs["record"]
    assert "killed" in record, f"the sleeper was never seen grading: {record}"
    assert record["kernel_seen"], "killed before its kernel ran"
    full = f"{hostile.max_score(TINY, runs['template']):g}"
    assert _scores(runs["out"])[SLEEPER] == (res.GRADED, full)
    log = (runs["out"] / ".work" / "grading.log").read_text(encoding="utf-8")
    assert log.count(f"--- {SLEEPER} ·") == 1  # one result came back: graded once
    with open(runs["out"] / "grades.csv", newline="", encoding="utf-8") as fh:
        students = [r["student_id"] for r in csv.DictReader(fh)]
    assert sorted(students) == sorted(list(COMMON) + ["f-exit", SLEEPER, KILLER])  # nobody lost, nobody twice


@pytest.mark.slow
def test_a_submission_that_kills_every_worker_cannot_be_graded(runs):
    with open(runs["out"] / "grades.csv", newline="", encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["student_id"] == KILLER)
    assert row["status"] == res.NOT_GRADED and row["score"] == ""
    assert row["reason"].startswith("worker died") and "2 times" in row["reason"], row


@pytest.mark.slow
def test_no_process_is_left_behind(runs):
    assert runs["left_after_run"] == []  # grading processes (the killed worker's too) end with the run
    assert runs["left_after_stop"] == []


def test_the_client_takes_only_plain_data_and_writes_the_files_itself(tmp_path):
    from grader.batch import engine as eng
    from grader.batch import intake as ik

    job = wk.Job("s1", TINY, tmp_path / "unused.ipynb")
    engine = eng.Engine([job], [TINY], tmp_path / "work", tmp_path / "out")
    (tmp_path / "work").mkdir()
    cells = {"tiny-choice-test": {"score": 1.0, "max_score": 1.0, "needs_manual": False}}
    done = engine._receive(job, {"cells": cells, "error": None, "autograded": b'{"cells": []}',
                                 "feedback": b"<html>ok</html>", "feedback_problem": "", "name": f"{TINY}.ipynb",
                                 "log": "", "worker": "tcp://w", "unsandboxed": "bubblewrap is not installed"})
    assert done.autograded == tmp_path / "out" / "autograded" / "s1" / TINY / f"{TINY}.ipynb"
    assert done.feedback.read_bytes() == b"<html>ok</html>"
    sub = ik.Submission("s1", TINY, job.notebook, "s1.ipynb", "plain")
    row = res.row_for(done, sub, "sha", "key", [])
    assert row.status == res.GRADED and "not sandboxed: bubblewrap is not installed (on the Dask worker tcp://w)" in row.notes
    assert "on the Dask worker" not in res.row_for(done, sub, "sha", "key", ["not sandboxed: off"]).notes

    class Sneaky:  # anything but plain data is refused, whatever it claims to be
        pass

    refused = engine._receive(job, {"cells": cells, "error": None, "autograded": Sneaky()})
    assert refused.error.startswith("internal error") and refused.cells is None
    from driftlab.protocol import HIDDEN_MARKERS

    leaky = engine._receive(job, {"cells": cells, "error": None, "feedback": f"<p>{HIDDEN_MARKERS[0]}</p>".encode()})
    assert leaky.feedback is None and "withheld" in leaky.feedback_problem  # checked again by the client


@pytest.mark.slow
def test_a_cluster_without_workers_is_given_up_on_and_a_rerun_grades_it(runs):
    """Batch jobs still queued, or past their wall time: the scheduler has no worker. The run says so, gives up
    after --worker-wait, records every submission as "could not grade" with that reason (never a score), and
    exits 1; the same command once a worker has joined grades them all (those rows were not kept as final)."""
    base = runs["base"] / "no-workers"
    base.mkdir()
    out = base / "out"
    cluster = Cluster(base)
    try:
        cluster.start(0)
        start = time.monotonic()
        proc = _grade(runs["cache"], runs["course"], runs["common"], out, "--cluster", cluster.address,
                      "--worker-wait", "3")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err[-3000:]
        assert time.monotonic() - start < 60
        assert "the Dask cluster has no worker; waiting up to 3 s" in err and "giving up" in err, err[-3000:]
        first = _scores(out)
        assert set(first) == set(COMMON) | {"f-exit"}
        assert all(status == res.NOT_GRADED and score == "" for status, score in first.values()), first
        with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
            reasons = {r["student_id"]: r["reason"] for r in csv.DictReader(fh)}
        assert all("no Dask worker in the cluster for 3 s" in r and "again" in r for r in reasons.values()), reasons

        cluster.add_workers(1)
        proc = _grade(runs["cache"], runs["course"], runs["common"], out, "--cluster", cluster.address,
                      "--worker-wait", "60")
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 1, err[-3000:]  # f-exit's kernel exits: it can never be graded
        assert "already graded" not in err, err[-3000:]   # nothing of the first run was kept as final
        again = _scores(out)
        full = f"{hostile.max_score(TINY, runs['template']):g}"
        assert again["b-right"] == (res.GRADED, full) and again["c-wrong"] == (res.GRADED, "0")
        for student in COMMON:
            assert again[student] == runs["serial"][student], student
    finally:
        cluster.stop()
