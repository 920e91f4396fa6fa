"""Unit tests of driftlab.course.slices (metrics per segment and the gaps between segments)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from driftlab.course import slices as S


def _frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east", "new"], n, p=[0.4, 0.3, 0.25, 0.05])
    p = np.where(region == "new", rng.beta(3.0, 2.0, n), rng.beta(1.2, 4.0, n))  # the new region looks risky
    y = (rng.random(n) < p).astype(int)
    return pd.DataFrame({"region": region, "p": p, "default": y})


def _direct(part: pd.DataFrame, total: int, t: float) -> dict:
    """The segment's numbers, computed row by row with pandas (the test's own reference)."""
    predicted = part["p"] >= t
    positives = part["default"] == 1
    return {"n": len(part), "share": len(part) / total, "approval_rate": (part["p"] < t).mean(),
            "mean_score": part["p"].mean(),
            "estimated_accuracy": part["p"].where(predicted, 1 - part["p"]).mean(),
            "default_rate": positives.mean(), "accuracy": (predicted == positives).mean(),
            "recall": (predicted & positives).sum() / positives.sum() if positives.any() else math.nan}


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_by_slice_equals_a_direct_computation_per_segment(threshold):
    frame = _frame()
    table = S.by_slice(frame, "region", "p", "default", threshold=threshold)
    assert table.index.tolist() == sorted(frame["region"].unique()) and table.index.name == "region"
    assert list(table.columns) == ["n", "share", "approval_rate", "mean_score", "estimated_accuracy",
                                   "default_rate", "accuracy", "recall"]
    for segment, part in frame.groupby("region"):
        for column, value in _direct(part, len(frame), threshold).items():
            assert table.at[segment, column] == pytest.approx(value, rel=1e-12), (segment, column)
    assert table["n"].sum() == len(frame) and table["share"].sum() == pytest.approx(1.0)


def test_without_labels_only_the_label_free_columns_and_segments_present_only():
    frame = _frame().assign(region=lambda f: pd.Categorical(f["region"], categories=["west", "north", "south",
                                                                                      "east", "new"]))
    table = S.by_slice(frame, "region", "p")
    assert list(table.columns) == ["n", "share", "approval_rate", "mean_score", "estimated_accuracy"]
    assert table.index.tolist() == ["north", "south", "east", "new"]  # no empty "west"; category order
    for segment in table.index:
        part = frame[frame["region"] == segment]
        assert table.at[segment, "approval_rate"] == pytest.approx((part["p"] < 0.5).mean(), rel=1e-12)


def test_recall_is_nan_in_a_segment_without_defaults():
    frame = _frame()
    frame.loc[frame["region"] == "new", "default"] = 0
    table = S.by_slice(frame, "region", "p", "default")
    assert math.isnan(table.at["new", "recall"])
    assert not table.drop(index="new")["recall"].isna().any()


def test_overall_is_the_whole_frame_as_one_segment():
    frame = _frame()
    whole = S.overall(frame, "p", "default", threshold=0.4)
    assert isinstance(whole, pd.Series)
    assert whole.index.tolist() == ["n", "share", "approval_rate", "mean_score", "estimated_accuracy",
                                    "default_rate", "accuracy", "recall"]
    for column, value in _direct(frame, len(frame), 0.4).items():
        assert whole[column] == pytest.approx(value, rel=1e-12), column
    assert S.overall(frame, "p").index.tolist() == ["n", "share", "approval_rate", "mean_score", "estimated_accuracy"]


def test_largest_gap_picks_the_highest_and_lowest_segment_and_ignores_nan():
    table = pd.DataFrame({"approval_rate": [0.8, 0.55, 0.7], "recall": [0.6, math.nan, 0.9]},
                         index=pd.Index(["north", "new", "south"], name="region"))
    assert S.largest_gap(table, "approval_rate") == ("north", "new", pytest.approx(0.25))
    assert S.largest_gap(table, "recall") == ("south", "north", pytest.approx(0.3))
    with pytest.raises(ValueError):
        S.largest_gap(table, "accuracy")
    with pytest.raises(ValueError):
        S.largest_gap(table.assign(recall=math.nan), "recall")


def test_largest_gap_on_a_real_slice_table():
    table = S.by_slice(_frame(), "region", "p", "default")
    high, low, gap = S.largest_gap(table, "approval_rate")
    assert table.at[high, "approval_rate"] == table["approval_rate"].max()
    assert table.at[low, "approval_rate"] == table["approval_rate"].min()
    assert gap == pytest.approx(table["approval_rate"].max() - table["approval_rate"].min())
    assert low == "new"  # the segment the model scores riskiest is approved least


def test_rows_without_a_segment_are_a_segment_of_their_own():
    frame = _frame()
    frame["region"] = frame["region"].astype(object)
    frame.loc[:9, "region"] = None
    table = S.by_slice(frame, "region", "p")
    assert table["n"].sum() == len(frame)
    missing = table[table.index.isna()]
    assert len(missing) == 1 and missing["n"].iloc[0] == 10
