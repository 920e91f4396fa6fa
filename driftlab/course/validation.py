"""Data validation before any drift statistic, and training-serving skew, the pure maths.

Many "drifts" are pipeline bugs: a renamed column, a unit change, a new null, a category nobody
mapped.  A drift test on broken data measures the bug, and retraining on it teaches the model the
bug.  So a monitor first checks each batch against expectations learnt from the training data
(:func:`profile`, :func:`validate`: the idea of TFX Data Validation's schema and Great
Expectations' expectations), and only then computes drift statistics.

Training-serving skew is the same feature computed differently by the training pipeline and the
serving pipeline.  Drift tests cannot see a small one; joining the rows both pipelines saw, on a
key, shows it directly (:func:`skew`): income recorded in units at serving but in thousands at
training gives a median serving/training ratio of 1000.

Everything takes and returns pandas frames; no plotting, no widgets.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

__all__ = ["CHECKS", "PROBLEM_COLUMNS", "profile", "validate", "skew"]

#: The kinds of problem :func:`validate` reports, in the order it reports them.
CHECKS: tuple[str, ...] = ("missing column", "unexpected column", "dtype", "null rate", "out of range",
                           "unseen category")
#: The columns of :func:`validate`'s table.
PROBLEM_COLUMNS: tuple[str, ...] = ("check", "column", "observed", "expected", "share")
NUMERIC_KIND, CATEGORICAL_KIND = "numeric", "categorical"


def _is_numeric(values: pd.Series) -> bool:
    """Numeric and not boolean (a boolean is a category of two)."""
    return is_numeric_dtype(values) and not is_bool_dtype(values)


def profile(frame: pd.DataFrame) -> pd.DataFrame:
    """Expectations learnt from (training) data, one row per column: ``kind``, ``dtype``, ``null_rate``,
    ``min`` and ``max`` (NaN for categorical), ``categories`` (frozenset of seen values, empty for numeric)."""
    rows = {}
    for name in frame.columns:
        values = frame[name]
        numeric = _is_numeric(values)
        rows[name] = {
            "kind": NUMERIC_KIND if numeric else CATEGORICAL_KIND,
            "dtype": str(values.dtype),
            "null_rate": float(values.isna().mean()) if len(values) else 0.0,
            "min": float(values.min()) if numeric else np.nan,
            "max": float(values.max()) if numeric else np.nan,
            "categories": frozenset() if numeric else frozenset(values.dropna().tolist()),
        }
    table = pd.DataFrame.from_dict(rows, orient="index",
                                   columns=["kind", "dtype", "null_rate", "min", "max", "categories"])
    table.index.name = "column"
    return table.astype({"null_rate": float, "min": float, "max": float})


def _problem(check: str, column: object, observed: object = np.nan, expected: object = np.nan,
             share: float = np.nan) -> dict:
    return {"check": check, "column": column, "observed": observed, "expected": expected, "share": float(share)}


def _column_problems(name: object, values: pd.Series, want: pd.Series, null_tolerance: float,
                     range_tolerance: float) -> list[dict]:
    """The dtype, null-rate, range and category problems of one column present in both."""
    found = []
    if str(values.dtype) != want["dtype"]:
        found.append(_problem("dtype", name, str(values.dtype), want["dtype"]))
    rate = float(values.isna().mean())
    limit = float(want["null_rate"]) + null_tolerance
    if rate > limit and not np.isclose(rate, limit, rtol=0.0, atol=1e-12):  # exactly at the limit is fine
        found.append(_problem("null rate", name, rate, float(want["null_rate"]), rate))
    if want["kind"] == NUMERIC_KIND and _is_numeric(values):
        margin = range_tolerance * (want["max"] - want["min"])
        low, high = want["min"] - margin, want["max"] + margin
        outside = (values < low) | (values > high)  # NaN compares False: a null, not out of range
        if outside.any():
            found.append(_problem("out of range", name, (float(values.min()), float(values.max())),
                                  (float(low), float(high)), outside.mean()))
    elif want["kind"] == CATEGORICAL_KIND:
        seen = want["categories"]
        unseen = values.notna() & ~values.astype(object).isin(list(seen))
        if unseen.any():
            found.append(_problem("unseen category", name, frozenset(values[unseen].tolist()), seen,
                                  unseen.mean()))
    return found


def validate(frame: pd.DataFrame, expected: pd.DataFrame, null_tolerance: float = 0.01,
             range_tolerance: float = 0.0) -> pd.DataFrame:
    """One row per problem of ``frame`` against ``expected`` (a :func:`profile`): ``check``, ``column``,
    ``observed``, ``expected``, ``share`` of rows affected (NaN for schema checks); empty when clean."""
    if null_tolerance < 0 or range_tolerance < 0:
        raise ValueError("null_tolerance and range_tolerance must not be negative")
    found = [_problem("missing column", name, expected=expected.at[name, "dtype"])
             for name in expected.index if name not in frame.columns]
    found += [_problem("unexpected column", name, observed=str(frame[name].dtype))
              for name in frame.columns if name not in expected.index]
    for name in expected.index:
        if name in frame.columns:
            found += _column_problems(name, frame[name], expected.loc[name], null_tolerance, range_tolerance)
    table = pd.DataFrame(found, columns=list(PROBLEM_COLUMNS))
    table["share"] = table["share"].astype(float)
    return table


def _same(training: pd.Series, serving: pd.Series, rtol: float, atol: float) -> np.ndarray:
    """True where both pipelines agree (numbers: within ``rtol``; both missing counts as agreeing)."""
    if _is_numeric(training) and _is_numeric(serving):
        return np.isclose(serving.to_numpy(dtype=float), training.to_numpy(dtype=float), rtol=rtol, atol=atol,
                          equal_nan=True)
    a, b = training.astype(object), serving.astype(object)
    return ((a == b) | (a.isna() & b.isna())).to_numpy(dtype=bool)


def skew(training: pd.DataFrame, serving: pd.DataFrame, key: str, rtol: float = 1e-6, *,
         atol: float = 0.0) -> pd.DataFrame:
    """Training-serving skew on the rows both pipelines saw (inner join on ``key``), one row per shared column:
    ``n``, ``mismatch_share`` (serving value differs), ``median_ratio`` (serving / training, numeric only).

    Sorted by ``mismatch_share``, largest first.  Numbers agree within ``rtol`` (relative) or ``atol``.
    """
    for name, frame in (("training", training), ("serving", serving)):
        if key not in frame.columns:
            raise ValueError(f"{name} has no column {key!r}")
        if frame[key].duplicated().any():
            raise ValueError(f"{name} has duplicate values of {key!r}: the join would repeat rows")
    shared = [c for c in training.columns if c != key and c in serving.columns]
    both = training[[key] + shared].merge(serving[[key] + shared], on=key, how="inner",
                                          suffixes=("__training", "__serving"))
    rows = {}
    for name in shared:
        a, b = both[f"{name}__training"], both[f"{name}__serving"]
        ratio = np.nan
        if _is_numeric(a) and _is_numeric(b):
            a_, b_ = a.astype(float), b.astype(float)
            ratio = float((b_ / a_.where(a_ != 0)).median())  # skips NaN; NaN when nothing to divide
        rows[name] = {"n": len(both), "mismatch_share": float(np.mean(~_same(a, b, rtol, atol))) if len(both) else np.nan,
                      "median_ratio": ratio}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["n", "mismatch_share", "median_ratio"])
    table.index.name = "column"
    table = table.astype({"n": np.int64, "mismatch_share": float, "median_ratio": float})
    return table.sort_values("mismatch_share", ascending=False, kind="stable")
