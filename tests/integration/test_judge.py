"""The trusted judge (grader/judge.py): keys stay out of the kernel, the judge alone sets test cells.

Unit tests of its parts first, then the hostile corpus of tests/integration/hostile.py through plain
``nbgrader autograde`` with the course config (test_grade_pipeline.py runs it through ``driftlab grade``).
"""
from __future__ import annotations

import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

from driftlab.exercises import bank
from driftlab.exercises.answers import read_choice
from driftlab.exercises.entries import CORRECT, INCORRECT, UNANSWERED, FunctionEntry
from driftlab.protocol import BANK_ARG, HIDDEN_TESTS_CELL, OUTPUTS_MIME, RESULT_MIME, TEST_SUFFIX
from grader import judge as J
from grader import nbgrader as R
from tests.integration import corpus_output, hostile
from tests.support import compiled, release_path

OPTIONS = {"A": "a large drift", "B": "the samples differ, by some amount", "C": "a broken model", "D": "nothing"}


@pytest.mark.parametrize("text,letter", [
    ("B", "B"), ("b", "B"), ("B.", "B"), ("(B)", "B"), ("B)", "B"), ("'B'", "B"), ('"b"', "B"), ("  B  ", "B"),
    ("B  # because a single accuracy check can mislead", "B"), ("A  # because a single check…", "A"),
    ("the samples differ, by some amount", "B"), ("B. The samples differ, by some amount", "B"),
    ("B because a p-value is not an effect size", "B"), ("# my answer\nC", "C"),
])
def test_a_choice_is_read_as_a_person_means_it(text, letter):
    assert read_choice(text, OPTIONS).letter == letter


@pytest.mark.parametrize("text,problem", [("A or B", "ambiguous"), ("A, C", "ambiguous"), ("E", "not-an-option"),
                                          ("maybe", "not-an-option"), ("", "empty"), ("[1]", "empty"),
                                          ("# only a comment", "empty")])
def test_unreadable_choices_say_why(text, problem):
    reading = read_choice(text, OPTIONS)
    assert reading.letter is None and reading.problem == problem and (reading.message or problem == "empty")


def test_strip_keys_leaves_the_kernel_prompts_only():
    release = nbformat.read(release_path("02_detecting_drift"), as_version=4)
    setup = next(c for c in release.cells if c.cell_type == "code" and BANK_ARG.search(c.source))
    before = bank.decode(BANK_ARG.search(setup.source).group("token"))
    nb, _ = J.StripKeys().preprocess(nbformat.from_dict(release), {})
    after_cell = next(c for c in nb.cells if c.cell_type == "code" and BANK_ARG.search(c.source))
    after = bank.decode(BANK_ARG.search(after_cell.source).group("token"))
    assert set(after) == set(before)
    for exercise, entry in after.items():
        assert not entry.has_keys and not entry.solution and not entry.hints and not entry.mistakes
        for name in entry.KEY_FIELDS:
            assert not getattr(entry, name), (exercise, name)
        assert entry.title == before[exercise].title and entry.prompt == before[exercise].prompt
    text = after_cell.source
    for entry in before.values():
        for step in entry.solution:
            assert step not in text


def _entry() -> FunctionEntry:
    return compiled("02_detecting_drift")["detect-fwer"]


def test_a_function_is_judged_on_what_the_kernel_reported_and_a_bad_report_earns_nothing():
    entry = _entry()
    right = {"state": "ran", "outcomes": [{"value": v, "error": None, "not_implemented": False} for v in entry.expected]}
    assert J.judge_function(entry, {"exercise": entry.id, **right}).status == CORRECT
    assert J.judge_function(entry, None).misconception == "not-run"  # the hidden test did not report
    assert J.judge_function(entry, {"state": "missing"}).status == UNANSWERED
    short = {"state": "ran", "outcomes": right["outcomes"][:-1]}
    assert J.judge_function(entry, short).misconception == "not-run"
    garbage = {"state": "ran", "outcomes": ["correct"] * len(entry.cases)}
    assert J.judge_function(entry, garbage).status == INCORRECT
    always = {"state": "ran", "outcomes": [{"value": "<type AlwaysEqual>", "error": None}] * len(entry.cases)}
    assert J.judge_function(entry, always).status == INCORRECT


def test_a_wrong_function_on_a_hidden_case_never_names_the_hidden_inputs():
    entry = _entry()
    outcomes = [{"value": v, "error": None} for v in entry.expected]
    outcomes[-1] = {"value": 0.123, "error": None}  # wrong only on the last (hidden) case
    verdict = J.judge_function(entry, {"state": "ran", "outcomes": outcomes})
    assert verdict.status == INCORRECT and "hidden" in verdict.message
    assert entry.cases[-1] not in verdict.message


