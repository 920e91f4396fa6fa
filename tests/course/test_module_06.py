"""Module 06 (retraining loop): seed task 3 run in context (graded in module 02), seed MCQ 5, the training window under the
module's label delay, and the paired promotion gate, each wrong answer with its own message, on the
entries the build embeds in the hidden tests."""
from __future__ import annotations

import textwrap

import nbformat
import numpy as np
import pytest
from tests.support import compiled, solution_path

from driftlab.exercises.entries import CORRECT, INCORRECT
from grader.exercises.source import compile_notebook, specs_in
MODULE = "06_retraining"


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
    mcq5 = specs["retrain-mcq5"]
    assert (mcq5.kind, mcq5.difficulty, mcq5.answer) == ("choice", "hard", {1: "A"})
    assert mcq5.options[1]["A"] == "Monitor performance, retrain with new data, and update deployment"
    assert mcq5.options[1]["C"] == "Retrain only when users complain"
    assert {m.when[1] for m in mcq5.mistakes} == {"B", "C", "D"}


def test_seed_task3_is_graded_once_in_the_course():
    """Module 06 runs seed task 3 on a real drift check; module 02 grades it (detect-task3), nowhere else."""
    from tests.support import MODULES

    graded = [(m, spec.id) for m in MODULES for _, spec in specs_in(nbformat.read(solution_path(m), as_version=4))
              if spec.source == "seed task 3" and spec.graded]
    assert graded == [("02_detecting_drift", "detect-task3")]


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


@pytest.mark.parametrize("letter, mistake", [("B", None), ("A", "more-data-always-better"), ("C", "reference-only"),
                                             ("D", "trains-on-unlabelled-rows")])
def test_window_choice_each_distractor_has_its_message(hidden, letter, mistake):
    entry = hidden["retrain-window"]
    v = entry.assess(letter)
    assert (v.status, v.misconception) == ((CORRECT, None) if mistake is None else (INCORRECT, mistake))
    if mistake:
        assert v.message == next(m.message for m in entry.mistakes if m.id == mistake)


