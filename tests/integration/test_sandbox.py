"""Escapes from the grading kernel (tests/integration/escapes.py) through ``driftlab grade`` and plain
``nbgrader autograde``, in the sandbox: no point gained, a reason for every limit hit, other learners'
scores unchanged, the course and the installation unchanged, no process left behind.

A control run with ``--sandbox off`` grades the harmless attacks and shows each of them working —
so the sandboxed runs pass because the sandbox stops them, not because the attacks are broken — and
shows the loud warning in the terminal, the report and the CSV.
"""
from __future__ import annotations

import csv
import hashlib
import http.server
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import psutil
import pytest

from grader import nbgrader as R
from grader.batch import results as res
from grader.batch import workers as wk
from grader.sandbox.limits import sandbox_cgroups
from tests.integration import escapes, hostile
from tests.support import ROOT

TINY = hostile.TINY
TIMEOUT = 20


class _Answers(http.server.BaseHTTPRequestHandler):
    """The right output of ``fwer`` for ``GET /[n,alpha]`` (what the network attack asks)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        n, alpha = json.loads(urllib.parse.unquote(self.path[1:]))
        body = json.dumps(1 - (1 - alpha) ** n).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def digest(paths: list[Path]) -> dict[str, str]:
    """Content hash of every file under ``paths`` (a folder's files, or a file), by path."""
    found = {}
    for top in paths:
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for p in files:
            if "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts:
                found[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def site_listing() -> dict[str, tuple[int, int]]:
    """Every file of the virtualenv's site-packages with its size and modification time."""
    site = Path(psutil.__file__).resolve().parents[1]
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in site.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def protected(course: Path) -> dict:
    """What no grading may change: the repository's course and packages, a test course's instructor files,
    the virtualenv."""
    mine = [ROOT / "driftlab", ROOT / "grader", ROOT / "solutions", ROOT / "notebooks", ROOT / "nbgrader_config.py",
            course / "solutions", course / "nbgrader_config.py", course / "release"]
    return {"files": digest([p for p in mine if p.exists()]), "site": site_listing()}


def _orphaned(path: Path, prefix: str) -> bool:
    """A sandbox folder or cgroup whose grading process has ended (tests in other processes run their own)."""
    owner = path.name[len(prefix):].split("-")[0]
    return owner.isdigit() and not psutil.pid_exists(int(owner))


def leftovers() -> list[str]:
    """Processes an attack left behind, sandbox folders and cgroups their grading process did not remove."""
    found = [" ".join(p.info["cmdline"]) for p in psutil.process_iter(["cmdline"])
             if escapes.MARKER in " ".join(p.info["cmdline"] or [])]
    found += [str(p) for p in Path(tempfile.gettempdir()).glob("dl-sbx-*") if _orphaned(p, "dl-sbx-")]
    found += [str(p) for p in sandbox_cgroups() if _orphaned(p, "driftlab-")]
    return found


@pytest.fixture(scope="module")
def escape_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("escape")
    course = hostile.tiny_course(base / "course")
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write("".join(f"c.Sandbox.{k} = {v}\n" for k, v in escapes.LIMITS.items()))
    R.generate(course, TINY)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    corpus = base / "corpus"
    chosen = escapes.build(corpus, TINY, course, port)
    before = protected(course)
    runs = {"course": course, "cases": chosen, "port": port}

    # 1. driftlab grade, sandboxed (the default), two workers
    out = base / "out"
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(corpus), "--out", str(out), "--jobs", "2",
           "--timeout", str(TIMEOUT), "--course", str(course)]
    runs["grade"] = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    runs["out"] = out
    runs["csv_after_run"] = (out / "grades.csv").read_bytes()

    # 2. plain nbgrader autograde with the course config
    for escape in chosen:
        R.submit(course, escape.student, TINY, corpus / f"{escape.student}__{TINY}.ipynb", f"{TINY}.ipynb")
    runs["plain"] = R.run_nbgrader(course, "autograde", TINY, "--create", "--force", f"--Execute.timeout={TIMEOUT}",
                                   check=False, timeout=900)
    runs["after"] = protected(course)
    runs["before"] = before
    time.sleep(3)  # the daemon would have rewritten grades.csv by now (it looks every 0.5 s)
    runs["leftovers"] = leftovers()
    runs["csv_later"] = (out / "grades.csv").read_bytes()

    # 3. the control: the harmless attacks with --sandbox off
    control = base / "control-corpus"
    escapes.build(control, TINY, course, port, only=lambda e: e.harmless and e.student != "e-gradebook")
    off = base / "out-off"
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(control), "--out", str(off), "--jobs", "1",
           "--timeout", str(TIMEOUT), "--course", str(course), "--sandbox", "off"]
    runs["off"] = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    runs["off_out"] = off
    yield runs
    server.shutdown()


