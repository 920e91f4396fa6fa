"""The Drift Lab's model: the course's logistic regression on numpy design matrices, and a model cache.

The same model as :func:`driftlab.course.model.make_model` (numeric columns standardised on the
training data, categoricals one-hot with unknown categories as all zeros, scikit-learn's
``LogisticRegression``), fitted on a numpy design matrix (:mod:`driftlab.lab.data`) instead of a
DataFrame for speed.  Fitted models are cached by their training window, so moving a control that
does not change what a retrain sees re-uses them.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from driftlab.course.simulation import NUMERIC

#: Fitted models kept in memory (each is a few hundred floats).
MAX_MODELS = 256


@dataclass(frozen=True)
class _Model:
    """A fitted logistic regression on standardised numeric + one-hot columns."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logit(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of default for every row of a raw design matrix (scaling folded into the weights)."""
        w = self.coef / self.scale
        return np.clip(X @ w + (self.intercept - self.mean @ w), -500, 500)


def _fit(X: np.ndarray, y: np.ndarray) -> _Model:
    """Fit like driftlab.course.model.make_model: StandardScaler on numeric columns, then LogisticRegression
    (same L2 penalty C=1; the newton-cholesky solver, which converges in a few steps here)."""
    n_num = len(NUMERIC)
    mean, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    mean[:n_num] = X[:, :n_num].mean(axis=0)
    std = X[:, :n_num].std(axis=0)
    scale[:n_num] = np.where(std > 0, std, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(max_iter=1000, solver="newton-cholesky").fit((X - mean) / scale, y)
    return _Model(mean, scale, clf.coef_[0], float(clf.intercept_[0]))


_MODELS: "OrderedDict[tuple, Any]" = OrderedDict()


def _cached_model(key: tuple, make: Callable[[], Any]) -> Any:
    """A fitted model from the cache, or fit and remember it."""
    model = _MODELS.get(key)
    if model is None:
        model = make()
        _MODELS[key] = model
        while len(_MODELS) > MAX_MODELS:
            _MODELS.popitem(last=False)
    else:
        _MODELS.move_to_end(key)
    return model


def clear_model_cache() -> None:
    """Forget every fitted model (for timing a cold start)."""
    _MODELS.clear()