def test_window_choice_is_answerable_under_the_modules_label_delay(specs, nb):
    """Labels arrive at the end of each month (section 2 says so): the answer trains on last month only."""
    spec = specs["retrain-window"]
    assert "arrive at the end of that month" in spec.prompt and "last month" in spec.options[1]["B"]
    text = " ".join(" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    assert "a month's labels arrive at its end" in text and "no label delay" not in text


@pytest.mark.parametrize("letter, mistake", [("B", None), ("A", "test-is-enough"), ("C", "golden-set-useless"),
                                             ("D", "retest-same-rows")])
def test_shadow_canary_practice(hidden, letter, mistake):
    v = hidden["retrain-p3"].assess(letter)
    assert (v.status, v.misconception) == ((CORRECT, None) if mistake is None else (INCORRECT, mistake))


def test_shadow_canary_practice_prompt_states_a_true_p_value(specs):
    from scipy.stats import binomtest

    prompt = specs["retrain-p3"].prompt
    assert "70 of its 100 disagreements" in prompt and "p < 0.001" in prompt
    assert binomtest(70, 100).pvalue < 0.001


def define(code: str):
    namespace: dict = {"np": np}
    exec(textwrap.dedent(code), namespace)  # noqa: S102 - test fixtures
    return namespace["should_promote"]


# Right answers written differently from the instructor's: all must pass.
ALTERNATIVES = ['''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    from scipy.stats import binomtest
    b = int((champion_correct & ~challenger_correct).sum())
    c = int((challenger_correct & ~champion_correct).sum())
    return c > b and binomtest(c, b + c, alternative="greater").pvalue < alpha / 2
''', '''
import numpy as np
from scipy import stats
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    pairs = list(zip(champion_correct, challenger_correct))
    b = sum(1 for old, new in pairs if old and not new)
    c = sum(1 for old, new in pairs if new and not old)
    if b + c == 0:
        return False
    p = stats.binomtest(b, b + c, 0.5).pvalue  # the two-sided p-value is the same from b's side
    return np.bool_(c > b) & np.bool_(p < alpha)
''', '''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    # Dietterich (1998): McNemar's chi-square with continuity correction agrees on every case
    from scipy.stats import chi2
    b = int(np.sum(champion_correct & ~challenger_correct))
    c = int(np.sum(challenger_correct & ~champion_correct))
    if c <= b:
        return False
    return bool(chi2.sf((abs(b - c) - 1) ** 2 / (b + c), 1) < alpha)
''']

# Each known mistake written independently of the spec's code: the check finds it by its behaviour.
WRONG = {
    "higher-accuracy-wins": '''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    return np.mean(challenger_correct) - np.mean(champion_correct) > 0
''',
    "fixed-margin": '''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    gain = challenger_correct.mean() - champion_correct.mean()
    return gain > 0.025
''',
    "unpaired-test": '''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    from scipy.stats import chi2_contingency
    n = len(champion_correct)
    k, c = champion_correct.sum(), challenger_correct.sum()
    return bool(c > k and chi2_contingency([[c, n - c], [k, n - k]]).pvalue < alpha)
''',
    "all-rows-as-trials": '''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    from scipy.stats import binomtest
    c = int((challenger_correct & ~champion_correct).sum())
    b = int((champion_correct & ~challenger_correct).sum())
    return c > b and binomtest(c, n=champion_correct.size, p=0.5).pvalue < alpha
''',
    "significant-either-way": '''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    from scipy.stats import binomtest
    b = int((champion_correct & ~challenger_correct).sum())
    c = int((challenger_correct & ~champion_correct).sum())
    if b == c == 0:
        return False
    return binomtest(c, b + c).pvalue < alpha
''',
    "one-sided-at-alpha": '''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    from scipy.stats import binomtest
    b = int((champion_correct & ~challenger_correct).sum())
    c = int((challenger_correct & ~champion_correct).sum())
    if c <= b:
        return False
    return binomtest(c, b + c, alternative="greater").pvalue < alpha
''',
    "swapped-disagreements": '''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    from scipy.stats import binomtest
    c = int((champion_correct & ~challenger_correct).sum())
    b = int((challenger_correct & ~champion_correct).sum())
    if c <= b:
        return False
    return binomtest(c, b + c).pvalue < alpha
''',
    "no-disagreements-crash": '''
def should_promote(champion_correct, challenger_correct, alpha=0.05):
    from scipy.stats import binomtest
    b = int((champion_correct & ~challenger_correct).sum())
    c = int((challenger_correct & ~champion_correct).sum())
    result = binomtest(c, b + c)
    return c > b and result.pvalue < alpha
''',
}


@pytest.mark.parametrize("hidden_cases", [False, True])
def test_should_promote_each_wrong_behaviour_has_its_message(nb, specs, hidden_cases):
    entry = compile_notebook(nb, hidden=hidden_cases)["retrain-promote"]
    mistakes = {m.id: m for m in specs["retrain-promote"].mistakes}
    assert set(WRONG) == set(mistakes)  # every mistake, none forgotten
    for code in ALTERNATIVES:
        assert verdict(entry, define(code))[0] == CORRECT
    for mistake, code in WRONG.items():
        for implementation in (code, mistakes[mistake].code):  # ours, and the spec's own
            v = entry.assess(define(implementation))
            assert (v.status, v.misconception) == (INCORRECT, mistake), (mistake, v.message)
            assert v.message == mistakes[mistake].message


def test_should_promote_is_the_notebooks_paired_gate(nb, specs):
    """The graded rule is the library's paired gate (McNemar, c > b, p < alpha) on every case, visible and hidden."""
    from driftlab.course.retraining import paired_comparison

    spec = specs["retrain-promote"]
    reference = define(next(c.source for c in nb.cells
                            if c.metadata.get("nbgrader", {}).get("grade_id") == "retrain-promote-answer"))
    for case in spec.cases + spec.hidden_cases:
        champion, challenger, *alpha = eval(case, {"np": np, "rng": np.random.default_rng})  # noqa: S307 - spec text
        assert reference(champion, challenger, *alpha) is paired_comparison(champion, challenger).challenger_better(*alpha)


def test_should_promote_cases_cover_the_boundaries(specs):
    """Visible cases where each shortcut and the right answer part ways."""
    from scipy.stats import binomtest

    tables = []
    for case in specs["retrain-promote"].cases:
        champion, challenger, *_ = eval(case, {"np": np})  # noqa: S307 - spec text
        b, c = int(np.sum(champion & ~challenger)), int(np.sum(challenger & ~champion))
        tables.append((b, c, binomtest(c, b + c).pvalue if b + c else 1.0,
                       binomtest(c, b + c, alternative="greater").pvalue if b + c else 1.0))
    assert any(b == c == 0 for b, c, _, _ in tables)  # the models never disagree
    assert any(c > b and p >= 0.05 for b, c, p, _ in tables)  # a higher accuracy that is a coin flip
    assert any(b > c and p < 0.05 for b, c, p, _ in tables)  # a significantly worse challenger
    assert any(c > b and p >= 0.05 and one_sided < 0.05 for b, c, p, one_sided in tables)  # one- vs two-sided
    assert any(c > b and p < 0.05 for b, c, p, _ in tables)  # a real gain
