"""Labels in production: whose outcomes a lender ever sees, and what an early proxy label says.

A loan's real outcome (default, usually 90+ days past due) is known only 12-24 months after the
decision, so monitors use an **early proxy** known after a few months, such as serious delinquency
in the first three months; and outcomes exist only for the loans the bank **approved** (selective
labels: a refused applicant never gets the chance to repay or default).  These pure functions let a
simulation, which knows every outcome, show what the bank's labels would say.

``proba`` is always P(default), the positive class 1; the bank approves an applicant when the model
does not predict default (``p < threshold``).  Randomness comes only from the ``seed`` argument.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["approved", "observed_outcomes", "early_proxy", "labelled_accuracy"]


def _proba(proba: ArrayLike) -> np.ndarray:
    """``proba`` as a 1-D float array of probabilities (checked)."""
    p = np.asarray(proba, dtype=float).ravel()
    if np.isnan(p).any() or np.any((p < 0) | (p > 1)):
        raise ValueError("proba must hold probabilities between 0 and 1 (no NaN)")
    return p


def _share(value: float, name: str) -> float:
    """A share between 0 and 1 (checked)."""
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1")
    return float(value)


def _binary(values: ArrayLike, name: str) -> np.ndarray:
    """A 1-D 0/1 int array (checked)."""
    y = np.asarray(values).ravel()
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must hold 0 and 1 only")
    return y.astype(np.int64)


def approved(proba: ArrayLike, threshold: float = 0.5) -> np.ndarray:
    """Which applicants the bank approves: those the model does not flag (``p < threshold``)."""
    return _proba(proba) < _share(threshold, "threshold")


def observed_outcomes(proba: ArrayLike, threshold: float = 0.5, explore: float = 0.0,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Whose outcome the bank will ever observe, and the weight that makes the observed rows
    stand for everyone (inverse probability of being observed).

    Approved applicants (``p < threshold``) are always observed, weight 1.  Of the applicants the model
    refuses, a random share ``explore`` is approved anyway (a small random "exploration" sample, as some
    lenders run to see what their refusals cost); each stands for ``1 / explore`` refused applicants.
    With ``explore = 0`` no refused applicant is ever observed.  Returns ``(observed, weight)``, both of
    the length of ``proba``; the weight of an unobserved row is 0.
    """
    p = _proba(proba)
    share = _share(explore, "explore")
    accepted = approved(p, threshold)
    rng = np.random.default_rng(seed)
    explored = ~accepted & (rng.random(len(p)) < share)
    observed = accepted | explored
    weight = np.where(accepted, 1.0, np.where(explored, 1.0 / share if share > 0 else 0.0, 0.0))
    return observed, weight


def early_proxy(outcome: ArrayLike, missed_share: float = 0.25, cured_share: float = 0.04,
                seed: int = 0) -> np.ndarray:
    """An early-delinquency proxy label drawn from the final outcome (1 = default).

    A share ``missed_share`` of the loans that finally default pay on time at first (the proxy says 0),
    and a share ``cured_share`` of the loans that are finally repaid fall seriously behind early and then
    cure (the proxy says 1).  Returns 0/1 ints, seeded.
    """
    y = _binary(outcome, "outcome")
    missed, cured = _share(missed_share, "missed_share"), _share(cured_share, "cured_share")
    draw = np.random.default_rng(seed).random(len(y))
    return np.where(y == 1, draw >= missed, draw < cured).astype(np.int64)


def labelled_accuracy(y_true: ArrayLike, predicted: ArrayLike, observed: ArrayLike,
                      weight: ArrayLike | None = None) -> float:
    """Accuracy measured on the observed rows only (weighted when ``weight`` is given): what a
    monitor that sees only those labels reports.  NaN when no row is observed."""
    y = _binary(y_true, "y_true")
    pred = _binary(predicted, "predicted")
    seen = np.asarray(observed, dtype=bool).ravel()
    if not len(y) == len(pred) == len(seen):
        raise ValueError("y_true, predicted and observed must have the same length")
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float).ravel()
    if len(w) != len(y) or np.any(w < 0):
        raise ValueError("weight must be non-negative, one per row")
    w = np.where(seen, w, 0.0)
    total = w.sum()
    if total == 0:
        return float("nan")
    return float(np.sum(w * (y == pred)) / total)