def test_the_judge_replaces_a_test_cells_outputs_with_its_verdict():
    entry = compiled("02_detecting_drift")["detect-effect"]
    wrong = entry.verdict(INCORRECT, "p-is-effect", "A p-value is not an effect size.")
    outputs = J.verdict_outputs(entry, wrong, ["flag"])
    assert [o.output_type for o in outputs] == ["display_data", "error"]
    record = outputs[0]["data"][RESULT_MIME]
    assert record["judge"] and record["flags"] == ["flag"] and record["misconception"] == "p-is-effect"
    assert "Worked solution" in outputs[0]["data"]["text/html"]
    right = J.verdict_outputs(entry, entry.verdict(CORRECT, None, "Correct"), [])
    assert [o.output_type for o in right] == ["display_data"]
    cell = new_code_cell("check('detect-effect')", metadata={"nbgrader": {"grade": True, "points": 1,
                                                                           "grade_id": "detect-effect" + TEST_SUFFIX}})
    from nbgrader.utils import determine_grade
    cell.outputs = [new_output("execute_result", data={"text/plain": "'ok'"}, execution_count=1)] + outputs
    assert determine_grade(cell)[0] == 1  # this is what the judge prevents: a value first means full marks …
    cell.outputs = outputs
    assert determine_grade(cell)[0] == 0  # … and why it replaces every output of the cell


def test_the_answer_is_the_lowest_answer_cell_wherever_it_stands():
    """The rule changed on purpose (issue 22): no longer "the last one above the test", but the lowest answer
    cell anywhere, as the kernel's check and intake read it; a cell dragged below its check still answers."""
    cells = [new_code_cell("%%answer q\nA", metadata={"nbgrader": {"grade_id": "q-answer"}}),
             new_code_cell("%%answer q\nC"),
             new_code_cell("B", metadata={"nbgrader": {"grade_id": "q-answer"}}),  # the magic line deleted
             new_code_cell("check('q')"),
             new_code_cell("%%answer q\nD")]
    assert J.answer_text(cells, "q") == "D"
    assert J.answer_text(cells[:4], "q") == "B"
    assert J.answer_text(cells[1:2], "q") == "C"
    assert J.answer_text(cells, "other") is None


# ------------------------------------------------------------------- the corpus through plain nbgrader

PLAIN = [c for c in hostile.CASES if c.status == "graded"
         and c.student != "h-old-format"]  # needs driftlab grade's intake repair (copied cells: KeepLowestCopy)


@pytest.fixture(scope="module")
def plain_graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("plain")
    course = hostile.tiny_course(base / "course")
    R.generate(course, hostile.TINY)
    corpus = base / "corpus"
    hostile.build_corpus(corpus, hostile.TINY, root=course)
    for case in PLAIN:
        R.submit(course, case.student, hostile.TINY, corpus / f"{case.student}__{hostile.TINY}.ipynb",
                 f"{hostile.TINY}.ipynb")
    started = time.monotonic()
    # On an instructor's terminal with type-ahead waiting in it (no kernel may read it or write to it); all of
    # nbgrader's output is then in proc.stderr.
    proc, terminal = corpus_output.nbgrader_on_a_terminal(course, "autograde", hostile.TINY, "--create", "--force",
                                                          "--Execute.timeout=20", timeout=1500)
    return {"course": course, "proc": proc, "seconds": time.monotonic() - started, "terminal": terminal}


@pytest.mark.slow
@pytest.mark.parametrize("case", PLAIN, ids=[c.student for c in PLAIN])
def test_plain_nbgrader_autograde_gives_the_corpus_its_scores(plain_graded, case):
    course = plain_graded["course"]
    score, max_score = R.total_score(course, hostile.TINY, case.student)
    assert max_score == hostile.max_score(hostile.TINY, course)
    assert case.score == "any" or score == (max_score if case.score == "max" else 0.0), \
        (case.student, score, plain_graded["proc"].stderr[-2000:])  # "any": the case has a test of its own


@pytest.mark.slow
def test_plain_nbgrader_flags_the_display_hook_cheat(plain_graded):
    course = plain_graded["course"]
    graded = nbformat.read(course / "autograded" / "h-display-hook" / hostile.TINY / f"{hostile.TINY}.ipynb",
                           as_version=4)
    records = [o["data"][RESULT_MIME] for c in graded.cells for o in c.get("outputs", [])
               if RESULT_MIME in o.get("data", {}) and o["data"][RESULT_MIME].get("judge")]
    assert records and all(r["flags"] for r in records) and all(r["status"] != CORRECT for r in records)
    assert "partial-credit" in plain_graded["proc"].stderr  # nbgrader's log names the cheat too
    for cell in graded.cells:  # nothing the kernel printed survives in a test cell
        for out in cell.get("outputs", []) if cell.metadata.get("nbgrader", {}).get("grade") else []:
            assert out.output_type != "execute_result" and OUTPUTS_MIME not in out.get("data", {})


@pytest.mark.slow
def test_plain_nbgrader_says_why_a_deleted_answer_cell_is_unanswered(plain_graded):
    graded = nbformat.read(plain_graded["course"] / "autograded" / "h-cells-deleted" / hostile.TINY /
                           f"{hostile.TINY}.ipynb", as_version=4)
    records = {o["data"][RESULT_MIME]["exercise"]: o["data"][RESULT_MIME] for c in graded.cells
               for o in c.get("outputs", []) if RESULT_MIME in o.get("data", {})}
    for exercise in ("tiny-blank", "tiny-choice"):  # their %%answer cells were deleted
        assert records[exercise]["status"] == UNANSWERED
        assert f"no answer cell for {exercise} (deleted?)" in records[exercise]["message"]
    assert records["tiny-func"]["status"] == INCORRECT  # the rest is graded as usual


