"""Module 07 (Drift Lab): the graded `policy(state)` exercise, its buggy-policy feedback, hidden
scenarios, and the lab in the notebook.

The exercise's reference (the instructor's solution cell) must agree with tests/support.reference_policy
(kept out of driftlab, where a learner could import it); every known buggy policy gets its own message;
the release contains none of the hidden states; real nbgrader gives 3/3, and 0 with the right
misconception to buggy policies.
"""
from __future__ import annotations

import ast
import textwrap
import time

import nbformat
import pytest
from tests.support import errors, execute, fill_release, release_path, results, solution_path

from driftlab import lab as L
from tests.support import reference_policy
from grader import nbgrader as R

from grader.exercises.source import compile_notebook, reference_function, specs_in
MODULE = "07_drift_lab"
EXERCISE = "lab-policy"


@pytest.fixture(scope="module")
def solution_nb():
    return nbformat.read(solution_path(MODULE), as_version=4)


@pytest.fixture(scope="module")
def entry(solution_nb):
    return compile_notebook(solution_nb, hidden=True)[EXERCISE]


@pytest.fixture(scope="module")
def spec(solution_nb):
    return next(s for _, s in specs_in(solution_nb) if s.id == EXERCISE)


def define(code: str):
    namespace: dict = {}
    exec(textwrap.dedent(code), namespace)  # noqa: S102 - test fixtures
    return namespace["policy"]


def _states(spec, which: str) -> list[dict]:
    return [ast.literal_eval(case)[0] for case in getattr(spec, which)]


def test_notebook_solution_equals_the_lab_reference(solution_nb, spec):
    notebook_policy = reference_function(solution_nb, spec)
    for state in _states(spec, "cases") + _states(spec, "hidden_cases"):
        assert notebook_policy(state) == reference_policy(state), state
    seen = []

    def both(state):
        seen.append((notebook_policy(state), reference_policy(state)))
        return seen[-1][1]

    for drift in (L.Drift("unit_bug", "loan_amount", 1.0), L.Drift("concept", "age", 1.0, label_delay=10)):
        L.run(drift, policy=both)
    assert all(a == b for a, b in seen) and {b for _, b in seen} == {"none", "retrain", "fix_pipeline"}


def test_cases_cover_every_action_and_the_boundaries(spec):
    visible, hidden = _states(spec, "cases"), _states(spec, "hidden_cases")
    assert len(hidden) >= 10 and not any(h in visible for h in hidden)
    assert {reference_policy(s) for s in visible} == {"none", "retrain", "fix_pipeline"}
    assert {reference_policy(s) for s in hidden} == {"none", "retrain", "fix_pipeline"}
    assert any(s["realised_accuracy"] == s["accuracy_threshold"] for s in visible)
    assert any(s["predicted_accuracy"] == s["accuracy_threshold"] and s["alert"] for s in visible)
    assert any(s["days_since_retrain"] == 30 for s in visible)
    real = []
    L.run(L.Drift("none"), policy=lambda state: real.append(state) or "none")
    for state in visible + hidden:  # the same keys the lab passes
        assert set(state) == set(real[100])


@pytest.mark.parametrize("mistake", [
    "retrain-on-every-alert", "never-retrain", "no-quality-gate", "retrain-on-bad-data", "drift-is-not-harm",
    "waits-for-labels", "trusts-estimate-only", "strict-threshold", "no-cooldown"])
def test_each_buggy_policy_gets_its_own_message(entry, spec, mistake):
    code = next(m.code for m in spec.mistakes if m.id == mistake)
    verdict = entry.assess(define(code))
    assert verdict.status == "incorrect" and verdict.misconception == mistake
    assert verdict.message == next(m.message for m in entry.mistakes if m.id == mistake)


def test_buggy_policies_written_differently_are_still_recognised(entry):
    every_alert = '''
    def policy(state):
        if state.get("alert") is True:
            return "retrain"
        else:
            return "none"
    '''
    strict = '''
    def policy(s):
        if s["data_quality_ok"] == False:
            return "fix_pipeline"
        elif s["days_since_retrain"] >= 30 and (
                (s["realised_accuracy"] is not None and s["realised_accuracy"] < s["accuracy_threshold"])
                or (s["alert"] and s["predicted_accuracy"] < s["accuracy_threshold"])):
            return "retrain"
        return "none"
    '''
    assert entry.assess(define(every_alert)).misconception == "retrain-on-every-alert"
    assert entry.assess(define(strict)).misconception == "strict-threshold"


