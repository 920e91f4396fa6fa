"""Module 05 (feature importance): seed tasks 4 and 5 and the importance-change function are graded
with a message per misconception, on the entries the build embeds in the hidden tests."""
from __future__ import annotations

import textwrap

import nbformat
import pytest
from tests.support import compiled, solution_path

from driftlab.exercises.entries import CORRECT, INCORRECT
from driftlab.exercises.blanks import fill
from grader.exercises.source import compile_notebook, specs_in
MODULE = "05_feature_importance"
TASK4 = ("importance_changes = {feature: importance - old_importances.get(feature, 0) for feature, importance "
         "in new_importances.items() if importance - old_importances.get(feature, 0) > threshold}")


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(solution_path(MODULE), as_version=4)


@pytest.fixture(scope="module")
def hidden():
    return compiled(MODULE)


@pytest.fixture(scope="module")
def specs(nb):
    return {spec.id: spec for _, spec in specs_in(nb)}


def define(code: str, name: str = "flag_importance_changes"):
    namespace: dict = {}
    exec(textwrap.dedent(code), namespace)  # noqa: S102 - test fixtures
    return namespace[name]


def verdict(entry, answer):
    v = entry.assess(answer)
    return v.status, v.misconception, v.message


def test_exercise_list(specs):
    summary = {s.id: (s.kind, s.difficulty, s.points, s.graded) for s in specs.values()}
    assert summary["importance-task4"] == ("blanks", "hard", 2.0, True)
    assert summary["importance-task5"] == ("blanks", "hard", 2.0, True)
    assert summary["importance-flag"][0:2] == ("function", "hard")
    assert specs["importance-task4"].source == "seed task 4" and specs["importance-task5"].source == "seed task 5"


def test_seed_task4_keeps_the_seeds_options_and_says_what_was_fixed(specs):
    spec = specs["importance-task4"]
    assert spec.options == {1: {"A": "-", "B": ">", "C": "<", "D": "+"}, 2: {"A": "-", "B": ">", "C": "<", "D": "+"}}
    assert spec.answer == {1: "A", 2: "B"}
    assert "old_importance" in spec.note and "NameError" in spec.note
    messages = {m.id: m.message for m in spec.mistakes}
    assert messages["plus-instead-of-minus"].startswith("Using '+' instead of '-' for difference")
    assert messages["less-than-filters-smaller"].startswith("Using '<' which filters smaller changes")


def test_task4_probes_cover_new_missing_signed_and_boundary(specs):
    import math

    spec = specs["importance-task4"]
    env = {"math": math}
    new_feature = missing_feature = drop = boundary = False
    for probe in spec.probes:
        old, new, t = (eval(probe[k], env) for k in ("old_importances", "new_importances", "threshold"))  # noqa: S307
        new_feature |= bool(set(new) - set(old))
        missing_feature |= bool(set(old) - set(new))
        drop |= any(new[f] - old[f] < -t for f in set(old) & set(new))
        boundary |= any(new.get(f, 0) - old.get(f, 0) == t for f in set(old) | set(new))
    assert new_feature and missing_feature and drop and boundary


def test_task4_answer_letters_and_each_distractor(hidden):
    entry = hidden["importance-task4"]
    assert verdict(entry, TASK4)[0] == CORRECT
    letters = TASK4.replace("importance - old", "importance A old").replace("> threshold", "B threshold")
    assert verdict(entry, letters)[0] == CORRECT
    expected = {(1, "D"): "plus-instead-of-minus", (2, "C"): "less-than-filters-smaller",
                (1, "B"): "comparison-not-difference-gt", (1, "C"): "comparison-not-difference-lt",
                (2, "A"): "minus-threshold-is-truthy", (2, "D"): "plus-threshold-is-truthy"}
    template = entry.template
    for (blank, letter), mistake in expected.items():
        fills = {1: "-", 2: ">"}
        fills[blank] = entry.options[blank][letter]
        status, misconception, message = verdict(entry, fill(template, fills))
        assert (status, misconception) == (INCORRECT, mistake), (blank, letter)
        assert message and mistake != "unknown"


