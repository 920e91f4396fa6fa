"""``driftlab grade``: intake patterns, statuses, hostile submissions, feedback and the class report.

Fast unit tests first; then one real run of ``driftlab grade --jobs 2`` (real nbgrader) over a zip
holding every hostile case of ``tests/hostile.py`` (on a tiny module, so the run stays short) and a
right / wrong / untouched 02_detecting_drift, shared by the slow tests.

Cheats that rewire the learner's kernel (display hooks, patched standard library, builtins, tracers,
stack walking, input transformers, IPython's history) gain nothing: the judge (grader/judge.py)
decides outside the kernel. They score zero; intake's text patterns add a hint for review (never a verdict).
"""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.integration import corpus_output, hostile
from driftlab.protocol import RESULT_MIME, TEST_SUFFIX
from grader.batch import intake as ik
from grader.batch import feedback as fb
from grader.batch import report as rp
from grader.batch import results as res
from grader.batch import engine as eng
from grader.batch import workers as wk

from tests.support import ROOT  # noqa: E402
MODULE = "02_detecting_drift"
MODULES = ["01_why_models_degrade", "02_detecting_drift", "03_accuracy_thresholds"]
TIMEOUT = 20  # per cell: the infinite loop costs this much, slow cells on a busy machine must fit


# --------------------------------------------------------------------------------------------- intake

def _touch(root: Path, rel: str, data: bytes = b"{}") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_intake_understands_each_layout_and_lists_the_rest(tmp_path):
    files = {
        "submitted/alice/02_detecting_drift/02_detecting_drift.ipynb": ("nbgrader", "alice", "02_detecting_drift"),
        "bob/03_accuracy_thresholds/mine.ipynb": ("nbgrader", "bob", "03_accuracy_thresholds"),
        "Carol Smith_4711_assignsubmission_file_/02_detecting_drift.ipynb": ("moodle", "4711", "02_detecting_drift"),
        "doejane_123456_7890_02_detecting_drift-1.ipynb": ("canvas", "123456", "02_detecting_drift"),
        "roejim_LATE_222_333_01_why_models_degrade.ipynb": ("canvas", "222", "01_why_models_degrade"),
        "dave__02_detecting_drift.ipynb": ("plain", "dave", "02_detecting_drift"),
    }
    others = ["notes.txt", "__MACOSX/._dave__02_detecting_drift.ipynb", "random.ipynb",
              "erin__99_no_such_module.ipynb", "submitted/alice/02_detecting_drift/.ipynb_checkpoints/x.ipynb",
              "Frank Li_99_assignsubmission_file_/homework.ipynb"]
    for rel in list(files) + others:
        _touch(tmp_path, rel)
    found = ik.discover(tmp_path, MODULES)
    got = {s.origin: (s.pattern, s.student, s.module) for s in found.submissions}
    assert got == files
    unmatched = {u.origin: u.reason for u in found.unmatched}
    assert set(unmatched) == set(others)  # listed, not dropped
    assert "not a notebook" in unmatched["notes.txt"]
    assert "not a module" in unmatched["erin__99_no_such_module.ipynb"]
    assert "--module" in unmatched["Frank Li_99_assignsubmission_file_/homework.ipynb"]
    # a single-assignment download: --module says which
    found = ik.discover(tmp_path, MODULES, default_module="02_detecting_drift")
    assert ("moodle", "99", "02_detecting_drift") in {(s.pattern, s.student, s.module) for s in found.submissions}


