"""Which cell is an exercise's answer: one rule for the judge, driftlab grade's intake, plain nbgrader and the
kernel's check (the lowest answer cell in the notebook, wherever it stands; a deleted one answers nothing).

Kernel-free: the judge and intake on cell lists; the check with the frontend's cell ids and the saved
notebook stubbed (tests/course/test_fair_checks.py runs the same in a real kernel).
"""
from __future__ import annotations

import copy
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from driftlab.exercises import notebook as N
from driftlab.exercises.entries import ChoiceEntry
from driftlab.exercises.entries.base import digest
from grader.batch import intake
from grader.judge import KeepLowestCopy, answer_text

OPTIONS = {"A": "one", "B": "two", "C": "three", "D": "four"}


def _answer(body: str, grade_id: bool = False, magic: str = "q"):
    meta = {"nbgrader": {"grade_id": "q-answer", "solution": True, "grade": False, "locked": False}} if grade_id else {}
    return new_code_cell((f"%%answer {magic}\n" if magic else "") + body, metadata=meta)


def test_the_answer_is_the_lowest_answer_cell_wherever_it_stands():
    check = new_code_cell('check("q")')
    assert answer_text([check, _answer("B", grade_id=True)], "q") == "B"  # dragged below its check
    copies = [_answer("A"), check, _answer("C", grade_id=True), _answer("D")]
    assert answer_text(copies, "q") == "D"  # a plain copy below the graded cell: the lowest counts
    assert answer_text([_answer("B", grade_id=True, magic=""), check], "q") == "B"  # magic line deleted: grade id
    assert answer_text([_answer("B", magic="other"), check], "q") is None
    assert answer_text([new_markdown_cell("%%answer q\nA"), check], "q") is None
    saved = [{"cell_type": "code", "source": ["%%answer q\n", "[1:B]"], "metadata": {}}]  # as in a saved file
    assert answer_text(saved, "q") == "B"


def test_a_deleted_answer_cell_answers_nothing():
    assert answer_text([new_code_cell("x = 1"), new_code_cell('check("q")')], "q") is None
    odd = [{"cell_type": "code", "metadata": None, "source": 3}, {"cell_type": "code", "metadata": {"nbgrader": "x"}}]
    assert answer_text(odd, "q") is None  # a saved file's odd cells: no answer, no exception


def _copied(*bodies: str):
    cells = [_answer(body, grade_id=True) for body in bodies]
    for n, cell in enumerate(cells):
        cell.id = f"copy-{n}"
    return new_notebook(cells=[new_code_cell("x = 1"), *cells, new_code_cell('check("q")')])


def test_copies_keep_one_grade_id_the_lowest_in_intake_and_in_plain_nbgrader():
    nb = _copied("A", "B", "C")
    prepared = intake.prepare(nbformat.writes(nb).encode())
    fixed = nbformat.reads(prepared.content.decode(), as_version=4)
    plain, _ = KeepLowestCopy().preprocess(copy.deepcopy(nb), {})
    for result in (fixed, plain):
        graded = [c for c in result.cells if "nbgrader" in c.metadata]
        assert [c.source for c in graded] == ["%%answer q\nC"]  # the lowest copy keeps the grade id
        assert len(result.cells) == len(nb.cells)  # the other copies stay, as ordinary cells
        assert answer_text(result.cells, "q") == "C"
    assert prepared.notes == ["duplicated cells q-answer (the lowest copy is graded)"]


# ------------------------------------------------------------------------------ the check, kernel-free

@pytest.fixture
def kernel(monkeypatch):
    """A session with one choice exercise; the frontend's cell id, deleted cells and saved notebook stubbed."""
    state = {"cell": "", "deleted": [], "saved": None, "shown": []}
    monkeypatch.setattr(N, "_SESSION", N.Session(module="m", entries={"q": ChoiceEntry(
        id="q", title="Q", difficulty="easy", options=OPTIONS, salt="s", correct=digest("s", "B"))}))
    monkeypatch.setattr(N, "_request", lambda: {"cellId": state["cell"], "deletedCells": state["deleted"]})
    monkeypatch.setattr(N, "_saved_notebook", lambda: state["saved"])
    monkeypatch.setattr(N, "_display", lambda bundle: state["shown"].append(bundle["text/plain"]))
    return state


