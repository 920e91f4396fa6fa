"""Unit tests of driftlab.course.accuracy (accuracy monitoring maths) and the threshold practice widget."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from driftlab.course import accuracy as T


def test_binomial_sd_of_accuracy_matches_the_design_fact():
    assert T.accuracy_sd(0.9, 100) == pytest.approx(0.03)
    assert T.accuracy_sd(0.9, 1000) == pytest.approx(math.sqrt(0.9 * 0.1 / 1000))
    with pytest.raises(ValueError):
        T.accuracy_sd(0.9, 0)


def test_cumulative_hides_recent_decay_that_a_sliding_window_shows():
    n = [100] * 6
    correct = [90, 90, 90, 90, 80, 80]
    cum = T.cumulative_accuracy(correct, n)
    win = T.sliding_accuracy(correct, n, window=2)
    assert cum[-1] == pytest.approx(520 / 600)
    assert win[-1] == pytest.approx(0.80)
    assert win[0] == pytest.approx(0.90)  # partial window at the start
    assert cum[-1] > win[-1]
    with pytest.raises(ValueError):
        T.sliding_accuracy(correct, n, 0)


def test_sliding_window_pools_by_rows_not_by_mean_of_rates():
    win = T.sliding_accuracy([9, 500], [10, 1000], window=2)
    assert win[-1] == pytest.approx(509 / 1010)


def test_breach_includes_the_boundary():
    assert T.breaches([0.86, 0.85, 0.84], 0.85).tolist() == [False, True, True]


@pytest.mark.parametrize("accs, runs", [
    ([0.9, 0.85, 0.84, 0.9], [0, 1, 2, 0]),
    ([0.85, 0.85, 0.85], [1, 2, 3]),
    ([0.84, 0.9, 0.84, 0.84], [1, 0, 1, 2]),  # the run restarts after a good month
    ([0.8, float("nan"), 0.8], [1, 0, 1]),  # a missing month is not a breach
    ([], []),
])
def test_breach_runs(accs, runs):
    assert T.breach_runs(accs, 0.85).tolist() == runs


def test_no_reference_answer_to_the_graded_exercises():
    """Module 03 grades ``alert_level`` and ``consecutive_breaches``: the library must not hand them out."""
    assert not hasattr(T, "alert_level") and not hasattr(T, "consecutive_breaches")


@pytest.mark.parametrize("acc, level", [(0.95, "ok"), (0.90, "ok"), (0.899, "warning"), (0.86, "warning"),
                                        (0.85, "critical"), (0.80, "critical")])
def test_alert_levels_boundaries(acc, level):
    assert T.alert_levels([acc], baseline=0.90, threshold=0.85) == [level]


def test_alert_levels_need_a_run_for_critical():
    levels = T.alert_levels([0.91, 0.84, 0.88, 0.84, 0.83], baseline=0.9, threshold=0.85, n=2)
    assert levels == ["ok", "warning", "warning", "warning", "critical"]
    with pytest.raises(ValueError):
        T.alert_levels([0.8], baseline=0.9, threshold=0.85, n=0)


def test_dip_probability_matches_scipy_and_handles_float_edges():
    assert T.dip_probability(0.9, 100, 0.85) == pytest.approx(binom.cdf(85, 100, 0.9))
    assert T.dip_probability(0.3, 100, 0.29) == pytest.approx(binom.cdf(29, 100, 0.3))
    assert 0 < T.dip_probability(0.9, 100, 0.87) < 1


def test_months_helpers():
    months = [1, 2, 3, 4]
    assert T.alert_months(months, [False, True, False, True]) == [2, 4]
    assert T.first_alert(months, [False, False, True, True]) == 3
    assert T.first_alert(months, [False] * 4) is None
    assert T.labelled_months(months, today=4, delay=2) == [1, 2]


def test_widget_moves_threshold_in_place_and_reports_alerts():
    from driftlab.viz.threshold_widget import ThresholdExplorer

    months = np.arange(1, 7)
    accs = [0.91, 0.90, 0.85, 0.84, 0.88, 0.83]
    ex = ThresholdExplorer(months, accs, baseline=0.9, threshold=0.85)
    assert ex.slider.description and ex.run_slider.description
    fig, line, marks = ex.fig, ex.threshold_line, ex.alert_marks
    n_artists = len(ex.ax.get_children())
    assert ex.state["alerts"] == [3, 4, 6]  # 0.85 itself is a breach
    ex.slider.value = 0.845  # what a browser does
    assert ex.state["alerts"] == [4, 6]
    assert ex.update(threshold=0.89)["alerts"] == [3, 4, 5, 6]
    assert ex.update(consecutive=2)["alerts"] == [4, 5, 6]
    assert ex.fig is fig and ex.threshold_line is line and ex.alert_marks is marks
    assert len(ex.ax.get_children()) == n_artists  # nothing rebuilt or piled up
    assert list(line.get_ydata()) == [0.89, 0.89]
    assert ex.renders == 4 and bytes(ex.image.value[:3]) == b"\xff\xd8\xff"  # a JPEG frame
    assert "4, 5, 6" in ex.summary.value


def test_proportion_sd_is_the_binomial_sd_and_vectorised():
    assert T.proportion_sd(0.9, 100) == pytest.approx(0.03)
    assert isinstance(T.proportion_sd(0.9, 100), float)
    p, n = np.array([0.909, 0.607, 0.0, 1.0]), np.array([1000, 173, 50, 50])
    direct = [math.sqrt(pi * (1 - pi) / ni) for pi, ni in zip(p, n)]
    assert T.proportion_sd(p, n) == pytest.approx(direct)
    assert T.proportion_sd(0.9, [100, 1000]) == pytest.approx([T.accuracy_sd(0.9, 100), T.accuracy_sd(0.9, 1000)])
    with pytest.raises(ValueError):
        T.proportion_sd(0.9, 0)
    with pytest.raises(ValueError):
        T.proportion_sd(1.2, 10)


def test_noise_threshold_is_baseline_minus_k_sd():
    assert T.noise_threshold(0.9, 0.03, 2) == pytest.approx(0.84)
    assert T.noise_threshold(0.9, 0.03) == pytest.approx(0.9 - 3 * 0.03)  # k = 3 by default
    ks = np.array([0, 1, 2, 3])
    assert T.noise_threshold(0.909, 0.0091, ks) == pytest.approx([0.909 - k * 0.0091 for k in ks])
    with pytest.raises(ValueError):
        T.noise_threshold(0.9, -0.01, 2)
    with pytest.raises(ValueError):
        T.noise_threshold(0.9, 0.01, -1)


def test_false_alarm_rate_is_the_normal_tail():
    for k in (0, 1, 2, 3):
        assert T.false_alarm_rate(k) == pytest.approx(0.5 * math.erfc(k / math.sqrt(2)))
    assert T.false_alarm_rate([1, 2, 3]) == pytest.approx([0.158655, 0.022750, 0.001350], abs=1e-6)
    # the exact binomial tail at a k = 3 threshold on 1000 rows is close to the normal one
    p, n = 0.909, 1000
    assert T.dip_probability(p, n, T.noise_threshold(p, T.proportion_sd(p, n), 3)) == pytest.approx(
        T.false_alarm_rate(3), abs=0.002)


def test_sd_interval_matches_chi_square_and_covers_the_true_sd():
    low, high = T.sd_interval(2.0, 7)
    assert low == pytest.approx(2.0 * math.sqrt(6 / 14.4494), rel=1e-4)  # chi2(6) 97.5 % quantile
    assert high == pytest.approx(2.0 * math.sqrt(6 / 1.23734), rel=1e-4)  # chi2(6) 2.5 % quantile
    samples = np.random.default_rng(3).normal(0.0, 1.5, size=(4000, 7))
    lows, highs = T.sd_interval(samples.std(axis=1, ddof=1), 7)
    assert np.mean((lows <= 1.5) & (1.5 <= highs)) == pytest.approx(0.95, abs=0.015)
    with pytest.raises(ValueError):
        T.sd_interval(1.0, 1)
    with pytest.raises(ValueError):
        T.sd_interval(1.0, 5, level=1.0)