def test_intake_keeps_the_latest_of_several_files_and_reads_zips(tmp_path):
    src = tmp_path / "src"
    _touch(src, "doejane_123456_100_02_detecting_drift.ipynb", b"old")
    _touch(src, "doejane_123456_200_02_detecting_drift-1.ipynb", b"new")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in src.iterdir():
            zf.write(p, p.name)
        zf.writestr("../evil__02_detecting_drift.ipynb", b"{}")  # zip-slip: never written outside
        zf.writestr("/abs__02_detecting_drift.ipynb", b"{}")
        link = zipfile.ZipInfo("link__02_detecting_drift.ipynb")
        link.external_attr = (0o120777 << 16)  # a symbolic link stored in the zip
        zf.writestr(link, "../../solutions/02_detecting_drift/02_detecting_drift.ipynb")
        fifo = zipfile.ZipInfo("fifo__02_detecting_drift.ipynb")
        fifo.external_attr = (0o010644 << 16)  # a named pipe
        zf.writestr(fifo, b"")
    folder, skipped = ik.open_input(archive, tmp_path / "work")
    found = ik.discover(folder, MODULES)
    assert [s.path.read_bytes() for s in found.submissions] == [b"new"]
    assert any("superseded" in u.reason for u in found.unmatched)
    assert not (tmp_path / "evil__02_detecting_drift.ipynb").exists()
    reasons = {u.origin: u.reason for u in skipped}  # nothing skipped silently: each entry listed, with why
    assert "path traversal" in reasons["../evil__02_detecting_drift.ipynb"]
    assert "absolute path" in reasons["/abs__02_detecting_drift.ipynb"]
    assert "symbolic link" in reasons["link__02_detecting_drift.ipynb"]
    assert "special file" in reasons["fifo__02_detecting_drift.ipynb"]


def test_intake_keeps_every_learner_distinct_and_never_reads_a_link(tmp_path):
    _touch(tmp_path, "学生一__08_test.ipynb", b"one")
    _touch(tmp_path, "学生二__08_test.ipynb", b"two")
    _touch(tmp_path, "ana maria__08_test.ipynb", b"a")  # "ana maria" and "ana_maria" give the same id
    _touch(tmp_path, "ana_maria__08_test.ipynb", b"b")
    (tmp_path / "solutions").mkdir()
    _touch(tmp_path, "solutions/08_test.ipynb", b"instructor")
    (tmp_path / "mallory__08_test.ipynb").symlink_to(tmp_path / "solutions" / "08_test.ipynb")
    (tmp_path / "linked_dir").symlink_to(tmp_path / "solutions", target_is_directory=True)
    found = ik.discover(tmp_path, ["08_test"])
    by_content = {s.path.read_bytes(): s for s in found.submissions}
    assert set(by_content) == {b"one", b"two", b"a", b"b"}  # four learners, four submissions
    assert by_content[b"one"].student == "学生一" and by_content[b"two"].student == "学生二"
    assert len({s.student for s in found.submissions}) == 4
    assert by_content[b"a"].student != by_content[b"b"].student
    assert "made unique" in by_content[b"a"].note and "made unique" in by_content[b"b"].note
    reasons = {u.origin: u.reason for u in found.unmatched}
    assert "symbolic link" in reasons["mallory__08_test.ipynb"] and "symbolic link" in reasons["linked_dir"]
    assert not any(s.path.is_symlink() for s in found.submissions)


def test_prepare_rejects_broken_files_and_repairs_fixable_ones():
    assert ik.prepare(b"").reason == "empty file"
    assert ik.prepare(b"  \n").reason == "empty file"
    assert ik.prepare(b'{"cells": [').reason.startswith("corrupt file")
    assert ik.prepare(b'[1, 2]').reason.startswith("corrupt file")
    nb = hostile.answered(MODULE, "right")
    v3 = ik.prepare(hostile.old_format_v3(nb))
    assert v3.content and "upgraded from nbformat 3" in v3.notes
    assert nbformat.reads(v3.content.decode(), as_version=4).nbformat == 4
    dup = ik.prepare(hostile.duplicated_answer_cell(nb, hostile.answered(MODULE, "wrong")))
    fixed = nbformat.reads(dup.content.decode(), as_version=4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in fixed.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)) and any("duplicated" in n for n in dup.notes)


