"""Module 03 (accuracy thresholds): the boundary between `<` and `<=` is graded, with its own messages.

Checked twice: on the compiled entries (the same ones the build embeds in the hidden tests) and
through one real nbgrader autograde of submitted notebooks.
"""
from __future__ import annotations

import textwrap

import nbformat
import pytest
from tests.support import compiled, errors, execute, fill_release, release_path, results, solution_path

from grader import nbgrader as R

from grader.exercises.source import compile_notebook
MODULE = "03_accuracy_thresholds"

CRITICAL_STRICT = '''
def alert_level(accuracy, baseline, threshold):
    if accuracy < threshold:
        return "critical"
    if accuracy < baseline:
        return "warning"
    return "ok"
'''
WARNING_LE = '''
def alert_level(accuracy, baseline, threshold):
    if accuracy <= threshold:
        return "critical"
    elif accuracy <= baseline:
        return "warning"
    else:
        return "ok"
'''
RUN_STRICT = '''
def consecutive_breaches(accuracies, threshold, n):
    count = 0
    flags = []
    for acc in accuracies:
        count = count + 1 if acc < threshold else 0
        flags.append(count >= n)
    return flags
'''
RUN_CORRECT_NUMPY = '''
import numpy as np
def consecutive_breaches(accuracies, threshold, n):
    hits = np.asarray(accuracies, dtype=float) <= threshold
    out = []
    for i in range(len(hits)):
        out.append(bool(i + 1 >= n and hits[i + 1 - n:i + 1].all()))
    return out
'''


def define(code: str, name: str):
    namespace: dict = {}
    exec(textwrap.dedent(code), namespace)  # noqa: S102 - test fixtures
    return namespace[name]


@pytest.fixture(scope="module")
def entries():
    return compiled(MODULE)


def _message(entry, mistake_id):
    return next(m.message for m in entry.mistakes if m.id == mistake_id)


def test_alert_level_uses_lt_where_le_is_right(entries):
    entry = entries["thresh-alert-level"]
    verdict = entry.assess(define(CRITICAL_STRICT, "alert_level"))
    assert verdict.status == "incorrect" and verdict.misconception == "critical-strict"
    assert verdict.message == _message(entry, "critical-strict") and "<=" in verdict.message


def test_alert_level_uses_le_where_lt_is_right(entries):
    entry = entries["thresh-alert-level"]
    verdict = entry.assess(define(WARNING_LE, "alert_level"))  # written differently from the spec's code
    assert verdict.misconception == "warning-includes-equal"
    assert verdict.message == _message(entry, "warning-includes-equal")


def test_consecutive_breaches_boundary_and_equivalents(entries):
    entry = entries["thresh-consecutive"]
    verdict = entry.assess(define(RUN_STRICT, "consecutive_breaches"))
    assert verdict.misconception == "strict-less-than" and verdict.message == _message(entry, "strict-less-than")
    assert entry.assess(define(RUN_CORRECT_NUMPY, "consecutive_breaches")).status == "correct"
    # the hidden cases include a run of values exactly at the threshold
    assert "([0.85, 0.85], 0.85, 2)" in entry.cases


def test_every_function_mistake_has_its_own_message(entries):
    for exercise in ("thresh-alert-level", "thresh-consecutive"):
        entry = entries[exercise]
        outputs = [tuple(map(repr, o)) for o in entry.mistake_outputs]
        assert len(set(outputs)) == len(outputs), f"{exercise}: two mistakes behave alike"
        assert len({m.message for m in entry.mistakes}) == len(entry.mistakes)


