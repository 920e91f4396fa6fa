"""Feature importances of a fitted model on a window of data, and how they change between windows.

Importances here are *permutation* importances (scikit-learn's
:func:`sklearn.inspection.permutation_importance`): how much a score drops when one column is
shuffled, measured on the window you pass in.  Unlike impurity importance (a tree's mean decrease
in impurity, computed once on the *training* data and biased towards continuous, high-cardinality
columns), they can be recomputed on every production window, which is what monitoring needs.
Everything is seeded (``random_state``), so the same inputs give the same numbers.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from driftlab.course.simulation import FEATURES, TARGET

__all__ = ["permutation_importances", "compare_importances", "top_features"]

#: ``status`` values of :func:`compare_importances`.
KEPT, NEW, MISSING = "kept", "new", "missing"


def permutation_importances(model, frame: pd.DataFrame, features: Sequence[str] = FEATURES,
                            target: str = TARGET, scoring: str = "accuracy", n_repeats: int = 5,
                            random_state: int = 0) -> pd.DataFrame:
    """Permutation importance of ``model`` on ``frame``: one row per feature, columns importance and std."""
    from sklearn.inspection import permutation_importance
    from threadpoolctl import threadpool_limits

    features = list(features)
    with threadpool_limits(1):  # many tiny predictions: BLAS threads only contend with each other
        result = permutation_importance(model, frame[features], frame[target], scoring=scoring,
                                        n_repeats=int(n_repeats), random_state=random_state, n_jobs=None)
    table = pd.DataFrame({"importance": result.importances_mean.astype(float),
                          "std": result.importances_std.astype(float)}, index=pd.Index(features, name="feature"))
    return table


def _as_series(values: Mapping[str, float] | pd.Series | pd.DataFrame) -> pd.Series:
    """A float Series indexed by feature from a dict, a Series or an importance table."""
    if isinstance(values, pd.DataFrame):
        values = values["importance"]
    return pd.Series(dict(values), dtype=float)


def compare_importances(old: Mapping[str, float] | pd.Series | pd.DataFrame,
                        new: Mapping[str, float] | pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Old vs new importance per feature (union of both): old, new, change (new - old), abs_change, status.

    A feature present on one side only counts as importance 0 on the other side; ``status`` says
    whether it was ``kept``, is ``new`` (appeared) or ``missing`` (disappeared).  Rows are sorted by
    ``abs_change``, largest first.
    """
    o, n = _as_series(old), _as_series(new)
    names = list(dict.fromkeys(list(o.index) + list(n.index)))
    table = pd.DataFrame(index=pd.Index(names, name="feature"))
    table["old"] = o.reindex(names).fillna(0.0)
    table["new"] = n.reindex(names).fillna(0.0)
    table["change"] = table["new"] - table["old"]
    table["abs_change"] = table["change"].abs()
    table["status"] = [NEW if f not in o.index else MISSING if f not in n.index else KEPT for f in names]
    return table.sort_values("abs_change", ascending=False, kind="stable")


def top_features(values: Mapping[str, float] | pd.Series | pd.DataFrame, k: int = 2) -> list[str]:
    """The ``k`` most important features, most important first (ties keep input order)."""
    return list(_as_series(values).sort_values(ascending=False, kind="stable").index[:k])