@pytest.mark.parametrize("forged", [
    ["not", "a", "dict"], "not json {", {"exercise": "detect-fwer", "state": "ran", "outcomes": {"a": 1}},
    {"exercise": "detect-fwer", "state": "ran", "outcomes": ["x", 3, None]},
    {"exercise": "detect-fwer", "state": "ran", "outcomes": [{"value": 1, "error": ["x"]}] * 8},
])
def test_a_malformed_report_in_a_test_cell_earns_nothing_and_never_crashes_the_judge(forged):
    entry = _entry()
    cell = new_code_cell("check('detect-fwer')")
    cell.outputs = [new_output("display_data", data={"text/plain": "", OUTPUTS_MIME: forged})]
    verdict = J.judge_function(entry, J._outputs_record(cell, entry.id))
    assert verdict.status != CORRECT


@pytest.mark.slow
def test_plain_nbgrader_grades_the_rest_of_a_notebook_whose_kernel_sent_bad_reports(plain_graded):
    from tests.integration.corpus_output import HUGE_INT_ZERO
    course = plain_graded["course"]
    cells = R.cell_scores(course, hostile.TINY, "h-bad-huge-int")
    assert cells, plain_graded["proc"].stderr[-2000:]
    for grade_id, cell in cells.items():  # fwer returned 10**400: that exercise 0, the others their points
        c = cell.as_dict()
        assert c["score"] == (0 if grade_id == HUGE_INT_ZERO + TEST_SUFFIX else c["max_score"]), (grade_id, c)
    for student in ("h-bad-deep-nesting", "h-bad-non-json"):  # what could not be read is a note in its cell
        text = (course / "autograded" / student / hostile.TINY / f"{hostile.TINY}.ipynb").read_text()
        assert "could not be read and was dropped" in text, student


@pytest.mark.slow
def test_plain_nbgrader_keeps_captured_hidden_cases_out_of_the_graded_notebook_and_feedback(plain_graded):
    """Hooks, a thread and history dumps print every cell the kernel runs (corpus_feedback.py): the hidden
    cases and the hidden test reach neither the autograded notebook nor ``nbgrader generate_feedback``'s HTML."""
    from tests.integration import corpus_feedback

    course, student = plain_graded["course"], corpus_feedback.LEAK
    R.run_nbgrader(course, "generate_feedback", hostile.TINY, f"--student={student}", "--force", timeout=300)
    autograded = course / "autograded" / student / hostile.TINY / f"{hostile.TINY}.ipynb"
    feedback = course / "feedback" / student / hostile.TINY / f"{hostile.TINY}.html"
    for path in (autograded, feedback):
        text = path.read_text(encoding="utf-8")
        assert "thread saw:" in text and "print(_ih)" in text  # the learner's dumps are there …
        assert corpus_feedback.leaked(text, course) == [], path.name  # … with nothing of the hidden test in them
    nb = nbformat.read(autograded, as_version=4)
    assert not any(c.metadata.get(HIDDEN_TESTS_CELL) for c in nb.cells)  # the judge's last cell is gone


@pytest.mark.slow
def test_plain_nbgrader_on_a_terminal_lends_no_kernel_its_descriptors_and_holds_no_flood(plain_graded):
    """Graded on an instructor's terminal (fixture): the probe's kernel sees no terminal, log or host file, its
    escape sequences never reach the terminal, the type-ahead stays unread; 300 MB floods leave nbgrader's
    memory bounded and a note in the flooded cell; a blank flooding the runner's pipes is only that blank's 0."""
    course, terminal = plain_graded["course"], plain_graded["terminal"]

    def autograded(student: str):
        return nbformat.read(course / "autograded" / student / hostile.TINY / f"{hostile.TINY}.ipynb", as_version=4)

    report = corpus_output.probe_report(autograded("h-descriptors"))
    corpus_output.assert_holds_nothing_of_the_grader(report, str(course), "gradebook.db")
    assert report["wrote"] and corpus_output.ESCAPE_MARK not in terminal["seen"]  # written, to its own pipes only
    assert terminal["waiting"] == corpus_output.TYPE_AHEAD
    assert terminal["peak_mb"] < corpus_output.PEAK_MB, terminal["peak_mb"]
    for student in corpus_output.FLOODS:
        notes = [o["data"]["text/plain"] for c in autograded(student).cells for o in c.get("outputs", [])
                 if "output limit" in o.get("data", {}).get("text/plain", "")]
        assert notes and all(n.startswith("[driftlab grader] output limit:") for n in notes), (student, notes)
    cells = R.cell_scores(course, hostile.TINY, "h-runner-flood")
    for grade_id, cell in cells.items():
        assert cell.score == (0 if grade_id.startswith(corpus_output.RUNNER_FLOOD_ZERO) else cell.max_score), grade_id
