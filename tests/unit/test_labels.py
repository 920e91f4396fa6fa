"""driftlab.course.labels: selective labels, exploration weights, the early proxy, labelled accuracy."""
from __future__ import annotations

import math

import numpy as np
import pytest

from driftlab.course import labels as L


def test_approved_is_below_the_threshold_and_the_threshold_itself_is_refused():
    assert L.approved([0.1, 0.5, 0.49, 0.9]).tolist() == [True, False, True, False]
    assert L.approved([0.3, 0.29], threshold=0.3).tolist() == [False, True]
    with pytest.raises(ValueError):
        L.approved([0.2, 1.2])


def test_without_exploration_no_refusal_is_observed():
    p = np.array([0.1, 0.7, 0.2, 0.9, 0.5])
    observed, weight = L.observed_outcomes(p)
    assert observed.tolist() == [True, False, True, False, False]
    assert weight.tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]


def test_exploration_is_seeded_and_reweights_to_everyone():
    p = np.r_[np.full(20_000, 0.1), np.full(20_000, 0.8)]
    a = L.observed_outcomes(p, explore=0.1, seed=3)
    b = L.observed_outcomes(p, explore=0.1, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    observed, weight = a
    refused = p >= 0.5
    assert observed[~refused].all() and set(weight[observed & refused]) == {10.0}
    assert observed[refused].mean() == pytest.approx(0.1, abs=0.01)
    assert weight.sum() == pytest.approx(len(p), rel=0.03)       # the weights stand for every applicant


def test_early_proxy_misses_and_cures_at_the_given_shares():
    y = np.r_[np.ones(50_000, int), np.zeros(50_000, int)]
    proxy = L.early_proxy(y, missed_share=0.25, cured_share=0.04, seed=0)
    assert proxy[y == 1].mean() == pytest.approx(0.75, abs=0.01)
    assert proxy[y == 0].mean() == pytest.approx(0.04, abs=0.005)
    assert np.array_equal(proxy, L.early_proxy(y, 0.25, 0.04, seed=0))
    assert np.array_equal(L.early_proxy(y, 0.0, 0.0), y)           # a perfect proxy is the outcome
    with pytest.raises(ValueError):
        L.early_proxy([0, 2])


def test_labelled_accuracy_counts_observed_rows_with_their_weights():
    y = [0, 1, 0, 1]
    pred = [0, 1, 1, 0]
    assert L.labelled_accuracy(y, pred, [True] * 4) == 0.5
    assert L.labelled_accuracy(y, pred, [True, True, False, False]) == 1.0
    assert L.labelled_accuracy(y, pred, [True, False, True, False], weight=[1, 0, 3, 0]) == 0.25
    assert math.isnan(L.labelled_accuracy(y, pred, [False] * 4))
    with pytest.raises(ValueError):
        L.labelled_accuracy(y, pred, [True] * 3)
