"""The instant check is fair to the learner, in a real kernel (module 02's release, nbclient).

An attempt is a distinct choice, not a spelling; an unreadable or unrecorded answer costs none; the
full text of an option is that option; a misconception is named only when the answer is that
mistake; learner code run by a check stops at one wall-clock budget, loops in C included, and the
kernel lives on; ``results()`` shows worked solutions only for what is solved or used up.
"""
from __future__ import annotations

from datetime import datetime

import nbformat
import pytest

from tests.support import errors, execute, release_path

MODULE = "02_detecting_drift"
RIGHT_TEXT = ("The distributions are detectably different, but by a negligible amount: record it and keep "
              "watching; no action is needed.")
CELLS = {
    "a1": "%%answer detect-effect\nA.",
    "c1": 'check("detect-effect")',
    "a2": "%%answer detect-effect\n(A)",
    "c2": 'check("detect-effect")',
    "a3": "%%answer detect-effect\na  # because a small p-value means a big change",
    "c3": 'check("detect-effect")',
    "a4": "%%answer detect-effect\nA or C",
    "c4": 'check("detect-effect")',
    "a5": f"%%answer detect-effect\n{RIGHT_TEXT}",
    "c5": 'check("detect-effect")',
    "c6": 'check("detect-task1")',  # before any answer cell ran
    "a7": "%%answer detect-tsk1\nif data_distribution_changes == True:\n    alert('Model performance may degrade')",
    "a8": "%%answer detect-task1\nif data_distribution_changes == 'True':\n    alert('Model performance may degrade')",
    "c8": 'check("detect-task1")',
    "a9": "%%answer detect-task3\nif detect_data_drift() is np.True_:\n    retrain_model()",
    "c9": 'check("detect-task3")',
    "a10": "%%answer detect-task1\nif data_distribution_changes == any(iter(int, 1)):\n    alert('x')",
    "c10": 'check("detect-task1")',
    "f11": "def psi_from_shares(reference_shares, current_shares, eps=1e-4):\n    return any(iter(int, 1))",
    "c11": 'check("detect-psi")',
    "alive": "print('kernel alive', 1 + 1)",
    "r": "from driftlab.exercises import results\nresults()",
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    release = nbformat.read(release_path(MODULE), as_version=4)
    setup = next(c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    cells = [setup, nbformat.v4.new_code_cell("import numpy as np\ndata_distribution_changes = True")]
    for key, source in CELLS.items():
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["key"] = key
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells, metadata=release.metadata)
    out = execute(nb, cwd=tmp_path_factory.mktemp("fair"), timeout=120)
    return {c.metadata.get("key"): c for c in out.cells if c.metadata.get("key")}, out


def _record(cell) -> dict:
    return next(o["data"]["application/vnd.driftlab.result+json"] for o in cell.outputs
                if "application/vnd.driftlab.result+json" in o.get("data", {}))


def _html(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs)


def _seconds(cell) -> float:
    t = cell.metadata["execution"]
    start, end = (datetime.fromisoformat(t[k].replace("Z", "+00:00")) for k in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


@pytest.mark.slow
def test_the_notebook_runs_without_a_traceback(ran):
    cells, nb = ran
    assert errors(nb) == []
    assert "kernel alive 2" in _text(cells["alive"])


@pytest.mark.slow
def test_the_same_choice_spelled_three_ways_costs_one_attempt(ran):
    cells, _ = ran
    for key in ("c1", "c2", "c3"):
        record = _record(cells[key])
        assert record["status"] == "incorrect" and record["misconception"] == "p-value-is-effect-size", key
        assert "Attempts left: 2" in _html(cells[key]), key


@pytest.mark.slow
def test_an_ambiguous_answer_is_refused_and_costs_nothing(ran):
    cells, _ = ran
    record = _record(cells["c4"])
    assert record["status"] == "unreadable" and record["misconception"] == "ambiguous"
    assert "A and C" in record["message"] and "Attempts left: 2" in _html(cells["c4"])


@pytest.mark.slow
def test_the_full_text_of_the_right_option_is_correct(ran):
    cells, _ = ran
    assert _record(cells["c5"])["status"] == "correct"


@pytest.mark.slow
def test_an_unrecorded_answer_says_how_to_record_it(ran):
    cells, _ = ran
    record = _record(cells["c6"])
    assert record["status"] == "unanswered" and "%%answer detect-task1" in record["message"]
    assert "Attempts left" not in _html(cells["c6"])
    assert "`%%answer detect-task1`" in _text(cells["a7"])  # the misspelled id: the right line is named


@pytest.mark.slow
def test_a_misconception_is_named_only_when_the_answer_is_that_mistake(ran):
    cells, _ = ran
    for key in ("c8", "c9"):  # 'True' behaves like None, `is np.True_` like `== None`: neither *is* that mistake
        record = _record(cells[key])
        assert record["status"] == "incorrect" and record["misconception"] == "unknown", (key, record)
        assert "None" not in record["message"], key


@pytest.mark.slow
def test_loops_in_c_stop_at_the_budget_and_the_kernel_lives_on(ran):
    cells, _ = ran
    assert "did not finish within 5 s" in _text(cells["a10"]) and _seconds(cells["a10"]) < 9
    blank = _record(cells["c10"])
    assert blank["status"] == "incorrect" and "ran too long" in blank["message"] and _seconds(cells["c10"]) < 9
    func = _record(cells["c11"])
    assert func["misconception"] == "timeout" and _seconds(cells["c11"]) < 9  # one budget for all cases, not 5 s each


@pytest.mark.slow
def test_results_show_worked_solutions_only_for_solved_or_used_up_exercises(ran):
    cells, _ = ran
    html = _html(cells["r"])
    assert html.count("Worked solution") == 1  # detect-effect is solved; the others still have attempts


@pytest.mark.slow
def test_one_more_hint_per_wrong_attempt_and_the_card_says_how_many_remain(ran):
    from driftlab.exercises.cards import md_to_html
    from tests.support import compiled

    cells, _ = ran
    first, second = (md_to_html(h) for h in compiled(MODULE)["detect-task1"].hints)
    after_one = _html(cells["c8"])  # the first wrong attempt at detect-task1
    assert first in after_one and second not in after_one and "1 more hint after your next wrong attempt" in after_one
    after_two = _html(cells["c10"])  # the second
    assert first in after_two and second in after_two and "more hint" not in after_two
    assert "Hint" not in _html(cells["c6"])  # nothing tried yet: no hint pushed