def test_task4_inclusive_threshold_typed_outside_the_options(hidden):
    entry = hidden["importance-task4"]
    status, misconception, message = verdict(entry, TASK4.replace("> threshold", ">= threshold"))
    assert (status, misconception) == (INCORRECT, "threshold-inclusive") and "exactly equal" in message


def test_task4_comprehensions_that_drop_new_features_fail(hidden):
    entry = hidden["importance-task4"]
    ignores_new = TASK4.replace("old_importances.get(feature, 0)", "old_importances[feature]")
    skips_new = TASK4.replace("if importance", "if feature in old_importances and importance")
    for code in (ignores_new, skips_new):
        assert verdict(entry, code)[0] == INCORRECT


def test_task5_seed_options_and_mistakes(hidden, specs):
    spec = specs["importance-task5"]
    assert all(set(opts) == {"A", "B", "D"} for opts in spec.options.values())  # the seed has no option C
    entry = hidden["importance-task5"]
    template = entry.template
    right = {1: "feature", 2: "importance", 3: "feature"}
    assert verdict(entry, fill(template, right))[0] == CORRECT
    assert verdict(entry, fill(template, {1: "feat", 2: "importance", 3: "feat"}))[0] == CORRECT  # consistent rename
    cases = {(1, "feat"): "different-names-key", (2, "feat"): "different-names-value",
             (3, "feat"): "different-names-loop", (1, "importance"): "keys-values-mixed-key",
             (2, "feature"): "keys-values-mixed-value", (3, "importance"): "loop-binds-importance-twice"}
    for (blank, text), mistake in cases.items():
        status, misconception, _ = verdict(entry, fill(template, {**right, blank: text}))
        assert (status, misconception) == (INCORRECT, mistake), (blank, text)
    messages = {m.id: m.message for m in spec.mistakes}
    assert messages["different-names-loop"].startswith("Using different variable names causing errors")
    assert messages["keys-values-mixed-key"].startswith("Mixing up keys and values")


def test_task5_counts_a_disappeared_feature_as_a_drop(specs):
    probe = specs["importance-task5"].probes[0]
    old, new = eval(probe["old_importances"]), eval(probe["new_importances"])  # noqa: S307
    drops = {f: v for f, v in old.items() if v - new.get(f, 0) > 0.1}
    assert any(f not in new for f in drops)


ALTERNATIVE = '''
def flag_importance_changes(old, new, threshold):
    out = {}
    for f in sorted({*old, *new}):
        change = new.get(f, 0) - old.get(f, 0)
        if change > threshold or -change > threshold:
            out[f] = change
    return out
'''
COMPREHENSIONS = {
    "ignores-new-features": "def flag_importance_changes(old, new, threshold):\n"
                            "    return {f: new.get(f, 0) - v for f, v in old.items() if abs(new.get(f, 0) - v) > threshold}",
    "ignores-missing-features": "def flag_importance_changes(old, new, threshold):\n"
                                "    return {f: v - old.get(f, 0) for f, v in new.items() if abs(v - old.get(f, 0)) > threshold}",
    "plus-instead-of-minus": "def flag_importance_changes(old, new, threshold):\n"
                             "    return {f: new.get(f, 0) + old.get(f, 0) for f in {*old, *new} if abs(new.get(f, 0) + old.get(f, 0)) > threshold}",
    "less-than-filters-smaller": "def flag_importance_changes(old, new, threshold):\n"
                                 "    return {f: new.get(f, 0) - old.get(f, 0) for f in {*old, *new} if abs(new.get(f, 0) - old.get(f, 0)) < threshold}",
    "signed-not-absolute": "def flag_importance_changes(old, new, threshold):\n"
                           "    return {f: new.get(f, 0) - old.get(f, 0) for f in {*old, *new} if new.get(f, 0) - old.get(f, 0) > threshold}",
    "threshold-inclusive": "def flag_importance_changes(old, new, threshold):\n"
                           "    return {f: new.get(f, 0) - old.get(f, 0) for f in {*old, *new} if abs(new.get(f, 0) - old.get(f, 0)) >= threshold}",
    "common-features-only": "def flag_importance_changes(old, new, threshold):\n"
                            "    return {f: new[f] - old[f] for f in old if f in new and abs(new[f] - old[f]) > threshold}",
}


