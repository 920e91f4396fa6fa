"""driftlab.course.importance: seeded permutation importances and old-vs-new comparison tables."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from driftlab.course.importance import compare_importances, permutation_importances, top_features
from driftlab.course.model import train_model
from driftlab.viz.plots import PALETTE, plot_importance_change
from driftlab.course.simulation import FEATURES, DriftEvent, Scenario


@pytest.fixture(scope="module")
def swap():
    """A model trained on the reference, and a production window after a credit_score/DTI swap."""
    event = DriftEvent("concept", "debt_to_income", start=2, magnitude=1.0, partner="credit_score")
    scenario = Scenario(seed=3, months=3, events=(event,), n_reference=3000)
    reference = scenario.reference()
    model = train_model(reference)
    window = pd.concat([scenario.batch(2), scenario.batch(3)], ignore_index=True)
    return model, reference, window


def test_permutation_importances_are_seeded_and_tabular(swap):
    model, reference, _ = swap
    a = permutation_importances(model, reference, scoring="roc_auc", n_repeats=3, random_state=0)
    b = permutation_importances(model, reference, scoring="roc_auc", n_repeats=3, random_state=0)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.index) == list(FEATURES) and list(a.columns) == ["importance", "std"]
    assert a["importance"].idxmax() == "credit_score"  # the strongest true driver at launch


def test_swap_of_roles_shows_in_importances(swap):
    model, reference, window = swap
    before = permutation_importances(model, reference, scoring="roc_auc", n_repeats=3, random_state=0)
    after = permutation_importances(model, window, scoring="roc_auc", n_repeats=3, random_state=0)
    table = compare_importances(before, after)
    assert table.loc["credit_score", "change"] < 0 < table.loc["debt_to_income", "change"]
    assert top_features(before, 1) == ["credit_score"]
    assert top_features(after, 1) == ["debt_to_income"]


def test_compare_importances_new_missing_signed_and_absolute():
    old = {"a": 0.5, "b": 0.25, "gone": 0.125}
    new = {"a": 0.25, "b": 0.375, "fresh": 0.0625}
    table = compare_importances(old, new)
    assert set(table.index) == {"a", "b", "gone", "fresh"}
    assert table.loc["gone", "status"] == "missing" and table.loc["gone", "change"] == -0.125
    assert table.loc["fresh", "status"] == "new" and table.loc["fresh", "change"] == 0.0625
    assert table.loc["a", "status"] == "kept" and table.loc["a", "change"] == -0.25
    assert table.loc["a", "abs_change"] == 0.25 and table.loc["b", "change"] == 0.125
    assert list(table.index)[0] == "a"  # sorted by absolute change
    assert np.allclose(table["new"] - table["old"], table["change"])


def test_compare_accepts_series_and_tables():
    s = pd.Series({"x": 1.0})
    t = pd.DataFrame({"importance": [0.5], "std": [0.0]}, index=["x"])
    assert compare_importances(s, t).loc["x", "change"] == -0.5


def test_bar_chart_uses_the_palette_and_marks_status():
    ax = plot_importance_change({"a": 0.3, "gone": 0.1}, {"a": 0.1, "fresh": 0.2})
    colours = {matplotlib.colors.to_hex(p.get_facecolor()).upper() for p in ax.patches}
    assert {PALETTE["blue"].upper(), PALETTE["vermillion"].upper()} <= colours
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "gone (missing)" in labels and "fresh (new)" in labels
    matplotlib.pyplot.close("all")
