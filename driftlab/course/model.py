"""The bank's loan-default model: one scikit-learn pipeline, trained in milliseconds.

A scaled logistic regression is used (not gradient boosting) because it fits 4000 rows in
~30 ms, which keeps notebooks, permutation importance and the retraining loop instant, and
because its accuracy tells the course story clearly: ~0.9 at launch, about the
"nobody defaults" baseline (~0.83) once the concept change or the unit bug hits.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from driftlab.course.simulation import CATEGORICAL, FEATURES, MONTH, NUMERIC, TARGET

__all__ = ["FEATURES", "NUMERIC", "CATEGORICAL", "TARGET", "make_model", "train_model",
           "accuracy_by_month", "split_holdout"]


def make_model(random_state: int = 0) -> Pipeline:
    """An unfitted pipeline: scale numeric columns, one-hot categoricals (unknown -> all zeros)."""
    columns = ColumnTransformer(
        [
            ("numeric", StandardScaler(), list(NUMERIC)),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
        ]
    )
    return Pipeline([("columns", columns), ("classifier", LogisticRegression(max_iter=1000, random_state=random_state))])


def train_model(frame: pd.DataFrame, target: str = TARGET, random_state: int = 0) -> Pipeline:
    """Fit the default-prediction pipeline on ``frame``'s FEATURES and ``target`` column."""
    return make_model(random_state).fit(frame[list(FEATURES)], frame[target])


def accuracy_by_month(model: Pipeline, frame: pd.DataFrame, target: str = TARGET) -> pd.DataFrame:
    """Accuracy of ``model`` per month of ``frame``: columns month, n, accuracy (one row per month)."""
    correct = model.predict(frame[list(FEATURES)]) == frame[target].to_numpy()
    months = frame[MONTH].to_numpy() if MONTH in frame else np.zeros(len(frame), dtype=np.int64)
    table = (pd.DataFrame({MONTH: months, "correct": correct})
             .groupby(MONTH, sort=True)["correct"].agg(n="size", accuracy="mean")
             .reset_index())
    table["n"] = table["n"].astype(np.int64)
    table["accuracy"] = table["accuracy"].astype(float)
    return table


def split_holdout(frame: pd.DataFrame, frac: float = 0.25, seed: int = 0,
                  target: str = TARGET) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into (train, holdout), stratified on ``target`` when present, seeded."""
    stratify = frame[target] if target in frame and frame[target].nunique() > 1 else None
    train, holdout = train_test_split(frame, test_size=frac, random_state=seed, stratify=stratify)
    return train, holdout