@pytest.mark.parametrize("fill, outcome", [
    ("<", "correct"), ("C", "correct"),
    (">=", "ge-improved-or-same"), ("!=", "ne-any-change"), ("==", "eq-only-equality"),
    ("A", "ge-improved-or-same"), ("B", "ne-any-change"), ("D", "eq-only-equality"),
    ("<=", "le-equal-is-not-a-drop"), (">", "gt-reversed"),
])
def test_task2_tells_lt_from_le_ne_eq_ge(entries, fill, outcome):
    entry = entries["thresh-task2"]
    code = f"if current_accuracy {fill} baseline_accuracy:\n    log('Accuracy dropped')"
    verdict = entry.assess(code)
    assert (verdict.status if outcome == "correct" else verdict.misconception) == outcome
    if outcome not in ("correct", "unknown"):
        assert verdict.message == _message(entry, outcome)


def test_task2_accepts_an_equivalent_rewrite(entries):
    verdict = entries["thresh-task2"].assess("if baseline_accuracy > current_accuracy:\n    log('Accuracy dropped')")
    assert verdict.status == "correct"


def test_task2_probes_cover_the_boundary(entries):
    probes = entries["thresh-task2"].probes
    pairs = [(eval(p["current_accuracy"], {"np": __import__("numpy")}),  # noqa: S307 - spec text
              eval(p["baseline_accuracy"], {"np": __import__("numpy")})) for p in probes]  # noqa: S307
    assert any(c == b for c, b in pairs) and any(c < b for c, b in pairs) and any(c > b for c, b in pairs)


def test_widget_in_the_module_is_the_threshold_explorer():
    text = solution_path(MODULE).read_text(encoding="utf-8")
    assert "ThresholdExplorer(" in text


@pytest.mark.slow
def test_nbgrader_grades_the_boundary_mistakes(tmp_path):
    course = R.make_course(tmp_path / "course", modules=[MODULE])
    R.generate(course, MODULE)
    name = solution_path(MODULE).name
    release = nbformat.read(course / "notebooks" / MODULE / name, as_version=4)
    solution = nbformat.read(solution_path(MODULE), as_version=4)
    submissions = {
        "right": fill_release(release, solution),
        "strict": fill_release(release, solution, {"thresh-alert-level": CRITICAL_STRICT,
                                                    "thresh-consecutive": RUN_STRICT}),
        "reverse": fill_release(release, solution, {"thresh-alert-level": WARNING_LE,
                                                     "thresh-task2": "if current_accuracy <= baseline_accuracy:\n"
                                                                     "    log('Accuracy dropped')"}),
    }
    for student, nb in submissions.items():
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(nb, path)
        R.submit(course, student, MODULE, path, name)
    proc = R.autograde(course, MODULE)
    assert proc.returncode == 0, proc.stderr[-3000:]

    score, max_score = R.total_score(course, MODULE, "right")
    assert max_score == 7 and score == max_score
    expected_zero = {"strict": {"thresh-alert-level": "critical-strict", "thresh-consecutive": "strict-less-than"},
                     "reverse": {"thresh-alert-level": "warning-includes-equal", "thresh-task2": None}}
    entries = compile_notebook(solution, hidden=True)
    for student, wrong in expected_zero.items():
        cells = R.cell_scores(course, MODULE, student)
        graded = nbformat.read(course / "autograded" / student / MODULE / name, as_version=4)
        records = {r["exercise"]: r for r in results(graded) if "exercise" in r}
        failures = "\n".join(out.get("evalue", "") for cell in graded.cells for out in cell.get("outputs", [])
                             if out.get("output_type") == "error")
        for exercise, cell in cells.items():
            ident = exercise[: -len("-test")]
            if ident in wrong:
                assert cell.score == 0, (student, ident)
                mistake = wrong[ident]
                if mistake:
                    assert records[ident]["misconception"] == mistake
                    assert _message(entries[ident], mistake) in failures  # the hidden test names the mistake
            else:
                assert cell.score == cell.max_score, (student, ident)


def test_untouched_release_runs_and_reports_unanswered():
    nb = execute(release_path(MODULE), cwd=release_path(MODULE).parent)
    assert errors(nb) == []
    checks = [r for r in results(nb) if "exercise" in r]
    assert len(checks) == 5 and all(r["status"] == "unanswered" for r in checks)
