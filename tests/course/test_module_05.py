"""Module 05 (retraining loop): seed task 3 in context, seed MCQ 5, and the promotion gate, each
wrong behaviour with its own message, on the entries the build embeds in the hidden tests."""
from __future__ import annotations

import textwrap

import nbformat
import numpy as np
import pytest
from tests.support import compiled, solution_path

from driftlab.exercises.entries import CORRECT, INCORRECT
from grader.exercises.source import compile_notebook, specs_in
MODULE = "05_retraining"


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(solution_path(MODULE), as_version=4)


@pytest.fixture(scope="module")
def hidden():
    return compiled(MODULE)


@pytest.fixture(scope="module")
def specs(nb):
    return {spec.id: spec for _, spec in specs_in(nb)}


def verdict(entry, answer):
    v = entry.assess(answer)
    return v.status, v.misconception


def test_seed_items_are_there_as_the_seed_gives_them(specs):
    task3, mcq5 = specs["retrain-task3"], specs["retrain-mcq5"]
    assert (task3.kind, task3.difficulty, task3.source) == ("blanks", "hard", "seed task 3")
    assert task3.options == {1: {"A": "is False", "B": "!=", "C": "== None", "D": "is True"}}
    assert task3.prompt == "Fix the error in the code that checks for data drift."
    assert (mcq5.kind, mcq5.difficulty, mcq5.answer) == ("choice", "hard", {1: "A"})
    assert mcq5.options[1]["A"] == "Monitor performance, retrain with new data, and update deployment"
    assert mcq5.options[1]["C"] == "Retrain only when users complain"
    assert {m.when[1] for m in mcq5.mistakes} == {"B", "C", "D"}


@pytest.mark.parametrize("code", [
    "if detect_data_drift() is True:\n    retrain_model()",
    "if detect_data_drift() D:\n    retrain_model()",
    "if detect_data_drift():\n    retrain_model()",
    "if detect_data_drift() == True:\n    retrain_model()",
])
def test_task3_accepts_equivalent_answers(hidden, code):
    assert verdict(hidden["retrain-task3"], code)[0] == CORRECT


@pytest.mark.parametrize("fill, mistake", [
    ("is False", "is-false-means-no-drift"), ("!=", "bare-not-equal"), ("== None", "eq-none"),
    ("A", "is-false-means-no-drift"), ("C", "eq-none"),
])
def test_task3_distractors(hidden, fill, mistake):
    code = f"if detect_data_drift() {fill}:\n    retrain_model()"
    assert verdict(hidden["retrain-task3"], code) == (INCORRECT, mistake)


def test_task3_in_context_returns_a_plain_bool():
    from driftlab.course.drift import detect_data_drift
    from driftlab.course.simulation import Scenario

    scenario = Scenario(seed=0)
    result = detect_data_drift(scenario.reference(), scenario.batch(11), drift_share=0.1)
    assert result is True


@pytest.mark.parametrize("letter, mistake", [("A", None), ("B", "dropping-monitoring"),
                                             ("C", "waiting-for-complaints"), ("D", "ignoring-changes")])
def test_mcq5(hidden, letter, mistake):
    status, misconception = verdict(hidden["retrain-mcq5"], letter)
    assert (status, misconception) == ((CORRECT, None) if mistake is None else (INCORRECT, mistake))


def define(code: str):
    namespace: dict = {"np": np}
    exec(textwrap.dedent(code), namespace)  # noqa: S102 - test fixtures
    return namespace["should_promote"]


ALTERNATIVES = ['''
def should_promote(champion, challenger, min_improvement=0.01, max_recall_drop=0.02):
    if challenger["accuracy"] <= champion["accuracy"]:
        return False
    if challenger["accuracy"] < champion["accuracy"] + min_improvement:
        return False
    return challenger["recall"] + max_recall_drop >= champion["recall"]
''', '''
import numpy as np
def should_promote(champion, challenger, min_improvement=0.01, max_recall_drop=0.02):
    gain = np.float64(challenger["accuracy"]) - champion["accuracy"]
    return np.bool_(gain > 0) & np.bool_(gain >= min_improvement) & np.bool_(
        champion["recall"] - challenger["recall"] <= max_recall_drop)
''']

WRONG = {
    "promotes-on-tie": "gain >= min_improvement and challenger['recall'] >= champion['recall'] - max_recall_drop",
    "strict-min-improvement": "gain > min_improvement and challenger['recall'] >= champion['recall'] - max_recall_drop",
    "ignores-guardrail": "gain > 0 and gain >= min_improvement",
    "guardrail-strict": "gain > 0 and gain >= min_improvement and challenger['recall'] > champion['recall'] - max_recall_drop",
    "recall-must-not-drop": "gain > 0 and gain >= min_improvement and challenger['recall'] >= champion['recall']",
    "ignores-min-improvement": "gain > 0 and challenger['recall'] >= champion['recall'] - max_recall_drop",
}


def _wrong(expression: str) -> str:
    return ("def should_promote(champion, challenger, min_improvement=0.01, max_recall_drop=0.02):\n"
            "    gain = challenger['accuracy'] - champion['accuracy']\n"
            f"    return {expression}\n")


@pytest.mark.parametrize("hidden_cases", [False, True])
def test_should_promote_each_wrong_behaviour_has_its_message(nb, hidden_cases):
    entry = compile_notebook(nb, hidden=hidden_cases)["retrain-promote"]
    for code in ALTERNATIVES:
        assert verdict(entry, define(code))[0] == CORRECT
    for mistake, expression in WRONG.items():
        v = entry.assess(define(_wrong(expression)))
        assert (v.status, v.misconception) == (INCORRECT, mistake)
        assert v.message == next(m.message for m in entry.mistakes if m.id == mistake)


def test_should_promote_cases_cover_tie_and_boundaries(specs):
    spec = specs["retrain-promote"]
    cases = [eval(c) for c in spec.cases]  # noqa: S307
    assert any(ch["accuracy"] == cp["accuracy"] for cp, ch, *_ in cases)  # a tie
    assert any(len(c) == 4 and c[1]["accuracy"] - c[0]["accuracy"] == c[2] > 0 for c in cases)  # min-improvement boundary
    assert any(len(c) == 4 and c[0]["recall"] - c[1]["recall"] == c[3] > 0 for c in cases)  # guardrail boundary
