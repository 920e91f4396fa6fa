"""Unit tests of driftlab.course.validation (data validation and training-serving skew)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from driftlab.course import validation as V


def _training(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    income = rng.uniform(20.0, 120.0, n)
    income[[0, 1]] = 20.0, 120.0  # the range is exactly [20, 120]
    age = rng.integers(18, 70, n)
    age[[0, 1]] = 18, 69
    region = rng.choice(["north", "south", "east"], n).astype(object)
    region[0] = None
    return pd.DataFrame({"income": income, "age": age, "region": pd.Series(region, dtype=object)})


def test_profile_learns_kind_dtype_nulls_range_and_categories():
    train = _training()
    prof = V.profile(train)
    assert prof.index.tolist() == ["income", "age", "region"]
    assert list(prof.columns) == ["kind", "dtype", "null_rate", "min", "max", "categories"]
    assert prof["kind"].tolist() == ["numeric", "numeric", "categorical"]
    assert prof.at["age", "dtype"] == str(train["age"].dtype)
    assert (prof.at["income", "min"], prof.at["income", "max"]) == (20.0, 120.0)
    assert prof.at["region", "null_rate"] == pytest.approx(1 / len(train))
    assert prof.at["region", "categories"] == frozenset({"north", "south", "east"})  # NaN is not a category
    assert prof.at["income", "categories"] == frozenset() and math.isnan(prof.at["region", "min"])


def test_a_clean_frame_has_no_problem_even_at_the_boundaries():
    train = _training()
    prof = V.profile(train)
    problems = V.validate(train, prof)
    assert problems.empty and list(problems.columns) == ["check", "column", "observed", "expected", "share"]
    batch = train.copy()
    batch.loc[2:3, "income"] = [20.0, 120.0]  # equal to min / max: fine
    batch.loc[4, "region"] = None             # NaN is not an unseen category
    assert V.validate(batch, prof, null_tolerance=0.01).empty  # null rate 2/200 <= 1/200 + 0.01


def test_null_rate_exactly_at_the_tolerance_is_fine_and_above_it_is_not():
    train = pd.DataFrame({"x": np.arange(100.0)})
    prof = V.profile(train)
    batch = train.copy()
    batch.loc[:9, "x"] = np.nan  # null rate 0.10 = 0.0 + 0.10 tolerance
    assert V.validate(batch, prof, null_tolerance=0.10).empty
    problems = V.validate(batch, prof, null_tolerance=0.09)
    assert problems["check"].tolist() == ["null rate"]
    assert problems.at[0, "share"] == pytest.approx(0.10) and problems.at[0, "observed"] == pytest.approx(0.10)
    # floating point: 0.7 + 0.1 is 0.7999999999999999 < 0.8, still "exactly at the limit"
    high = pd.DataFrame({"x": [np.nan] * 7 + [1.0] * 3})
    assert V.validate(pd.DataFrame({"x": [np.nan] * 8 + [1.0] * 2}), V.profile(high), null_tolerance=0.1).empty


def test_each_kind_of_problem_is_found_exactly_once():
    train = _training()
    prof = V.profile(train)
    batch = train.drop(columns="age").assign(score=1.0)   # missing column, unexpected column
    batch["income"] = batch["income"].astype(np.float32)   # dtype
    batch.loc[:49, "income"] = np.nan                       # null rate 0.25 > 0 + 0.01
    batch.loc[50:59, "income"] = 120.5                      # out of range (10 rows)
    batch.loc[60:64, "region"] = "west"                     # unseen category (5 rows)
    problems = V.validate(batch, prof)
    assert sorted(problems["check"]) == sorted(V.CHECKS)
    by_check = problems.set_index("check")
    assert by_check.at["missing column", "column"] == "age"
    assert by_check.at["unexpected column", "column"] == "score"
    assert by_check.at["dtype", "observed"] == "float32" and by_check.at["dtype", "expected"] == "float64"
    assert by_check.at["null rate", "share"] == pytest.approx(0.25)
    assert by_check.at["out of range", "share"] == pytest.approx(10 / len(batch))
    assert by_check.at["unseen category", "share"] == pytest.approx(5 / len(batch))
    assert by_check.at["unseen category", "observed"] == frozenset({"west"})
    assert math.isnan(by_check.at["missing column", "share"])


def test_range_tolerance_widens_the_range_by_a_share_of_its_width():
    prof = V.profile(pd.DataFrame({"x": [0.0, 10.0]}))
    assert V.validate(pd.DataFrame({"x": [11.0, -1.0]}), prof, range_tolerance=0.1).empty  # [-1, 11]
    problems = V.validate(pd.DataFrame({"x": [11.5, -1.0, np.nan, 5.0]}), prof, range_tolerance=0.1,
                          null_tolerance=1.0)
    assert problems["check"].tolist() == ["out of range"]
    assert problems.at[0, "share"] == pytest.approx(0.25)  # the NaN row is not out of range
    assert problems.at[0, "expected"] == pytest.approx((-1.0, 11.0))
    with pytest.raises(ValueError):
        V.validate(pd.DataFrame({"x": [1.0]}), prof, range_tolerance=-0.1)


def _pipelines(bug_share: float = 0.3, n: int = 1000) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    training = pd.DataFrame({"id": np.arange(n), "income": rng.uniform(20, 150, n), "age": rng.integers(18, 70, n),
                             "region": rng.choice(["north", "south"], n)})
    serving = training.sample(frac=1.0, random_state=2).reset_index(drop=True)  # another order: the join aligns
    bugged = rng.random(n) < bug_share
    serving.loc[bugged, "income"] *= 1000                # a unit bug on part of the serving path
    serving["age"] = serving["age"] * (1 + 1e-9)         # float noise: not skew
    serving.loc[serving.index[:5], "region"] = None
    training.loc[training.index.isin(serving["id"][:5]), "region"] = None  # missing on both sides agrees
    extra = pd.DataFrame({"id": [n, n + 1], "income": [1.0, 2.0], "age": [30, 40], "region": ["x", "y"]})
    return training, pd.concat([serving, extra], ignore_index=True), bugged


def test_skew_finds_a_unit_bug_by_its_median_ratio_and_share():
    training, serving, bugged = _pipelines()
    table = V.skew(training, serving, key="id")
    assert table.index.tolist()[0] == "income"
    assert table["n"].tolist() == [len(training)] * 3  # rows served only are not joined
    assert table.at["income", "mismatch_share"] == pytest.approx(bugged.mean())
    assert table.at["age", "mismatch_share"] == 0.0 and table.at["region", "mismatch_share"] == 0.0
    assert math.isnan(table.at["region", "median_ratio"])
    assert table.at["age", "median_ratio"] == pytest.approx(1.0)
    _, serving_all, _ = _pipelines(bug_share=1.0)
    assert V.skew(training, serving_all, "id").at["income", "median_ratio"] == pytest.approx(1000.0)


def test_skew_is_sorted_and_refuses_a_missing_or_repeated_key():
    training, serving, _ = _pipelines()
    serving["region"] = "north"
    table = V.skew(training, serving, "id")
    assert table["mismatch_share"].is_monotonic_decreasing
    with pytest.raises(ValueError):
        V.skew(training, serving.drop(columns="id"), "id")
    with pytest.raises(ValueError):
        V.skew(pd.concat([training, training.head(1)]), serving, "id")