def test_an_equivalent_correct_policy_passes(entry):
    rewrite = '''
    ACTIONS = {"quality": "fix_pipeline", "degraded": "retrain"}
    def policy(state):
        if not state["data_quality_ok"]:
            return ACTIONS["quality"]
        cooling = state["days_since_retrain"] < 30
        t = state["accuracy_threshold"]
        measured = state["realised_accuracy"] is not None and state["realised_accuracy"] <= t
        estimated = bool(state["alert"]) and state["predicted_accuracy"] <= t
        return "none" if cooling or not (measured or estimated) else ACTIONS["degraded"]
    '''
    assert entry.assess(define(rewrite)).status == "correct"
    assert entry.assess(define("def policy(state):\n    raise NotImplementedError()\n")).status == "unanswered"
    crash = entry.assess(define("def policy(state):\n    return 'retrain' if state['realised_accuracy'] < 0.87 else 'none'\n"))
    assert crash.status == "incorrect"  # comparing None with a float fails on the label-delay cases


def test_release_has_no_hidden_state_and_no_solution(spec):
    from driftlab.exercises import bank
    from driftlab.protocol import START_CALL
    text = release_path(MODULE).read_text(encoding="utf-8")
    release = nbformat.read(release_path(MODULE), as_version=4)
    setup = next(c.source for c in release.cells if c.cell_type == "code" and START_CALL.search(c.source))
    shipped = bank.decode(setup.split('bank="', 1)[1].split('"', 1)[0])[EXERCISE]
    assert shipped.cases == tuple(spec.cases), "the release's bank holds the visible cases only"
    for case in spec.hidden_cases:
        state = ast.literal_eval(case)[0]
        assert repr(state["drift_scores"]) not in text and case not in shipped.cases
    assert "BEGIN HIDDEN TESTS" not in text and "days_since_retrain\"] < 30" not in text
    assert "raise NotImplementedError" in text


def test_untouched_release_runs_fast_and_politely():
    path = release_path(MODULE)
    start = time.perf_counter()
    nb = execute(path, cwd=path.parent)
    elapsed = time.perf_counter() - start
    assert errors(nb) == []
    checks = [r for r in results(nb) if "exercise" in r]
    assert [r["status"] for r in checks] == ["unanswered"]
    outputs = "".join(str(out) for cell in nb.cells for out in cell.get("outputs", []))
    assert "not written yet" in outputs  # the scoreboard table says so instead of failing
    assert "application/vnd.jupyter.widget-view+json" in outputs  # the lab and the practice widgets
    assert elapsed < 60  # a generous bound on a shared machine; typically ~5 s


@pytest.mark.slow
def test_nbgrader_grades_policies(tmp_path, solution_nb, spec):
    course = R.make_course(tmp_path / "course", modules=[MODULE])
    R.generate(course, MODULE)
    name = solution_path(MODULE).name
    release = nbformat.read(course / "notebooks" / MODULE / name, as_version=4)
    buggy = {m.id: m.code for m in spec.mistakes}
    students = {"right": None, "every-alert": "retrain-on-every-alert", "no-gate": "no-quality-gate",
                "strict": "strict-threshold"}
    for student, mistake in students.items():
        nb = fill_release(release, solution_nb, {EXERCISE: buggy[mistake]} if mistake else None)
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(nb, path)
        R.submit(course, student, MODULE, path, name)
    proc = R.autograde(course, MODULE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert R.total_score(course, MODULE, "right") == (3, 3)
    for student, mistake in students.items():
        if mistake is None:
            continue
        assert R.total_score(course, MODULE, student)[0] == 0, student
        graded = nbformat.read(course / "autograded" / student / MODULE / name, as_version=4)
        records = {r["exercise"]: r for r in results(graded) if "exercise" in r}
        assert records[EXERCISE]["misconception"] == mistake
        failures = "\n".join(out.get("evalue", "") for cell in graded.cells for out in cell.get("outputs", [])
                             if out.get("output_type") == "error")
        assert mistake in failures


def test_the_window_claim_of_things_to_try_holds_on_a_year_without_drift():
    """Cell 'The lab': with the chi-square test a 30-day window alerts more than a 1-day window (a month of
    rows makes any small difference significant); with the Jensen-Shannon distance it alerts less."""
    def alerts(statistic: str, threshold: float, window: int) -> int:
        monitoring = L.Monitoring(statistic=statistic, threshold=threshold, window=window)
        return int(L.run(L.Drift(type="none"), monitoring, policy="none").alert.sum())

    assert alerts("chi2", 0.05, 30) > alerts("chi2", 0.05, 1) > 0
    assert alerts("jensen_shannon", 0.1, 30) < alerts("jensen_shannon", 0.1, 1)
    text = "".join(c.source for c in nbformat.read(solution_path(MODULE), as_version=4).cells)
    assert "alerts more often" in text and "p < 0.05" in text
