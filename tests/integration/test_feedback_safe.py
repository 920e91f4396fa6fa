"""Feedback is safe to open: no hidden case reaches the graded notebook or the feedback, and no script runs.

Kernel-free tests of the parts (grader/judge.py's ``StripKeys`` moving the hidden tests after every learner
cell, the grading kernel's guard on that cell's display updates, grader/batch/feedback.py's sanitiser).
The hostile case ``h-hidden-case-leak`` (tests/integration/corpus_feedback.py) goes through both pipelines
with the corpus (test_judge.py, test_grade_pipeline.py); the Chromium test is tests/browser/test_feedback_script.py.
"""
from __future__ import annotations

import copy
import re
import types

import bleach
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from driftlab.exercises.cards import render_html
from driftlab.exercises.entries import CORRECT, INCORRECT, FunctionEntry
from driftlab.protocol import BEGIN_HIDDEN, HIDDEN_TESTS_CELL, RUN_NAME, TEST_SUFFIX, keep_call
from grader import judge as J
from grader.batch import feedback as fb
from grader.build.hidden_tests import defer, hidden_test
from grader.sandbox.kernel import SandboxedExecute
from tests.support import compiled, release_path

MODULE = "02_detecting_drift"


def _as_autograde_sees_it() -> tuple[object, dict[str, FunctionEntry]]:
    """The module's release with each function's hidden test restored into its test cell (nbgrader's
    OverwriteCells does this from the gradebook), plus a learner cell that forges the hidden-tests mark."""
    nb = nbformat.read(release_path(MODULE), as_version=4)
    functions = {k: e for k, e in compiled(MODULE).items() if isinstance(e, FunctionEntry)}
    assert functions
    for cell in nb.cells:
        exercise = J.exercise_of(cell.metadata.get("nbgrader", {}).get("grade_id", ""), TEST_SUFFIX)
        if exercise in functions:
            cell.source = cell.source.rstrip("\n") + "\n" + hidden_test(functions[exercise])
    nb.cells.insert(3, new_code_cell("print('mine')", metadata={HIDDEN_TESTS_CELL: True}))
    return nb, functions


def test_strip_keys_moves_every_hidden_test_into_one_last_cell_that_the_judge_takes_out():
    nb, functions = _as_autograde_sees_it()
    tokens = {e.id: hidden_test(e).splitlines()[2] for e in functions.values()}  # the run call with its token
    count = len(nb.cells)
    nb, _ = J.StripKeys().preprocess(nb, {})
    last = nb.cells[-1]
    assert len(nb.cells) == count + 1 and last.metadata[HIDDEN_TESTS_CELL] is True
    assert [line for line in last.source.splitlines() if line.startswith(RUN_NAME + "(")] == list(tokens.values())
    for cell in nb.cells[:-1]:  # nothing of a hidden test is left where the learner's code runs before it
        assert BEGIN_HIDDEN not in cell.source and RUN_NAME not in cell.source
        assert not any(call in cell.source for call in tokens.values())
        assert HIDDEN_TESTS_CELL not in cell.metadata  # the forged mark is gone
    for exercise, entry in functions.items():  # each test cell holds its function as defined there, then checks
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == exercise + TEST_SUFFIX)
        assert cell.source.startswith(keep_call(entry.id, entry.name)) and f'check("{exercise}")' in cell.source
    taken = J.take_hidden_tests_cell(nb)
    assert taken is last and len(nb.cells) == count and J.take_hidden_tests_cell(nb) is None


def test_only_the_last_cell_counts_as_the_hidden_tests_cell():
    nb = nbformat.v4.new_notebook(cells=[new_code_cell("x", metadata={HIDDEN_TESTS_CELL: True}), new_code_cell("y")])
    assert J.take_hidden_tests_cell(nb) is None and len(nb.cells) == 2
    assert defer("check('a')") == ("check('a')", [])  # a test cell without hidden test stays as it is


def _client(nb):
    ex = SandboxedExecute()
    ex.nb = nb
    ex.reset_execution_trackers()
    ex.clear_before_next_output = False  # what nbclient sets before each cell
    ex._budget = types.SimpleNamespace(admit=lambda *a: True)  # the output limits are not what is tested here
    return ex


def _msg(kind: str, parent: str, content: dict) -> dict:
    return {"msg_type": kind, "header": {"msg_type": kind, "msg_id": parent + "-out"},
            "parent_header": {"msg_id": parent}, "content": content, "metadata": {}}


def _display(kind: str, parent: str, text: str) -> dict:
    return _msg(kind, parent, {"data": {"text/plain": text}, "metadata": {}, "transient": {"display_id": "d1"}})


