"""Drift statistics agree with scipy / the textbook formulas, and the detector with both."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from driftlab.course import drift
from driftlab.course.drift import (
    DriftDetector,
    bonferroni,
    chi_square_test,
    detect_data_drift,
    jensen_shannon,
    ks_test,
    psi,
    psi_band,
    quantile_edges,
    wasserstein,
)

REGIONS = np.array(["north", "south", "east", "west"], dtype=object)


@pytest.fixture
def numeric_pair():
    """A reference sample and a shifted, wider current sample."""
    rng = np.random.default_rng(11)
    return rng.normal(50, 10, 3000), rng.normal(53, 12, 1200)


@pytest.fixture
def categorical_pair():
    """Region samples; the current one has a category the reference never saw."""
    rng = np.random.default_rng(12)
    ref = rng.choice(REGIONS, 3000, p=[0.3, 0.25, 0.25, 0.2])
    cur = np.concatenate([rng.choice(REGIONS, 1000, p=[0.2, 0.3, 0.3, 0.2]), np.full(150, "online", dtype=object)])
    return ref, cur


def _table(ref, cur):
    """2 x K counts over the sorted union of categories (written independently of the module)."""
    categories = sorted(set(ref) | set(cur))
    return np.array([[np.sum(ref == c) for c in categories], [np.sum(cur == c) for c in categories]])


def _reference_edges(ref, bins=10):
    """Quantile edges of the reference with open outer edges, written from the definition."""
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.concatenate(([-np.inf], inner, [np.inf]))


def _psi_formula(r_counts, c_counts, eps=1e-4):
    """PSI = sum((c - r) ln(c / r)) over shares, zero shares replaced by eps."""
    r = r_counts / r_counts.sum()
    c = c_counts / c_counts.sum()
    r = np.where(r == 0, eps, r)
    c = np.where(c == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r)))


# ----------------------------------------------------------------- pure statistics vs scipy
def test_ks_matches_scipy(numeric_pair):
    ref, cur = numeric_pair
    expected = ks_2samp(ref, cur)
    statistic, p_value = ks_test(ref, cur)
    assert statistic == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue)
    assert type(statistic) is float and type(p_value) is float


def test_chi_square_matches_scipy_and_handles_new_category(categorical_pair):
    ref, cur = categorical_pair
    expected = chi2_contingency(_table(ref, cur), correction=False)
    statistic, p_value = chi_square_test(ref, cur)
    assert statistic == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue)
    assert math.isfinite(statistic) and p_value < 1e-6  # "online" exists only in current


def test_chi_square_two_categories_equals_two_proportion_z_test():
    ref = np.array(["a"] * 600 + ["b"] * 400, dtype=object)
    cur = np.array(["a"] * 540 + ["b"] * 460, dtype=object)
    statistic, _ = chi_square_test(ref, cur)
    p1, p2, pooled = 0.6, 0.54, 0.57
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 1000))
    assert statistic == pytest.approx(z**2)


def test_jensen_shannon_matches_scipy_categorical(categorical_pair):
    ref, cur = categorical_pair
    table = _table(ref, cur)
    expected = jensenshannon(table[0] / table[0].sum(), table[1] / table[1].sum(), base=2)
    assert jensen_shannon(ref, cur) == pytest.approx(expected)


def test_jensen_shannon_matches_scipy_numeric(numeric_pair):
    ref, cur = numeric_pair
    edges = _reference_edges(ref)
    r = np.histogram(ref, edges)[0]
    c = np.histogram(cur, edges)[0]
    expected = jensenshannon(r / r.sum(), c / c.sum(), base=2)
    assert jensen_shannon(ref, cur) == pytest.approx(expected)
    assert 0 < jensen_shannon(ref, cur) <= 1


def test_wasserstein_matches_scipy(numeric_pair):
    ref, cur = numeric_pair
    raw = wasserstein_distance(ref, cur)
    assert wasserstein(ref, cur, normed=False) == pytest.approx(raw)
    assert wasserstein(ref, cur) == pytest.approx(raw / np.std(ref))


def test_quantile_edges_are_reference_quantiles(numeric_pair):
    ref, _ = numeric_pair
    np.testing.assert_allclose(quantile_edges(ref, 10), _reference_edges(ref, 10))


def test_psi_numeric_matches_formula(numeric_pair):
    ref, cur = numeric_pair
    edges = _reference_edges(ref)
    expected = _psi_formula(np.histogram(ref, edges)[0], np.histogram(cur, edges)[0])
    assert psi(ref, cur) == pytest.approx(expected)
    assert psi(ref, cur) > 0


def test_psi_categorical_matches_formula(categorical_pair):
    ref, cur = categorical_pair
    table = _table(ref, cur)
    assert psi(ref, cur) == pytest.approx(_psi_formula(table[0], table[1]))


def test_psi_with_empty_bins_is_finite_and_large():
    rng = np.random.default_rng(3)
    ref = rng.normal(0, 1, 2000)
    cur = ref.max() + 1 + rng.random(500)  # every current value beyond the reference's top bin
    value = psi(ref, cur)
    edges = _reference_edges(ref)
    assert math.isfinite(value)
    assert value == pytest.approx(_psi_formula(np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]))
    assert psi_band(value) == "major"


def test_missing_values_are_ignored(numeric_pair):
    ref, cur = numeric_pair
    with_nan = np.concatenate([cur, [np.nan] * 20])
    assert ks_test(ref, with_nan) == pytest.approx(ks_test(ref, cur))
    assert psi(ref, with_nan) == pytest.approx(psi(ref, cur))


def test_identical_samples_show_nothing(numeric_pair, categorical_pair):
    ref, _ = numeric_pair
    cat, _ = categorical_pair
    assert ks_test(ref, ref) == (0.0, 1.0)
    assert chi_square_test(cat, cat) == pytest.approx((0.0, 1.0))
    for sample in (ref, cat):
        assert psi(sample, sample) == pytest.approx(0.0, abs=1e-12)
        assert jensen_shannon(sample, sample) == pytest.approx(0.0, abs=1e-7)
    assert wasserstein(ref, ref) == 0.0


# ----------------------------------------------------------------- detector
def _frames(n_ref=3000, n_cur=1000, seed=5):
    """Reference and current frames: one shifted numeric column, one new category, the rest stable."""
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({
        "stable": rng.normal(0, 1, n_ref),
        "shifted": rng.normal(0, 1, n_ref),
        "region": rng.choice(REGIONS, n_ref),
        "plan": rng.choice(np.array(["basic", "plus"], dtype=object), n_ref),
        "default": rng.integers(0, 2, n_ref),
        "month": 0,
    })
    cur = pd.DataFrame({
        "stable": rng.normal(0, 1, n_cur),
        "shifted": rng.normal(0.8, 1, n_cur),
        "region": np.where(rng.random(n_cur) < 0.2, "online", rng.choice(REGIONS, n_cur)),
        "plan": rng.choice(np.array(["basic", "plus"], dtype=object), n_cur),
        "default": rng.integers(0, 2, n_cur),
        "month": 1,
    })
    return ref, cur


def _expected(method, ref, cur, kind):
    """(statistic, p_value) from the pure functions / scipy for one column."""
    if kind == "categorical":
        method = {"ks": "chi2", "wasserstein": "jensen_shannon"}.get(method, method)
    if method == "ks":
        return ks_test(ref, cur)
    if method == "chi2" and kind == "categorical":
        return chi_square_test(ref, cur)
    if method == "chi2":  # numeric columns: chi-square on the reference quantile bins
        edges = _reference_edges(ref)
        result = chi2_contingency([np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]], correction=False)
        return result.statistic, result.pvalue
    if method == "psi":
        return psi(ref, cur), np.nan
    if method == "jensen_shannon":
        return jensen_shannon(ref, cur), np.nan
    return wasserstein(ref, cur), np.nan


@pytest.mark.parametrize("method", ["ks", "chi2", "psi", "jensen_shannon", "wasserstein"])
def test_detector_agrees_with_pure_functions(method):
    ref, cur = _frames()
    scores = DriftDetector(method=method).fit(ref).score(cur)
    assert list(scores.index) == ["stable", "shifted", "region", "plan"]  # month/default skipped
    assert list(scores.columns) == ["kind", "method", "statistic", "p_value", "threshold", "drift"]
    for column, row in scores.iterrows():
        statistic, p_value = _expected(method, ref[column].to_numpy(), cur[column].to_numpy(), row["kind"])
        assert row["statistic"] == pytest.approx(statistic), column
        if np.isnan(p_value):
            assert np.isnan(row["p_value"])
        else:
            assert row["p_value"] == pytest.approx(p_value), column
        assert row["threshold"] == drift.DEFAULT_THRESHOLDS[row["method"]]
    assert scores.loc["shifted", "drift"] and scores.loc["region", "drift"]
    assert not scores.loc["stable", "drift"] and not scores.loc["plan", "drift"]
    assert scores["drift"].dtype == bool


def test_detector_is_reusable_over_batches():
    ref, cur = _frames()
    detector = DriftDetector().fit(ref)
    first = detector.score(cur)
    detector.score(ref)
    pd.testing.assert_frame_equal(first, detector.score(cur))


@pytest.mark.parametrize("method", ["auto", "ks", "chi2", "psi", "jensen_shannon", "wasserstein"])
@pytest.mark.parametrize("n_ref", [800, 3000])
def test_identical_data_never_drifts(method, n_ref):
    ref, _ = _frames(n_ref=n_ref)
    scores = DriftDetector(method=method).fit(ref).score(ref)
    assert not scores["drift"].any()
    tests = scores["method"].isin(["ks", "chi2"])
    np.testing.assert_allclose(scores.loc[tests, "p_value"], 1.0)
    np.testing.assert_allclose(scores["statistic"], 0.0, atol=1e-7)
    assert detect_data_drift(ref, ref, method=method) is False


def test_auto_follows_evidently_defaults():
    small_ref, cur = _frames(n_ref=1000)
    small = DriftDetector().fit(small_ref).score(cur)
    assert small["method"].to_dict() == {"stable": "ks", "shifted": "ks", "region": "chi2", "plan": "chi2"}
    assert set(small["threshold"]) == {0.05}
    large_ref, cur = _frames(n_ref=1001)
    large = DriftDetector().fit(large_ref).score(cur)
    assert large["method"].to_dict() == {"stable": "wasserstein", "shifted": "wasserstein",
                                         "region": "jensen_shannon", "plan": "jensen_shannon"}
    assert set(large["threshold"]) == {0.1}


def test_numeric_with_few_values_is_categorical():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"children": rng.integers(0, 4, 2000)})
    scores = DriftDetector().fit(ref).score(ref)
    assert scores.loc["children", "kind"] == "categorical"
    assert scores.loc["children", "method"] == "jensen_shannon"


def test_dataset_drift_uses_share_at_or_above():
    ref, cur = _frames()
    detector = DriftDetector(drift_share=0.5).fit(ref)
    scores = detector.score(cur)  # 2 of 4 columns drift: share exactly 0.5
    assert detector.dataset_drift(scores) is True
    assert DriftDetector(drift_share=0.51).fit(ref).dataset_drift(scores) is False


def test_detect_data_drift_returns_plain_bool():
    ref, cur = _frames()
    drifted = detect_data_drift(ref, cur)
    calm = detect_data_drift(ref, ref)
    assert type(drifted) is bool and type(calm) is bool
    assert drifted is True and calm is False
    rng = np.random.default_rng(1)
    assert detect_data_drift(rng.normal(0, 1, 500), rng.normal(2, 1, 500)) is True  # 1-D samples


def test_custom_threshold_applies_to_every_column():
    ref, cur = _frames()
    scores = DriftDetector(method="psi", threshold=0.25).fit(ref).score(cur)
    assert set(scores["threshold"]) == {0.25}
    assert list(scores["drift"]) == list(scores["statistic"] >= 0.25)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        DriftDetector(method="t-test")
    ref, cur = _frames()
    detector = DriftDetector().fit(ref, columns=["stable"])
    with pytest.raises(KeyError):
        detector.score(cur.drop(columns="stable"))
    with pytest.raises(RuntimeError):
        DriftDetector().score(cur)


# ----------------------------------------------------------------- course facts
def test_significant_is_not_important_with_a_million_rows():
    rng = np.random.default_rng(2024)
    ref = rng.standard_normal(1_000_000)
    cur = rng.standard_normal(1_000_000) + 0.05  # a 0.05 SD mean shift
    _, p_value = ks_test(ref, cur)
    value = psi(ref, cur)
    assert p_value < 1e-6
    assert value < 0.01 and psi_band(value) == "stable"


def test_bonferroni_keeps_the_family_wise_rate_below_alpha():
    assert bonferroni(0.05, 20) == pytest.approx(0.0025)
    assert 1 - (1 - bonferroni(0.05, 20)) ** 20 < 0.05 < 1 - (1 - 0.05) ** 20
    with pytest.raises(ValueError):
        bonferroni(0.05, 0)


def test_no_reference_answer_to_the_graded_exercises():
    """Module 02 grades ``family_wise_error(n_tests, alpha)``: the library must not hand it out under any name."""
    assert not hasattr(drift, "false_alarm_probability") and not hasattr(drift, "family_wise_error")


def test_psi_bands():
    assert [psi_band(v) for v in (0.0, 0.099, 0.1, 0.25, 0.2501, 3.0)] == [
        "stable", "stable", "moderate", "moderate", "major", "major"]
