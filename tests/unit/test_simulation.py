"""The loan scenario is reproducible and every drift event does what the course says it does."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from driftlab.course import model as model_module
from driftlab.course.drift import bonferroni, ks_test
from driftlab.course.model import accuracy_by_month, split_holdout, train_model
from driftlab.course.simulation import (
    CATEGORICAL,
    FEATURES,
    NUMERIC,
    DriftEvent,
    Scenario,
    default_events,
    describe,
    no_drift,
    REFERENCE_DEFAULT_RATE,
    estimate_reference_default_rate,
    reference_default_rate,
)


def _scenario(*events: DriftEvent, seed: int = 7, months: int = 8) -> Scenario:
    """A small scenario with only the given events."""
    return Scenario(seed=seed, months=months, events=events)


def _months(frame: pd.DataFrame, months) -> pd.DataFrame:
    """Rows of the given months."""
    return frame[frame["month"].isin(list(months))]


@pytest.fixture(scope="module")
def story():
    """The default course scenario, its production data and a model trained on its reference."""
    scenario = Scenario(seed=0)
    reference = scenario.reference()
    return scenario, reference, scenario.production(), train_model(reference)


# ----------------------------------------------------------------- shape and determinism
def test_frames_have_the_documented_columns(story):
    scenario, reference, production, _ = story
    assert list(reference.columns) == list(FEATURES) + ["default", "month"]
    assert len(reference) == 4000 and set(reference["month"]) == {0}
    assert len(production) == 12 * 1000 and sorted(set(production["month"])) == list(range(1, 13))
    for name in NUMERIC:
        assert pd.api.types.is_numeric_dtype(reference[name])
    assert set(reference["region"]) == {"north", "south", "east", "west"}
    assert set(reference["employment"]) == {"salaried", "self_employed", "contract"}
    assert reference["income"].median() == pytest.approx(55, rel=0.1)
    assert reference["age"].between(21, 75).all()
    assert reference["credit_score"].between(300, 850).all()
    assert reference["debt_to_income"].between(0, 1).all()
    assert 0.15 <= reference["default"].mean() <= 0.20
    assert set(reference["default"]) == {0, 1}


def test_same_seed_same_frames():
    a, b = Scenario(seed=3), Scenario(seed=3)
    pd.testing.assert_frame_equal(a.reference(), b.reference())
    pd.testing.assert_frame_equal(a.production(), b.production())
    pd.testing.assert_frame_equal(a.production(), a.production())
    assert not Scenario(seed=4).reference().equals(a.reference())


def test_months_do_not_depend_on_call_order():
    forward = Scenario(seed=9)
    backward = Scenario(seed=9)
    later_first = {m: backward.batch(m) for m in (12, 7, 3, 1)}
    for m in (1, 3, 7, 12):
        pd.testing.assert_frame_equal(forward.batch(m), later_first[m])
    month_7 = forward.production().query("month == 7").reset_index(drop=True)
    pd.testing.assert_frame_equal(month_7, forward.batch(7))
    pd.testing.assert_frame_equal(forward.batch(0), forward.reference())


def test_frames_are_identical_in_another_process():
    code = ("import pandas as pd; from driftlab.course.simulation import Scenario; s = Scenario(seed=5); "
            "print(int(pd.util.hash_pandas_object(s.batch(9)).sum() % 10**12))")
    here = int(pd.util.hash_pandas_object(Scenario(seed=5).batch(9)).sum() % 10**12)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == here


# ----------------------------------------------------------------- ramps and descriptions
def test_ramps():
    gradual = DriftEvent("covariate", "income", start=3, ramp="gradual", duration=4)
    assert [gradual.level(m) for m in range(1, 9)] == [0, 0, 0.25, 0.5, 0.75, 1, 1, 1]
    recurring = DriftEvent("covariate", "age", start=2, ramp="recurring", period=2)
    assert [recurring.level(m) for m in range(1, 9)] == [0, 1, 1, 0, 0, 1, 1, 0]
    once = DriftEvent("unit_bug", "income", start=5, end=5, factor=1000)
    assert [once.level(m) for m in (4, 5, 6)] == [0, 1, 0]


def test_invalid_events_are_rejected():
    with pytest.raises(ValueError):
        DriftEvent("earthquake", "income")
    with pytest.raises(ValueError):
        DriftEvent("covariate", "income", start=0)
    with pytest.raises(ValueError):
        DriftEvent("unit_bug", "region", factor=10)
    with pytest.raises(ValueError):
        DriftEvent("new_category", "region", category="north")


def test_default_story_and_descriptions():
    events = default_events()
    assert [e.kind for e in events] == ["covariate", "new_category", "concept", "unit_bug"]
    assert [e.start for e in events] == [3, 6, 8, 11]
    assert no_drift() == ()
    lines = describe(events)
    assert len(lines) == len(events)
    assert "income" in lines[0] and "online" in lines[1] and "debt_to_income" in lines[2]
    assert "month 11 only" in lines[3]
    assert all(isinstance(line, str) and line for line in describe(events + (DriftEvent("label_shift", "default"),)))


# ----------------------------------------------------------------- each event's effect
def test_covariate_shift_moves_the_feature_gradually():
    event = DriftEvent("covariate", "income", start=3, magnitude=0.6, ramp="gradual", duration=3)
    production = _scenario(event).production()
    reference = _scenario(event).reference()
    ratio = {m: _months(production, [m])["income"].median() / reference["income"].median() for m in range(1, 9)}
    assert abs(ratio[1] - 1) < 0.08 and abs(ratio[2] - 1) < 0.08
    assert ratio[5] == pytest.approx(np.exp(0.6 * 0.4), rel=0.08)  # full shift: 0.6 log-SDs
    assert 1.02 < ratio[3] < ratio[5]
    for name in ("age", "credit_score", "debt_to_income"):  # only income moves
        assert ks_test(reference[name], _months(production, [6, 7, 8])[name])[1] > bonferroni(0.05, 3)


def test_new_category_appears_only_from_its_start():
    event = DriftEvent("new_category", "region", start=4, magnitude=0.5, category="online", share=0.15)
    scenario = _scenario(event)
    assert "online" not in set(scenario.reference()["region"])
    for month in (1, 2, 3):
        assert "online" not in set(scenario.batch(month)["region"])
    for month in (4, 6, 8):
        share = (scenario.batch(month)["region"] == "online").mean()
        assert share == pytest.approx(0.15, abs=0.04)


def test_unit_bug_changes_the_record_not_the_world():
    bug = DriftEvent("unit_bug", "income", start=5, end=5, factor=1000)
    buggy, clean = _scenario(bug), _scenario()
    for month in (4, 6):
        pd.testing.assert_frame_equal(buggy.batch(month), clean.batch(month))
    with_bug, without = buggy.batch(5), clean.batch(5)
    np.testing.assert_allclose(with_bug["income"], without["income"] * 1000)
    pd.testing.assert_series_equal(with_bug["default"], without["default"])  # true risk unchanged
    pd.testing.assert_frame_equal(with_bug.drop(columns="income"), without.drop(columns="income"))


def test_concept_change_hurts_the_model_but_not_the_features():
    concept = DriftEvent("concept", "debt_to_income", start=4, partner="credit_score")
    scenario, control = _scenario(concept), _scenario()
    reference = scenario.reference()
    production = scenario.production()
    # P(X) is untouched: the very same applicants as without the policy change ...
    pd.testing.assert_frame_equal(production[list(FEATURES)], control.production()[list(FEATURES)])
    # ... so KS sees nothing on any numeric feature (Bonferroni over the five tests) ...
    after = _months(production, range(4, 9))
    for name in NUMERIC:
        assert ks_test(reference[name], after[name])[1] > bonferroni(0.05, len(NUMERIC)), name
    # ... yet the reference-trained model gets clearly worse.
    accuracy = accuracy_by_month(train_model(reference), production).set_index("month")["accuracy"]
    assert accuracy.loc[[1, 2, 3]].mean() - accuracy.loc[4:].mean() > 0.04


def test_the_kept_reference_default_rate_is_the_simulations():
    """The constant a kernel uses instead of drawing 200,000 rows must follow the simulation's constants."""
    assert reference_default_rate() == REFERENCE_DEFAULT_RATE == pytest.approx(estimate_reference_default_rate(), rel=1e-12)


