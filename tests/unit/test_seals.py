"""The seals that prove, outside the learner's kernel, that each hidden test ran and judged this notebook.

Unit tests of the two nbgrader preprocessors on hand-made executed notebooks; the real runs (an input
transformer that skips hidden tests, answers injected into IPython's history) are hostile cases in
tests/integration/test_grade_pipeline.py.
"""
from __future__ import annotations

import os

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from driftlab.exercises import bank
from driftlab.exercises.probing import quiet
from driftlab.exercises.entries import ChoiceEntry, FunctionEntry
from driftlab.protocol import SEAL_MIME, answer_digest
from grader.seals import CheckSeals, SealHiddenTests


def _token(exercise: str, kind: str) -> str:
    cls = {"choice": ChoiceEntry, "function": FunctionEntry}[kind]
    return bank.encode({exercise: cls(id=exercise, title=exercise, difficulty="easy")})


def _test_cell(exercise: str, kind: str = "choice"):
    source = (f"check('{exercise}')\n### BEGIN HIDDEN TESTS\nfrom driftlab.exercises.verify import verify as _dl_verify\n"
              f'_dl_verify("{_token(exercise, kind)}")\n### END HIDDEN TESTS')
    return new_code_cell(source, metadata={"nbgrader": {"grade": True, "grade_id": f"{exercise}-test",
                                                        "points": 1, "solution": False, "locked": True}})


def _notebook(answer: str = "B"):
    return new_notebook(cells=[new_code_cell("from driftlab.exercises import start\nstart('m')"),
                               new_code_cell(f"%%answer q1\n{answer}"), _test_cell("q1"),
                               new_code_cell("def f(x):\n    return x"), _test_cell("f1", "function")])


def _sealed(nb):
    return SealHiddenTests().preprocess(nb, {})


def _record(exercise: str, seal: str, answer: str | None):
    return new_output("display_data", data={"text/plain": "", SEAL_MIME: {"exercise": exercise, "seal": seal,
                                                                         "answer": answer}})


def _errors(cell) -> list[str]:
    return [o.evalue for o in cell.outputs if o.output_type == "error"]


def test_every_hidden_test_gets_its_own_fresh_seal():
    nb, resources = _sealed(_notebook())
    seals = resources["driftlab_seals"]
    assert sorted(seals) == [2, 4]
    assert seals[2]["seal"] != seals[4]["seal"]
    assert f'seal="{seals[2]["seal"]}"' in nb.cells[2].source and "check('q1')" in nb.cells[2].source
    assert nb.cells[1].source == "%%answer q1\nB"  # learner cells untouched
    _, again = _sealed(_notebook())
    assert again["driftlab_seals"][2]["seal"] != seals[2]["seal"]  # new per run: nothing to copy


def test_a_valid_record_passes_and_is_removed():
    nb, resources = _sealed(_notebook("B"))
    seals = resources["driftlab_seals"]
    nb.cells[2].outputs = [_record("q1", seals[2]["seal"], answer_digest("B"))]
    nb.cells[4].outputs = [_record("f1", seals[4]["seal"], None)]
    nb, _ = CheckSeals().preprocess(nb, resources)
    assert nb.cells[2].outputs == [] and nb.cells[4].outputs == []  # passed, and no trace in feedback


def test_a_test_cell_without_its_record_fails():
    nb, resources = _sealed(_notebook())
    nb.cells[4].outputs = [_record("f1", "forged-seal", None)]  # a record without this run's seal
    nb, _ = CheckSeals().preprocess(nb, resources)
    assert any("did not run to the end" in e for e in _errors(nb.cells[2]))
    assert any("did not run to the end" in e for e in _errors(nb.cells[4]))
    assert all(SEAL_MIME not in o.get("data", {}) for c in nb.cells for o in c.outputs)


def test_a_judged_answer_that_is_not_the_notebooks_fails():
    nb, resources = _sealed(_notebook("B"))
    seals = resources["driftlab_seals"]
    nb.cells[2].outputs = [_record("q1", seals[2]["seal"], answer_digest("A"))]  # judged "A" from history
    nb.cells[4].outputs = [_record("f1", seals[4]["seal"], None)]
    nb, _ = CheckSeals().preprocess(nb, resources)
    assert any("not the %%answer cell in this notebook" in e for e in _errors(nb.cells[2]))
    assert _errors(nb.cells[4]) == []


def test_a_failed_test_is_left_as_it_is():
    nb, resources = _sealed(_notebook())
    failure = new_output("error", ename="AssertionError", evalue="q1: not answered", traceback=[])
    nb.cells[2].outputs = [failure]
    nb.cells[4].outputs = [_record("f1", resources["driftlab_seals"][4]["seal"], None)]
    nb, _ = CheckSeals().preprocess(nb, resources)
    assert _errors(nb.cells[2]) == ["q1: not answered"]


def test_the_course_config_runs_the_seals_around_execute():
    from traitlets.config.loader import PyFileConfigLoader

    from nbgrader.preprocessors import Execute, SaveAutoGrades

    from tests.support import ROOT

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    steps = list(config.Autograde.autograde_preprocessors)
    assert steps.index(SealHiddenTests) < steps.index(Execute) < steps.index(CheckSeals) < steps.index(SaveAutoGrades)
    assert nbformat.validate(_notebook()) is None


def test_probing_silences_file_descriptor_noise(capfd):
    with quiet():
        os.write(2, b"native noise\n")
        os.write(1, b"more noise\n")
    os.write(2, b"after\n")
    captured = capfd.readouterr()
    assert "noise" not in captured.err + captured.out and "after" in captured.err