def test_failures_are_attributed_and_explained():
    log = ("[AutogradeApp | INFO] Creating/updating student with ID 'a': {}\n"
           "[AutogradeApp | ERROR] There was an error processing assignment: /c/submitted-1/a/02_detecting_drift\n"
           "[AutogradeApp | ERROR] Traceback (most recent call last):\n"
           "      File \"x.py\", line 1, in f\n"
           "    nbclient.exceptions.DeadKernelError: Kernel died\n"
           "/some/warning.py:1: UserWarning: noise\n"
           "[AutogradeApp | INFO] Creating/updating student with ID 'b': {}\n")
    failures = wk.parse_failures(log)
    assert failures == {"a": "nbclient.exceptions.DeadKernelError: Kernel died"}
    assert res.explain_failure(failures["a"]).startswith("kernel died")
    assert "lacks the cell" in res.explain_failure("KeyError: 'detect-x-answer'")


def _row(student: str, score: float, ex: dict[str, str]) -> res.Row:
    return res.Row(student, "m", res.GRADED, score=score, max_score=2.0, exercises={
        k: {"score": 1.0 if v == "correct" else 0.0, "max_score": 1.0, "status": v,
            "misconception": None if v != "incorrect" else "oops"} for k, v in ex.items()})


def test_discrimination_index_and_report_render(tmp_path):
    rows = [_row(f"s{i}", 2.0, {"a": "correct", "b": "correct"}) for i in range(5)]
    rows += [_row(f"t{i}", 1.0, {"a": "correct", "b": "incorrect"}) for i in range(5)]
    rows += [res.Row("z", "m", res.NOT_GRADED, reason="kernel died")]
    assert rp.discrimination(rows, "a") == 0.0
    assert rp.discrimination(rows, "b") == 1.0
    table = {t["exercise"]: t for t in rp.exercise_table(rows)}
    assert table["b"]["share_correct"] == 0.5 and table["b"]["misconceptions"]["oops"] == 5
    out = rp.render(rows, [ik.Unmatched("x.txt", "not a notebook")], tmp_path / "r.html")
    text = out.read_text()
    assert text.count("data:image/svg+xml;base64,") == 3 and "kernel died" in text and "x.txt" in text


def test_verdicts_come_from_the_judges_records_in_test_cells_only(tmp_path):
    """Reports read the judge's result records from test cells; a record the learner's code printed
    elsewhere (or an unjudged one) counts for nothing; the judge's flags are kept for the notes."""
    def cell(grade_id: str, *records: dict) -> dict:
        c = nbformat.v4.new_code_cell("", metadata={"nbgrader": {"grade_id": grade_id}})
        c.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "", RESULT_MIME: r}) for r in records]
        return c

    judged = {"exercise": "a", "status": "incorrect", "misconception": "union-bound", "judge": True,
              "flags": ["the test cell showed a value of its own"]}
    nb = nbformat.v4.new_notebook(cells=[
        cell("a-answer", {"exercise": "b", "status": "correct", "judge": True}),  # a forged record, wrong cell
        cell("a" + TEST_SUFFIX, judged),
        cell("b" + TEST_SUFFIX, {"exercise": "b", "status": "unanswered", "misconception": None, "judge": True}),
        cell("c" + TEST_SUFFIX, {"exercise": "c", "status": "correct", "misconception": None}),  # not the judge's
        cell("d" + TEST_SUFFIX, json.dumps({"exercise": "d", "status": "correct", "judge": True})),
    ])
    path = tmp_path / "autograded.ipynb"
    nbformat.write(nb, path)
    findings = res.notebook_findings(path)
    assert set(findings.verdicts) == {"a", "b", "d"}
    assert findings.flags == ["a: the test cell showed a value of its own"]
    cells = {f"{e}{TEST_SUFFIX}": {"score": 1.0 if e == "d" else 0.0, "max_score": 1.0, "needs_manual": False}
             for e in "abcd"}
    detail = res.exercise_detail(cells, findings)
    assert {e: (d["status"], d["misconception"], d["from"]) for e, d in detail.items()} == {
        "a": ("incorrect", "union-bound", "judge"), "b": ("unanswered", None, "judge"),
        "c": ("incorrect", None, "none"), "d": ("correct", None, "judge")}