def test_label_shift_changes_the_base_rate_not_p_x_given_y():
    event = DriftEvent("label_shift", "default", start=4, magnitude=0.15)
    scenario = _scenario(event, months=6)
    production = scenario.production()
    before = _months(production, [1, 2, 3])["default"].mean()
    after = _months(production, [4, 5, 6])
    assert before == pytest.approx(reference_default_rate(), abs=0.03)
    assert after["default"].mean() == pytest.approx(reference_default_rate() + 0.15, abs=0.03)
    reference = scenario.reference()
    for label in (0, 1):  # P(X | Y) unchanged: class-conditional credit scores still match
        _, p_value = ks_test(reference.loc[reference["default"] == label, "credit_score"],
                             after.loc[after["default"] == label, "credit_score"])
        assert p_value > 0.01


# ----------------------------------------------------------------- the model
def test_model_accuracy_at_launch_and_after_the_policy_change(story):
    _, reference, production, model = story
    train, holdout = split_holdout(reference, frac=0.25, seed=0)
    assert len(holdout) == 1000 and len(train) == 3000
    holdout_accuracy = (train_model(train).predict(holdout[list(FEATURES)]) == holdout["default"]).mean()
    assert 0.85 <= holdout_accuracy <= 0.93
    table = accuracy_by_month(model, production)
    assert list(table.columns) == ["month", "n", "accuracy"]
    assert (table["n"] == 1000).all()
    by_month = table.set_index("month")["accuracy"]
    assert 0.85 <= by_month.loc[[1, 2]].mean() <= 0.93
    assert by_month.loc[1:7].mean() - by_month.loc[8:].mean() > 0.04


def test_model_handles_the_new_category_and_exposes_the_constants(story):
    scenario, _, _, model = story
    batch = scenario.batch(6)
    assert "online" in set(batch["region"])
    assert model.predict_proba(batch[list(FEATURES)]).shape == (len(batch), 2)
    assert model_module.FEATURES == FEATURES and model_module.CATEGORICAL == CATEGORICAL
