"""Unit tests of driftlab.course.estimation (label-free performance estimation and calibration)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.linear_model import LogisticRegression

from driftlab.course import estimation as E


def _calibrated(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels drawn from them (y ~ Bernoulli(p)): calibrated by construction."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 4.0, n)
    return p, (rng.random(n) < p).astype(int)


def _realised_accuracy(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> float:
    return float(np.mean((p >= threshold) == (y == 1)))


def test_expected_accuracy_equals_a_direct_per_row_computation():
    p = [0.0, 0.1, 0.35, 0.5, 0.62, 0.9, 1.0]
    for t in (0.5, 0.3, 0.62):
        direct = sum(q if q >= t else 1 - q for q in p) / len(p)
        assert E.expected_accuracy(p, t) == direct
        assert E.correct_probability(p, t).tolist() == [q if q >= t else 1 - q for q in p]


def test_expected_accuracy_matches_realised_accuracy_on_calibrated_scores():
    p, y = _calibrated(200_000)
    for t in (0.5, 0.3):
        expected = E.expected_accuracy(p, t)
        sd = math.sqrt(expected * (1 - expected) / len(p))
        assert abs(_realised_accuracy(y, p, t) - expected) < 3 * sd


def test_a_score_at_the_threshold_counts_as_predicted_default():
    assert E.correct_probability([0.3], threshold=0.3).tolist() == [0.3]  # p, not 1 - p
    assert E.correct_probability([0.3 - 1e-12], threshold=0.3)[0] == pytest.approx(0.7)
    table = E.estimate_by_chunk([0.3, 0.29], [1, 1], threshold=0.3)
    assert table.loc[1, "predicted_positive_rate"] == 0.5
    real = E.realised_by_chunk([1, 0], [0.3, 0.29], [1, 1], threshold=0.3)
    assert real.loc[1, "accuracy"] == 1.0 and real.loc[1, "recall"] == 1.0


def test_at_threshold_one_half_it_is_the_mean_of_max_p_1_minus_p():
    p, _ = _calibrated(10_000, seed=3)
    assert np.array_equal(E.correct_probability(p), np.maximum(p, 1 - p))


def test_bad_input_is_refused():
    for bad in ([0.2, 1.5], [-0.1], [0.3, np.nan]):
        with pytest.raises(ValueError):
            E.expected_accuracy(bad)
    with pytest.raises(ValueError):
        E.expected_accuracy([])
    with pytest.raises(ValueError):
        E.expected_accuracy([0.2], threshold=1.5)
    with pytest.raises(ValueError):
        E.realised_by_chunk([0, 2], [0.1, 0.2], [1, 1])
    with pytest.raises(ValueError):
        E.estimate_by_chunk([0.1, 0.2], [1])


def test_estimate_by_chunk_equals_per_chunk_expected_accuracy():
    p, _ = _calibrated(3000, seed=1)
    months = np.random.default_rng(1).choice([7, 3, 11, 5], size=len(p))
    table = E.estimate_by_chunk(p, pd.Series(months, name="month"), threshold=0.4)
    assert table.index.tolist() == [3, 5, 7, 11] and table.index.name == "month"
    assert list(table.columns) == ["n", "mean_score", "predicted_positive_rate", "estimated_accuracy"]
    for m in (3, 5, 7, 11):
        q = p[months == m]
        assert table.loc[m, "n"] == len(q)
        assert table.loc[m, "estimated_accuracy"] == pytest.approx(E.expected_accuracy(q, 0.4), rel=1e-12)
        assert table.loc[m, "mean_score"] == pytest.approx(q.mean(), rel=1e-12)
        assert table.loc[m, "predicted_positive_rate"] == pytest.approx(np.mean(q >= 0.4), rel=1e-12)
    assert table["n"].sum() == len(p)


def test_realised_by_chunk_is_the_truth_from_labels_and_recall_is_nan_without_defaults():
    p, y = _calibrated(2000, seed=2)
    chunk = np.where(np.arange(len(p)) < 1000, "a", "b")
    y = np.where(chunk == "b", 0, y)  # chunk b: nobody defaults
    table = E.realised_by_chunk(y, p, chunk)
    assert list(table.columns) == ["n", "default_rate", "accuracy", "recall"]
    a = chunk == "a"
    assert table.loc["a", "default_rate"] == pytest.approx(y[a].mean())
    assert table.loc["a", "accuracy"] == pytest.approx(_realised_accuracy(y[a], p[a]))
    assert table.loc["a", "recall"] == pytest.approx(np.sum((p[a] >= 0.5) & (y[a] == 1)) / np.sum(y[a]))
    assert math.isnan(table.loc["b", "recall"])
    assert table.loc["b", "default_rate"] == 0


def test_under_a_concept_change_the_estimate_misses_by_more_than_noise():
    p, _ = _calibrated(50_000, seed=4)
    rng = np.random.default_rng(5)
    truth = 1 / (1 + np.exp(-(np.log(p / (1 - p)) * 0.3 + 0.8)))  # P(Y|X) moved: the model's p is no longer it
    y = (rng.random(len(p)) < truth).astype(int)
    estimate = E.expected_accuracy(p)
    sd = math.sqrt(estimate * (1 - estimate) / len(p))
    assert abs(_realised_accuracy(y, p) - estimate) > 5 * sd


def test_scores_pushed_to_zero_or_one_make_the_estimate_one():
    p, y = _calibrated(10_000, seed=6)
    pushed = (p > 0.05).astype(float)  # a unit bug saturates the logit
    assert E.expected_accuracy(pushed) == 1.0
    assert E.estimate_by_chunk(pushed, np.zeros(len(p)))["estimated_accuracy"].iloc[0] == 1.0
    assert _realised_accuracy(y, pushed) < 0.9


def test_calibration_table_agrees_with_sklearn_and_counts_every_row():
    p, y = _calibrated(20_000, seed=7)
    for strategy in ("quantile", "uniform"):
        table = E.calibration_table(y, p, n_bins=10, strategy=strategy)
        observed, predicted = calibration_curve(y, p, n_bins=10, strategy=strategy)
        assert np.allclose(table["observed_rate"], observed) and np.allclose(table["mean_predicted"], predicted)
        assert table["n"].sum() == len(p)
        # the counts belong to the same bins as the means: weighted, they give back the overall means
        assert np.average(table["mean_predicted"], weights=table["n"]) == pytest.approx(p.mean())
        assert np.average(table["observed_rate"], weights=table["n"]) == pytest.approx(y.mean())
        assert np.allclose(table["gap"], table["observed_rate"] - table["mean_predicted"])
    assert (E.calibration_table(y, p, strategy="quantile")["n"].between(1999, 2001)).all()


def test_calibration_table_drops_empty_bins_of_saturated_scores():
    p, y = _calibrated(1000, seed=8)
    table = E.calibration_table(y, np.round(p), n_bins=10)
    assert table["n"].sum() == 1000 and (table["n"] > 0).all()
    assert set(table["mean_predicted"]) <= {0.0, 1.0}
    with pytest.raises(ValueError):
        E.calibration_table(y, p, strategy="kmeans")


def test_ece_is_near_zero_when_calibrated_and_large_when_distorted():
    p, y = _calibrated(100_000, seed=9)
    ece = E.expected_calibration_error(y, p)
    table = E.calibration_table(y, p ** 3)
    assert ece < 0.01
    assert E.expected_calibration_error(y, p ** 3) > 10 * ece
    assert E.expected_calibration_error(y, p ** 3) == pytest.approx(np.average(table["gap"].abs(), weights=table["n"]))


def _miscalibrated_model(seed: int = 0):
    """A logistic regression whose scores are too confident (trained on labels of a sharper logit)."""
    rng = np.random.default_rng(seed)

    def draw(n, sharp):
        X = rng.normal(size=(n, 2))
        logit = 1.5 * X[:, 0] - X[:, 1] - 1.0
        return X, (rng.random(n) < 1 / (1 + np.exp(-logit * sharp))).astype(int)

    X_train, y_train = draw(3000, sharp=4.0)   # the model learns a logit four times too steep
    model = LogisticRegression().fit(X_train, y_train)
    return model, draw(4000, sharp=1.0), draw(20_000, sharp=1.0)


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_recalibrate_reduces_calibration_error_on_fresh_data(method):
    model, (X_cal, y_cal), (X_new, y_new) = _miscalibrated_model()
    before = E.expected_calibration_error(y_new, model.predict_proba(X_new)[:, 1])
    fixed = E.recalibrate(model, X_cal, y_cal, method=method)
    assert isinstance(fixed, CalibratedClassifierCV)
    after = E.expected_calibration_error(y_new, fixed.predict_proba(X_new)[:, 1])
    assert after < before / 2 and after < 0.03


def test_recalibrate_keeps_the_fitted_model_and_refuses_other_methods():
    model, (X_cal, y_cal), _ = _miscalibrated_model(seed=1)
    coef = model.coef_.copy()
    fixed = E.recalibrate(model, X_cal, y_cal)
    assert np.array_equal(model.coef_, coef)
    assert fixed.calibrated_classifiers_[0].estimator.estimator is model
    with pytest.raises(ValueError, match="isotonic"):
        E.recalibrate(model, X_cal, y_cal, method="platt")