@pytest.mark.parametrize("hidden_cases", [False, True])
def test_flag_function_each_wrong_behaviour_has_its_message(nb, hidden_cases):
    entry = compile_notebook(nb, hidden=hidden_cases)["importance-flag"]
    assert verdict(entry, define(ALTERNATIVE))[0] == CORRECT
    for mistake, code in COMPREHENSIONS.items():
        status, misconception, message = verdict(entry, define(code))
        assert (status, misconception) == (INCORRECT, mistake)
        assert message == next(m.message for m in entry.mistakes if m.id == mistake)


def test_flag_function_unanswered_and_tampering(hidden):
    entry = hidden["importance-flag"]
    assert verdict(entry, None)[0] == "unanswered"

    class Always:
        def __eq__(self, other):
            return True

    assert verdict(entry, lambda old, new, threshold: Always())[0] == INCORRECT


@pytest.mark.parametrize("exercise,code,misconception", [
    ("importance-task4", "importance_changes = {f: i - old_importances[f] for f, i in new_importances.items() "
                         "if i - old_importances[f] > threshold}", "ignores-new-feature"),
    ("importance-task4", "importance_changes = {f: i - old_importances[f] for f, i in new_importances.items() "
                         "if f in old_importances and i - old_importances[f] > threshold}", "skips-new-feature"),
    ("importance-task5", "significant_drops = {f: v for f, v in old_importances.items() "
                         "if v - new_importances[f] > 0.1}", "ignores-missing-feature"),
    ("importance-task5", "significant_drops = {f: v for f, v in old_importances.items() "
                         "if f in new_importances and v - new_importances[f] > 0.1}", "skips-missing-feature"),
])
def test_comprehensions_that_ignore_new_or_missing_features_get_their_message(hidden, exercise, code, misconception):
    """Rewrites no blank can express, written in the learner's own names, are still recognised."""
    verdict = hidden[exercise].assess(code)
    assert verdict.status == INCORRECT and verdict.misconception == misconception and verdict.message


# ---------------------------------------------------------------- the converse: drift without importance change
DRIFT_NO_CHANGE = {"A": "drift-means-importance-change", "C": "new-category-gets-importance",
                   "D": "stable-importance-means-no-drift"}


@pytest.mark.parametrize("letter, mistake", sorted(DRIFT_NO_CHANGE.items()))
def test_drift_without_importance_change_each_distractor_has_its_message(hidden, specs, letter, mistake):
    """DESIGN misconception 9, the direction 'drift => importance changed', is graded here (the Test grades label-free
    monitoring instead); each distractor names its own mistake."""
    status, misconception, message = verdict(hidden["importance-drift-no-change"], letter)
    assert (status, misconception) == ("incorrect", mistake)
    assert message == next(m.message for m in specs["importance-drift-no-change"].mistakes if m.id == mistake)
    assert verdict(hidden["importance-drift-no-change"], "B")[0] == "correct"


def test_drift_without_importance_change_claims_hold_on_the_data():
    """What the item's prompt and answer state: income moderate and region major drift in months 6-7 of module 1's story,
    yet no permutation importance of the same model moves by the module's 0.05 threshold, and accuracy holds."""
    import pandas as pd

    from driftlab.course.drift import psi, psi_band
    from driftlab.course.importance import compare_importances, permutation_importances
    from driftlab.course.model import FEATURES, TARGET, split_holdout, train_model
    from driftlab.course.simulation import Scenario

    story = Scenario(seed=0)
    train, holdout = split_holdout(story.reference(), frac=0.25, seed=0)
    model = train_model(train)
    risen = pd.concat([story.batch(m) for m in (6, 7)])
    assert psi_band(psi(story.reference()["income"], risen["income"])) == "moderate"
    assert psi_band(psi(story.reference()["region"], risen["region"])) == "major"
    table = compare_importances(permutation_importances(model, holdout, scoring="roc_auc", n_repeats=3, random_state=0),
                                permutation_importances(model, risen, scoring="roc_auc", n_repeats=3, random_state=0))
    assert table["abs_change"].max() < 0.05
    accuracy = lambda frame: float((model.predict(frame[list(FEATURES)]) == frame[TARGET]).mean())  # noqa: E731
    assert abs(accuracy(risen) - accuracy(holdout)) < 0.01