def test_the_hidden_tests_cell_cannot_write_into_an_earlier_cell_or_a_widget():
    nb = nbformat.v4.new_notebook(cells=[new_code_cell("h = display('x', display_id=True)"), new_code_cell("pass"),
                                         new_code_cell("_dl_run(…)", metadata={HIDDEN_TESTS_CELL: True})])
    ex = _client(nb)
    first, middle, last = nb.cells
    ex.process_message(_display("display_data", "m0", "earlier"), first, 0)
    ex.process_message(_display("update_display_data", "m2", "SECRET"), last, 2)
    ex.process_message(_display("display_data", "m2", "SECRET"), last, 2)  # a new display with the same id
    ex.process_message(_msg("comm_open", "m2", {"comm_id": "c1", "target_name": "jupyter.widget",
                                               "data": {"state": {"value": "SECRET"}}}), last, 2)
    ex.output_hook_stack["m2"].append(types.SimpleNamespace(output=lambda *a: (_ for _ in ()).throw(AssertionError)))
    ex.process_message(_msg("stream", "m2", {"name": "stdout", "text": "SECRET"}), last, 2)  # not to an output widget
    assert first.outputs[0]["data"]["text/plain"] == "earlier" and not ex.widget_state and not ex.comm_objects
    assert [o.get("text") or o["data"]["text/plain"] for o in last.outputs] == ["SECRET", "SECRET"]  # its own, removed
    ex.process_message(_display("update_display_data", "m1", "changed"), middle, 1)  # any other cell: nbclient's rule
    assert first.outputs[0]["data"]["text/plain"] == "changed"


def test_the_judges_card_survives_the_sanitiser_and_no_script_does():
    entry = compiled(MODULE)["detect-fwer"]
    for verdict in (entry.verdict(CORRECT, None, "Correct: passes."),
                    entry.verdict(INCORRECT, "x", "`n * alpha` <b>no</b>")):
        card = render_html(entry, verdict, attempts_left=None, show_solution=True, hints=0)
        cleaned = fb.clean(card)  # the whole card: every element, all its text, its colour bar and roles
        assert re.findall(r"<(\w+)", cleaned) == re.findall(r"<(\w+)", card)
        assert bleach.clean(cleaned, tags=set(), strip=True) == bleach.clean(card, tags=set(), strip=True)
        for kept in ('role="status"', 'aria-live="polite"', 'style="border-left:6px solid', "<strong style=\"color:"):
            assert kept in cleaned, kept
    payloads = ['<img src=x onerror="alert(1)">', '<a href="javascript:alert(1)">a</a>',
                '<a href=" JaVaScRiPt:alert(1)">a</a>', "<script>alert(1)</script>",
                '<svg onload="alert(1)"><script>alert(1)</script></svg>', '<iframe src="https://example.org"></iframe>',
                '<object data="x.swf"></object>', '<embed src="x">', '<div onmouseover="alert(1)">d</div>',
                '<a href="data:text/html,<script>alert(1)</script>">d</a>', '<details open ontoggle="alert(1)">',
                '<p style="background-image:url(https://example.org/t.png)">p</p>',
                '<form action="https://example.org"><input name="q"></form>',
                '<meta http-equiv="refresh" content="0;url=x">']
    for html in payloads:
        cleaned = fb.clean(html).lower()
        for bad in ("<script", "onerror", "onload", "onmouseover", "ontoggle", "javascript:", "<iframe", "<object",
                    "<embed", "<svg", "data:text", "url(", "<form", "<input", "<meta"):
            assert bad not in cleaned, (html, cleaned)
    table = '<style scoped>.dataframe td {color: red}</style><table class="dataframe"><tr><td>1</td></tr></table>'
    assert fb.clean(table) == '<table class="dataframe"><tbody><tr><td>1</td></tr></tbody></table>'  # style goes
    assert 'src="data:image/png;base64,AA=="' in fb.clean('<img src="data:image/png;base64,AA==" alt="a plot">')


def test_feedback_sanitiser_renders_markdown_first_and_drops_script_outputs_and_widget_state():
    nb = nbformat.v4.new_notebook(cells=[
        new_markdown_cell("Check `a < b`: [run](javascript:alert(1)) <div onmouseover=alert(1)>x</div>\n\n"
                          "```python\nif a < b:\n\n    pass\n```"),
        new_code_cell("", outputs=[new_output("display_data", data={
            "text/markdown": "[md](javascript:alert(1))", "application/javascript": "alert(1)",
            "image/svg+xml": "<svg><script>alert(1)</script></svg>", "text/plain": "fallback"})])])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb, _ = fb.SanitizeFeedback().preprocess(copy.deepcopy(nb), {})
    markdown, data = nb.cells[0].source, nb.cells[1].outputs[0]["data"]
    assert "javascript" not in markdown and "onmouseover" not in markdown and "\n" not in markdown
    assert "<code>a &lt; b</code>" in markdown and "if</span>" in markdown  # read as markdown, then cleaned
    assert "javascript" not in data["text/html"] and "text/markdown" not in data
    assert "application/javascript" not in data
    assert "image/svg+xml" in data  # nbconvert shows SVG as an <img>, where no script runs (Chromium test)
    assert "widgets" not in nb.metadata


def test_a_verdict_on_a_hidden_case_quotes_nothing_the_function_chose():
    entry = compiled(MODULE)["detect-fwer"]
    hidden = entry.cases[entry.visible:]
    assert hidden
    for bad in ({"value": None, "error": f"ValueError: {hidden[-1]}"}, {"value": f"args {hidden[-1]}", "error": None}):
        outcomes = [{"value": v, "error": None, "not_implemented": False} for v in entry.expected]
        outcomes[-1] = {**bad, "not_implemented": False}
        verdict = J.judge_function(entry, {"exercise": entry.id, "state": "ran", "outcomes": outcomes})
        assert verdict.status == INCORRECT and hidden[-1] not in verdict.message + verdict.detail, verdict.message