def _run(kernel, cell: str, source: str, capsys) -> str:
    """Run a cell's code as the kernel would (the pre-run hook first) and return what it printed and showed."""
    kernel["cell"] = cell
    N._on_cell()
    kernel["deleted"] = []
    kernel["shown"].clear()
    if source.startswith("%%answer"):
        line, _, body = source.partition("\n")
        N._answer_magic(line.split(maxsplit=1)[1], body)
    else:
        N.check(source)
    return capsys.readouterr().out + "".join(kernel["shown"])


def _save(kernel, *cells: tuple[str, str]) -> None:
    """The notebook as saved now: (cell id, source) pairs."""
    dicts = [{"cell_type": "code", "id": cid, "source": source, "metadata": {}} for cid, source in cells]
    kernel["saved"] = N._Saved(dicts, [cid for cid, _ in cells], time.time())


def test_the_check_reads_the_lowest_of_two_copies_and_says_there_are_two(kernel, capsys):
    _run(kernel, "low", "%%answer q\nB", capsys)
    out = _run(kernel, "up", "%%answer q\nA", capsys)
    assert "another cell answers q" in out  # at once
    _save(kernel, ("up", "%%answer q\nA"), ("low", "%%answer q\nB"), ("chk", "check('q')"))
    out = _run(kernel, "chk", "q", capsys)
    assert "2 cells answer q" in out and "lowest" in out and "Correct: B" in out  # the lower copy, though A ran last
    kernel["saved"] = None  # where the cells stand is unknown: the last run, and what the grader does instead
    out = _run(kernel, "chk", "q", capsys)
    assert "2 cells answer q" in out and "ran last" in out and "A is not" in out


def test_a_deleted_answer_cell_is_forgotten_but_an_unsaved_one_is_not(kernel, capsys):
    _run(kernel, "ans", "%%answer q\nB", capsys)
    _save(kernel, ("chk", "check('q')"))  # saved after the answer ran, without it: deleted
    out = _run(kernel, "chk", "q", capsys)
    assert "no longer in the notebook" in out and "Correct" not in out
    _run(kernel, "new", "%%answer q\nC", capsys)  # a new cell, run after the last save (not in the file)
    out = _run(kernel, "chk", "q", capsys)
    assert "C is not" in out and "no longer" not in out
    kernel["deleted"] = ["new"]  # JupyterLab reports the deletion with the next request (nothing saved since)
    out = _run(kernel, "chk", "q", capsys)
    assert "no longer in the notebook" in out


def test_an_answer_below_its_check_is_read_and_the_check_says_where_it_stands(kernel, capsys):
    _save(kernel, ("chk", "check('q')"), ("ans", "%%answer q\nB"))
    out = _run(kernel, "chk", "q", capsys)  # Run All: the check comes first
    assert "stands below this check" in out and "No answer recorded" in out
    out = _run(kernel, "ans", "%%answer q\nB", capsys)
    assert "check of q stands above this cell" in out  # at once, when the answer runs
    out = _run(kernel, "chk", "q", capsys)
    assert "Correct: B" in out and "stands below this check" in out


def test_without_cell_ids_the_last_run_counts_and_nothing_is_said(kernel, capsys):
    _run(kernel, "", "%%answer q\nA", capsys)
    kernel["saved"] = N._Saved([{"cell_type": "code", "metadata": None, "source": 3}], ["x"], time.time())
    _run(kernel, "", "%%answer q\nB", capsys)
    out = _run(kernel, "", "q", capsys)  # nbclient and grading send no cell id
    assert out.startswith("✔") and "Correct: B" in out
    assert "cells answer" not in out and "Note" not in out


def test_a_cut_and_pasted_answer_cell_is_not_forgotten_once_saved(kernel, capsys):
    _run(kernel, "ans", "%%answer q\nB", capsys)
    kernel["deleted"] = ["ans"]  # cut: JupyterLab reports it deleted …
    assert "no longer in the notebook" in _run(kernel, "chk", "q", capsys)
    _save(kernel, ("ans", "%%answer q\nB"), ("chk", "check('q')"))  # … pasted (same id) and saved
    assert "Correct: B" in _run(kernel, "chk", "q", capsys)