def test_grade_command_is_registered():
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "grade", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "canvas" in proc.stdout and "--regrade" in proc.stdout


# ------------------------------------------------------------------------------ one real graded batch
#
# One `driftlab grade --jobs 2` run over a zip holding (a) every hostile case of tests/hostile.py for a
# tiny module (fast notebooks: the cases test the grading, not the content), and (b) a right, a wrong
# and an untouched 02_detecting_drift in nbgrader's submitted/ layout, in a scratch course directory
# holding both modules (`--course`).

TINY = hostile.TINY
REAL = {"d-right": "right", "d-wrong": "wrong", "d-untouched": "untouched"}
UNICODE = {"学生一": "right", "学生二": "wrong"}


def _grade(corpus: Path, out: Path, course: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(corpus), "--out", str(out), "--jobs", "2",
           "--timeout", str(TIMEOUT), "--course", str(course), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def _rows(out: Path) -> dict[tuple[str, str], dict]:
    with open(out / "grades.csv", newline="") as fh:
        return {(r["student_id"], r["module"]): r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grade")
    course = hostile.tiny_course(base / "course", MODULE)
    out = base / "out"
    template, broken = wk.template_course(out / ".work" / "cache", [MODULE, TINY], course)
    assert not broken, broken
    corpus = base / "corpus"
    cases = hostile.build_corpus(corpus, TINY, root=template)
    (corpus / "notes.txt").write_text("not a submission")
    for student, mode in UNICODE.items():  # learners whose names are not in Latin script
        hostile.write_notebook(hostile.answered(TINY, mode, template), corpus / f"{student}__{TINY}.ipynb")
    for student, mode in REAL.items():
        hostile.write_notebook(hostile.answered(MODULE, mode, template),
                               corpus / "submitted" / student / MODULE / f"{MODULE}.ipynb")
    archive = base / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(corpus.rglob("*")):
            if p.is_file():
                zf.write(p, f"download/{p.relative_to(corpus).as_posix()}")
    start = time.monotonic()
    with corpus_output.PeakRSS() as peak:  # of driftlab grade (the client); its autograders report their own
        proc = _grade(archive, out, course)
    seconds = time.monotonic() - start
    assert proc.returncode == 1, proc.stdout + proc.stderr  # 1: some hostile cases could not be graded
    return {"out": out, "archive": archive, "cases": cases, "template": template, "proc": proc,
            "seconds": seconds, "course": course, "peak_mb": peak.mb}


@pytest.mark.slow
def test_every_learner_appears_with_a_status(graded):
    rows = _rows(graded["out"])
    students = list(graded["cases"]) + list(REAL) + list(UNICODE)
    assert set(rows) == {(s, m) for s in students for m in (MODULE, TINY)}
    for row in rows.values():
        if row["status"] == res.GRADED:
            assert row["score"] != "" and row["reason"] == ""
        else:
            assert row["status"] == res.NOT_GRADED and row["score"] == "" and row["reason"]  # never a silent zero
    assert rows[("h-right", MODULE)]["reason"].startswith("missing notebook")
    assert rows[("d-right", TINY)]["reason"].startswith("missing notebook")
    assert rows[("d-right", MODULE)]["pattern"] == "nbgrader" and rows[("h-right", TINY)]["pattern"] == "plain"
    assert "download/notes.txt" in (graded["out"] / "unmatched.csv").read_text()
    assert "[##############################]" in graded["proc"].stderr  # the progress bar


@pytest.mark.slow
def test_learners_with_non_latin_names_are_graded_each_on_their_own(graded):
    rows = _rows(graded["out"])
    full = hostile.max_score(TINY, graded["template"])
    assert float(rows[("学生一", TINY)]["score"]) == full and float(rows[("学生二", TINY)]["score"]) == 0
    assert (graded["out"] / rows[("学生一", TINY)]["feedback"]).exists()


@pytest.mark.slow
@pytest.mark.parametrize("student,mode", sorted(REAL.items()))
def test_real_module_scores(graded, student, mode):
    row = _rows(graded["out"])[(student, MODULE)]
    full = hostile.max_score(MODULE, graded["template"])
    assert row["status"] == res.GRADED and float(row["max_score"]) == full
    assert float(row["score"]) == hostile.expected_score(MODULE, mode, graded["template"])


@pytest.mark.slow
@pytest.mark.parametrize("case", hostile.CASES, ids=[c.student for c in hostile.CASES])
def test_hostile_submission_outcome(graded, case):
    row = _rows(graded["out"])[(case.student, TINY)]
    assert row["status"] == case.status, row
    if case.status == res.GRADED:
        full = hostile.max_score(TINY, graded["template"])
        assert float(row["max_score"]) == full
        assert case.score == "any" or float(row["score"]) == (full if case.score == "max" else 0.0), row
    else:
        assert case.reason in row["reason"], row


@pytest.mark.slow
def test_tampering_is_flagged_for_review(graded):
    rows = _rows(graded["out"])
    attacks = {"h-monkeypatch": "grader internals replaced", "h-import-hook": "import hook",
               "h-history-injection": "IPython input history edited", "h-skip-tests": "IPython execution rewired",
               "h-kernel-exit": "process exit", "h-display-hook": "display hook",
               "h-patched-stdlib": "standard library patched", "h-builtins-alias": "builtins replaced",
               "h-settrace": "tracer installed", "h-frame-walk": "call stack inspected",
               "h-decode-bank": "exercise bank decoded"}
    for student, reason in attacks.items():
        notes = rows[(student, TINY)]["notes"]
        assert ik.HINT_NOTE in notes and reason in notes, (student, notes)
    # the judge saw the display-hook cheat itself: the test cells showed values of their own
    assert "judge: " in rows[("h-display-hook", TINY)]["notes"] and "partial-credit" in rows[("h-display-hook", TINY)]["notes"]
    assert "hint for review" not in rows[("h-right", TINY)]["notes"]
    assert "hint for review" not in rows[("d-right", MODULE)]["notes"]
    assert "Hints for review (" in (graded["out"] / "report.html").read_text()


@pytest.mark.slow
def test_feedback_shows_mistakes_and_solutions_but_no_hidden_tests(graded):
    out = graded["out"]
    rows = _rows(out)
    for (student, module), row in rows.items():
        if row["status"] != res.GRADED:
            assert row["feedback"] == ""
            continue
        path = out / row["feedback"]
        assert path.exists(), row
        text = path.read_text(encoding="utf-8")
        assert fb.leaks(text) == [], (student, fb.leaks(text))
        assert "Worked solution" in text, student  # the judge's card, whatever the kernel did
        if student == "h-skip-tests" and module == TINY:  # the function's hidden test never reported
            assert "did not run to the end" in text, student
    for student, module in (("h-wrong", TINY), ("d-wrong", MODULE)):
        text = (out / rows[(student, module)]["feedback"]).read_text(encoding="utf-8")
        for spec in hostile.graded_specs(module, graded["template"]):
            assert spec.mistakes[0].id in text, (student, spec.id)


@pytest.mark.slow
def test_a_deleted_answer_cell_is_unanswered_with_the_reason(graded):
    out = graded["out"]
    row = _rows(out)[("h-cells-deleted", TINY)]
    text = (out / row["feedback"]).read_text(encoding="utf-8")
    with open(out / "exercises.csv", newline="") as fh:
        status = {r["exercise"]: r["status"] for r in csv.DictReader(fh) if r["student_id"] == "h-cells-deleted"}
    for exercise in ("tiny-blank", "tiny-choice"):  # their %%answer cells were deleted
        assert f"no answer cell for {exercise} (deleted?)" in text
        assert status[exercise] == "unanswered"
    assert status["tiny-func"] == "incorrect"
    notes = _rows(out)[("h-cells-duplicated-wrong-last", TINY)]["notes"]
    assert "duplicated cells" in notes and "lowest copy" in notes


@pytest.mark.slow
def test_report_counts_misconceptions_and_has_plots(graded):
    out = graded["out"]
    text = (out / "report.html").read_text(encoding="utf-8")
    assert text.count("data:image/svg+xml;base64,") >= 6  # 3 plots x 2 modules
    assert fb.leaks(text) == []
    assert "h-kernel-exit" in text and "notes.txt" in text
    rows = {(r["student_id"], r["module"]): r for r in json.loads((out / "results.json").read_text())["rows"]}
    for module, (right, wrong, untouched) in ((TINY, ("h-right", "h-wrong", "h-untouched")),
                                              (MODULE, ("d-right", "d-wrong", "d-untouched"))):
        for spec in hostile.graded_specs(module, graded["template"]):
            assert rows[(wrong, module)]["exercises"][spec.id]["misconception"] == spec.mistakes[0].id
            assert rows[(untouched, module)]["exercises"][spec.id]["status"] == "unanswered"
            assert rows[(right, module)]["exercises"][spec.id]["status"] == "correct"
            assert spec.mistakes[0].id in text
    # the kernel's checks were monkeypatched: the judge still names each answer's misconception (read
    # from the notebook), and the function, whose reporter was replaced, "did not run" — no points either way
    patched = rows[("h-monkeypatch", TINY)]["exercises"]
    for spec in hostile.graded_specs(TINY, graded["template"]):
        expected = "not-run" if spec.kind == "function" else spec.mistakes[0].id
        assert patched[spec.id]["misconception"] == expected and patched[spec.id]["score"] == 0


@pytest.mark.slow
def test_merged_gradebook_matches_grades_csv(graded):
    from nbgrader.api import Gradebook

    rows = _rows(graded["out"])
    with Gradebook(f"sqlite:///{graded['out'] / 'gradebook.db'}", "driftlab") as gb:
        for (student, module), row in rows.items():
            if row["status"] == res.GRADED:
                assert gb.find_submission(module, student).score == float(row["score"])


@pytest.mark.slow
def test_rerun_skips_what_is_graded_and_gives_the_same_grades(graded):
    out = graded["out"]
    before = (out / "grades.csv").read_text()
    proc = _grade(graded["archive"], out, graded["course"])
    assert proc.returncode == 1, proc.stderr  # the cached could-not-grade rows still count
    assert "autograding" not in proc.stderr and "already graded" in proc.stderr
    assert (out / "grades.csv").read_text() == before


@pytest.mark.slow
def test_a_submission_over_its_budget_is_stopped_and_the_rest_are_graded(tmp_path):
    """A notebook that outlives the per-submission budget (nbgrader's own cell timeout set very high)
    costs that learner "could not grade: timeout"; the worker starts a fresh process for the next."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    hostile.write_tiny_module(course)
    work = tmp_path / "work"
    template, broken = wk.template_course(work / "cache", [TINY], course)
    assert not broken, broken
    right = hostile.answered(TINY, "right", template)
    (tmp_path / "a.ipynb").write_bytes(hostile.infinite_loop(right))
    (tmp_path / "b.ipynb").write_bytes(hostile._dump(right))
    jobs = [wk.Job("a-hangs", TINY, tmp_path / "a.ipynb"), wk.Job("b-fine", TINY, tmp_path / "b.ipynb")]

    done = eng.Engine(jobs, [TINY], work, tmp_path / "out", workers=1, timeout=600, feedback=False,
                      root=course, limit=15.0).run()
    assert done[("a-hangs", TINY)].error.startswith("timeout: grading took longer than 15 s")
    fine = done[("b-fine", TINY)]
    assert fine.error is None and sum(c["score"] for c in fine.cells.values()) == hostile.max_score(TINY, template)
    log = (work / "grading.log").read_text(encoding="utf-8")
    assert "--- b-fine" in log  # graded by a fresh process on the same (only) worker after the kill


@pytest.mark.slow
def test_a_huge_function_result_costs_that_exercise_only(graded):
    from tests.integration.corpus_output import HUGE_INT_ZERO
    with open(graded["out"] / "exercises.csv", newline="") as fh:
        rows = {r["exercise"]: r for r in csv.DictReader(fh) if r["student_id"] == "h-bad-huge-int"}
    assert rows and rows[HUGE_INT_ZERO]["status"] == "incorrect" and float(rows[HUGE_INT_ZERO]["score"]) == 0
    assert all(r["status"] == "correct" for ex, r in rows.items() if ex != HUGE_INT_ZERO), rows


@pytest.mark.slow
def test_captured_hidden_cases_reach_neither_the_graded_notebook_nor_the_feedback(graded):
    """driftlab grade's side of corpus_feedback.py's case: full marks, and nothing of the hidden test in what it writes."""
    from tests.integration import corpus_feedback

    out, student = graded["out"], corpus_feedback.LEAK
    row = _rows(out)[(student, TINY)]
    assert row["status"] == res.GRADED and float(row["score"]) == hostile.max_score(TINY, graded["template"])
    autograded = next((out / "autograded" / student / TINY).glob("*.ipynb"))
    for path in (autograded, out / row["feedback"]):
        text = path.read_text(encoding="utf-8")
        assert "thread saw:" in text and "print(_ih)" in text  # the learner's dumps are there …
        assert corpus_feedback.leaked(text, graded["template"]) == [], path.name  # … holding nothing hidden


@pytest.mark.slow
def test_floods_and_descriptor_probes_hold_nothing_and_the_next_submission_on_the_slot_is_graded_as_if_alone(graded):
    """300 MB output floods: full marks, a note in the row and the feedback, every grading process under
    corpus_output.PEAK_MB (the client measured, each autograder from its own peak in grading.log); the next
    submission graded by the same autograder process gets its expected score. The descriptor probe's kernel holds
    nothing of the grader (not the slot's log file); a blank flooding the runner's pipes costs only that blank."""
    import re

    out, rows = graded["out"], _rows(graded["out"])
    full = hostile.max_score(TINY, graded["template"])
    log = (out / ".work" / "grading.log").read_text(encoding="utf-8")
    order = re.findall(r"^--- (\S+) · (\S+) on (\S+): .*?grading process peak (\d+) MB$", log, re.M)
    assert order and max(int(mb) for *_, mb in order) < corpus_output.PEAK_MB, order
    assert graded["peak_mb"] < corpus_output.PEAK_MB, graded["peak_mb"]
    checked = 0
    for student in corpus_output.FLOODS:
        row = rows[(student, TINY)]
        assert float(row["score"]) == full and "output truncated: cell" in row["notes"], row
        assert "[driftlab grader] output limit:" in (out / row["feedback"]).read_text(encoding="utf-8")
        at = next(i for i, (s, m, *_) in enumerate(order) if (s, m) == (student, TINY))
        after = [(s, m) for s, m, w, _ in order[at + 1:] if w == order[at][2]]
        known = [(s, m) for s, m in after if m == TINY and s in hostile.EXPECTED and s not in corpus_output.FLOODS
                 and hostile.EXPECTED[s].status == res.GRADED and hostile.EXPECTED[s].score != "any"][:1]
        for s, m in known:  # the next submission this autograder process graded, with a known score
            expected = full if hostile.EXPECTED[s].score == "max" else 0.0
            assert float(rows[(s, m)]["score"]) == expected, (student, s, rows[(s, m)])
            checked += 1
    assert checked, order  # at least one flood was followed on its slot by a submission with a known score
    report = corpus_output.probe_report(nbformat.read(out / "autograded" / "h-descriptors" / TINY / f"{TINY}.ipynb",
                                                      as_version=4))
    corpus_output.assert_holds_nothing_of_the_grader(report, str(out), ".log", "gradebook.db")
    assert float(rows[("h-runner-flood", TINY)]["score"]) == full - 1  # tiny-blank is worth 1 point