def _rows(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


def _max(course: Path) -> float:
    return hostile.max_score(TINY, course)


@pytest.mark.slow
@pytest.mark.parametrize("escape", escapes.ESCAPES, ids=[e.student for e in escapes.ESCAPES])
def test_driftlab_grade_gives_an_escape_nothing(escape_runs, escape):
    # the limit cases cannot be graded, so driftlab grade exits 1 and names each of them
    assert escape_runs["grade"].returncode == 1, escape_runs["grade"].stderr[-3000:]
    row = _rows(escape_runs["out"])[escape.student]
    assert (f"could not grade {escape.student}" in escape_runs["grade"].stderr) == (escape.status != res.GRADED)
    assert row["status"] == escape.status, (row, escape_runs["grade"].stderr[-3000:])
    if escape.status == res.GRADED:
        expected = _max(escape_runs["course"]) if escape.score == "max" else 0.0
        assert math.isclose(float(row["score"]), expected), row
        state = json.loads((escape_runs["out"] / "results.json").read_text())
        detail = next(r for r in state["rows"] if r["student_id"] == escape.student)["exercises"]
        assert detail and all(d["from"] == "judge" for d in detail.values())  # each verdict has its reason
        if escape.score == "zero":
            assert all(d["status"] != "correct" for d in detail.values()), detail
    else:
        assert escape.reason in row["reason"], row
    assert "not sandboxed" not in row["notes"]


@pytest.mark.slow
@pytest.mark.parametrize("escape", escapes.ESCAPES, ids=[e.student for e in escapes.ESCAPES])
def test_plain_nbgrader_autograde_gives_an_escape_nothing(escape_runs, escape):
    course, log = escape_runs["course"], escape_runs["plain"].stderr
    failures = wk.parse_failures(log)
    if escape.status == res.GRADED:
        assert escape.student not in failures, failures.get(escape.student)
        score, max_score = R.total_score(course, TINY, escape.student)
        assert score == (max_score if escape.score == "max" else 0.0), (escape.student, score)
    else:
        assert "LimitExceeded" in failures[escape.student] and escape.reason in failures[escape.student]


@pytest.mark.slow
def test_no_file_of_the_course_or_the_installation_changed(escape_runs):
    before, after = escape_runs["before"], escape_runs["after"]
    changed = sorted(p for p in set(before["files"]) | set(after["files"])
                     if before["files"].get(p) != after["files"].get(p))
    assert changed == []
    assert before["site"] == after["site"]  # no .pth dropped, nothing rewritten in site-packages


@pytest.mark.slow
def test_nothing_an_escape_started_outlives_its_grading(escape_runs):
    assert escape_runs["leftovers"] == []
    assert escape_runs["csv_later"] == escape_runs["csv_after_run"]  # no daemon rewrote grades.csv


@pytest.mark.slow
def test_without_the_sandbox_the_attacks_work_and_grading_says_so_loudly(escape_runs):
    proc, off, course = escape_runs["off"], escape_runs["off_out"], escape_runs["course"]
    rows = _rows(off)
    # exit 1 exactly when a row could not be graded (the victim's emptied notebook may be one)
    assert proc.returncode == (1 if any(r["status"] != res.GRADED for r in rows.values()) else 0), proc.stderr[-3000:]
    fwer_points = 2.0
    assert float(rows["e-read-solutions"]["score"]) >= fwer_points  # the instructor's cell answered for it
    assert float(rows["e-network"]["score"]) >= fwer_points  # the server answered for it
    victim = rows["z-right"]
    assert not (victim["status"] == res.GRADED and math.isclose(float(victim["score"]), _max(course)))
    assert "SANDBOX OFF" in proc.stderr
    assert "SANDBOX OFF" in (off / "report.html").read_text(encoding="utf-8")
    assert all("not sandboxed" in r["notes"] for r in rows.values() if r["status"] == res.GRADED)


@pytest.mark.slow
def test_nbgrader_validate_from_the_course_runs_the_kernel_in_the_sandbox(escape_runs, tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    course = escape_runs["course"]
    probe = (f"import os\nassert not os.path.exists({str(course / 'solutions')!r}), 'the kernel sees solutions/'\n"
             "assert os.getpid() < 10, 'the kernel is not in its own PID namespace'\n")
    nb = new_notebook(cells=[new_code_cell(probe)], metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, path)
    proc = R.run_nbgrader(course, "validate", str(path), check=False, timeout=300)
    assert "Success" in proc.stdout and "sees solutions" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
