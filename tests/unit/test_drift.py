"""Drift statistics agree with scipy / the textbook formulas, the detector with both, and method="auto"
with Evidently 0.7.23's defaults (its definitions written with scipy, and values Evidently computed)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, chisquare, ks_2samp, norm, wasserstein_distance

from driftlab.course import drift
from driftlab.course.drift import (
    DriftDetector,
    bonferroni,
    chi_square_test,
    column_kind,
    detect_data_drift,
    evidently_method,
    jensen_shannon,
    ks_test,
    psi,
    psi_band,
    quantile_edges,
    wasserstein,
    z_test,
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


def _goodness_of_fit(ref, cur):
    """Evidently's chisquare stattest, written with scipy: current counts vs reference counts * n_cur / n_ref
    over the categories of both samples (chisquare_stattest.py in evidently 0.7.23)."""
    table = _table(ref, cur)
    with np.errstate(divide="ignore", invalid="ignore"):
        return chisquare(table[1], table[0] * len(cur) / len(ref))


def test_chi_square_is_evidentlys_goodness_of_fit():
    ref = np.array(["a"] * 300 + ["b"] * 200 + ["c"] * 100, dtype=object)
    cur = np.array(["a"] * 160 + ["b"] * 90 + ["c"] * 50, dtype=object)
    expected = chisquare([160, 90, 50], [150, 100, 50])  # reference shares 1/2, 1/3, 1/6 of 300 rows
    assert chi_square_test(ref, cur) == pytest.approx((expected.statistic, expected.pvalue))
    assert chi_square_test(ref, cur) == pytest.approx(tuple(_goodness_of_fit(ref, cur)))


def test_chi_square_category_missing_from_the_current_sample():
    ref = np.array(["a"] * 300 + ["b"] * 200 + ["c"] * 100, dtype=object)
    cur = np.array(["a"] * 120 + ["b"] * 130, dtype=object)  # no "c": it still expects 250 / 6 rows
    expected = chisquare([120, 130, 0], np.array([300, 200, 100]) * 250 / 600)
    statistic, p_value = chi_square_test(ref, cur)
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))
    assert math.isfinite(statistic) and p_value < 1e-6


def test_chi_square_new_category_is_certain_drift(categorical_pair):
    """"online" exists only in the current sample: expected count 0, so inf and p = 0, as in Evidently."""
    ref, cur = categorical_pair
    statistic, p_value = chi_square_test(ref, cur)
    expected = _goodness_of_fit(ref, cur)
    assert statistic == math.inf and p_value == 0.0
    assert (expected.statistic, expected.pvalue) == (math.inf, 0.0)
    # without the new category, the same function is scipy's goodness of fit, finite
    keep = cur != "online"
    assert chi_square_test(ref, cur[keep]) == pytest.approx(tuple(_goodness_of_fit(ref, cur[keep])))


def test_chi_square_ignores_the_reference_noise_unlike_the_contingency_test():
    """Goodness of fit treats reference shares as exact: with equal samples its statistic is about twice
    the two-sample (homogeneity) statistic of chi2_contingency."""
    ref = np.array(["a"] * 480 + ["b"] * 200 + ["c"] * 120, dtype=object)
    cur = np.array(["a"] * 440 + ["b"] * 220 + ["c"] * 140, dtype=object)
    gof, p_gof = chi_square_test(ref, cur)
    homogeneity = chi2_contingency(_table(ref, cur), correction=False)
    assert gof == pytest.approx(2 * homogeneity.statistic, rel=0.05)
    assert p_gof < 0.05 < homogeneity.pvalue


def test_z_test_is_evidentlys_two_proportion_z_test():
    ref = np.array(["a"] * 600 + ["b"] * 400, dtype=object)
    cur = np.array(["a"] * 540 + ["b"] * 460, dtype=object)
    z, p_value = z_test(ref, cur)
    p1, p2 = 0.4, 0.46  # share of the second (sorted) category, Evidently's encoding in z_stattest.py
    pooled = (400 + 460) / 2000
    expected_z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 1000))
    assert z == pytest.approx(expected_z)
    assert p_value == pytest.approx(2 * (1 - norm.cdf(abs(expected_z))))  # Evidently's formula
    assert z_test(ref, ref) == pytest.approx((0.0, 1.0))
    assert z_test(ref[:600], ref[:600]) == (0.0, 1.0)  # one category in total: Evidently's p = 1
    with pytest.raises(ValueError):
        z_test(np.array(["a", "b", "c"]), np.array(["a", "b"]))


def test_jensen_shannon_matches_scipy_categorical(categorical_pair):
    """scipy's jensenshannon with its default natural log on the shares over the union of categories, as
    Evidently's jensenshannon.py (get_binned_data(..., feel_zeroes=False) keeps zero shares)."""
    ref, cur = categorical_pair
    table = _table(ref, cur)
    r, c = table[0] / table[0].sum(), table[1] / table[1].sum()
    assert jensen_shannon(ref, cur) == pytest.approx(jensenshannon(r, c))
    # natural log, not base 2: base 2 would be 1 / sqrt(ln 2) = 1.201 times larger
    assert jensenshannon(r, c, base=2) / jensen_shannon(ref, cur) == pytest.approx(1 / math.sqrt(math.log(2)))
    # a category on one side only, by hand: JSD = (KL(r||m) + KL(c||m)) / 2 with m = (r + c) / 2, in nats
    r, c = np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.25, 0.25])
    m = (r + c) / 2
    kl = lambda p, q: sum(pi * math.log(pi / qi) for pi, qi in zip(p, q) if pi > 0)  # noqa: E731
    by_hand = math.sqrt((kl(r, m) + kl(c, m)) / 2)
    ref = np.array(["a"] * 2 + ["b"] * 2, dtype=object)
    cur = np.array(["a"] * 2 + ["b", "c"], dtype=object)
    assert jensen_shannon(ref, cur) == pytest.approx(by_hand)


def test_jensen_shannon_matches_scipy_numeric(numeric_pair):
    ref, cur = numeric_pair
    edges = _reference_edges(ref)
    r = np.histogram(ref, edges)[0]
    c = np.histogram(cur, edges)[0]
    expected = jensenshannon(r / r.sum(), c / c.sum())
    assert jensen_shannon(ref, cur) == pytest.approx(expected)
    assert 0 < jensen_shannon(ref, cur) <= math.sqrt(math.log(2))


def test_jensen_shannon_maximum_is_sqrt_ln2():
    assert jensen_shannon(np.array(["a"] * 10), np.array(["b"] * 10)) == pytest.approx(math.sqrt(math.log(2)))


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
    assert chi_square_test(np.array(["a"] * 5), np.array(["a"] * 3)) == (0.0, 1.0)  # one category in total
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
    if method == "chi2":  # numeric columns: goodness of fit on the reference quantile bins
        edges = _reference_edges(ref)
        r, c = np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]
        result = chisquare(c, r * len(cur) / len(ref))
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
    tests = scores["method"].isin(["ks", "chi2", "z"])
    np.testing.assert_allclose(scores.loc[tests, "p_value"], 1.0)
    np.testing.assert_allclose(scores["statistic"], 0.0, atol=1e-7)
    assert detect_data_drift(ref, ref, method=method) is False


def test_auto_follows_evidently_defaults():
    """The row-count boundary: 1000 reference rows -> tests, 1001 -> distances (registry.py::_get_default_stattest);
    two categories -> z-test, more -> chi-square; p-value thresholds 0.05, distance thresholds 0.1."""
    small_ref, cur = _frames(n_ref=1000)
    small = DriftDetector().fit(small_ref).score(cur)
    assert small["method"].to_dict() == {"stable": "ks", "shifted": "ks", "region": "chi2", "plan": "z"}
    assert set(small["threshold"]) == {0.05}
    large_ref, cur = _frames(n_ref=1001)
    large = DriftDetector().fit(large_ref).score(cur)
    assert large["method"].to_dict() == {"stable": "wasserstein", "shifted": "wasserstein",
                                         "region": "jensen_shannon", "plan": "jensen_shannon"}
    assert set(large["threshold"]) == {0.1}


def test_evidently_method_table():
    """_get_default_stattest in evidently 0.7.23, case by case (n_values: reference and current together)."""
    for n_ref, tests in ((1000, True), (1001, False)):
        assert evidently_method("numeric", n_ref, 6) == ("ks" if tests else "wasserstein")
        for kind in ("numeric", "categorical"):
            assert evidently_method(kind, n_ref, 5) == ("chi2" if tests else "jensen_shannon")
            assert evidently_method(kind, n_ref, 3) == ("chi2" if tests else "jensen_shannon")
            assert evidently_method(kind, n_ref, 2) == ("z" if tests else "jensen_shannon")
            assert evidently_method(kind, n_ref, 1) == ("z" if tests else "jensen_shannon")
        assert evidently_method("categorical", n_ref, 50) == ("chi2" if tests else "jensen_shannon")


def test_column_kind_is_evidentlys_inference():
    """evidently/core/datasets.py::infer_column_type: float numeric, int categorical up to 10 values, text categorical."""
    assert column_kind(pd.Series([0.0, 1.0] * 50)) == "numeric"
    assert column_kind(pd.Series(np.arange(100) % 10)) == "categorical"
    assert column_kind(pd.Series(np.arange(100) % 11)) == "numeric"
    assert column_kind(pd.Series(["a", "b"] * 5)) == "categorical"
    assert column_kind(pd.Series([True, False] * 5)) == "categorical"


def test_a_batch_can_change_the_method_as_in_evidently():
    """Distinct values are counted in reference and current together: a third category turns the z-test into
    chi-square, and a float column with few values gets the categorical tests until a batch brings more."""
    ref = pd.DataFrame({"plan": ["basic"] * 500 + ["plus"] * 300, "score": np.repeat([0.0, 1.0, 2.0], [400, 300, 100])})
    detector = DriftDetector().fit(ref)
    same = detector.score(ref)
    assert same["method"].to_dict() == {"plan": "z", "score": "chi2"}
    assert same.loc["score", "kind"] == "numeric"
    wider = pd.DataFrame({"plan": ["basic"] * 300 + ["plus"] * 250 + ["gold"] * 10,
                          "score": np.repeat([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [200, 150, 100, 50, 30, 30])})
    scores = detector.score(wider)
    assert scores["method"].to_dict() == {"plan": "chi2", "score": "ks"}
    assert scores.loc["plan", "statistic"] == math.inf and scores.loc["plan", "drift"]


def test_drift_rules_at_the_threshold():
    """Evidently: KS drifts at p <= alpha, chi-square and z at p < alpha, distances at >= threshold."""
    assert drift.is_drift("ks", 0.3, 0.05, 0.05) is True
    assert drift.is_drift("chi2", 9.0, 0.05, 0.05) is False
    assert drift.is_drift("z", 2.0, 0.05, 0.05) is False
    assert drift.is_drift("chi2", 9.0, 0.0499, 0.05) is True
    assert drift.is_drift("jensen_shannon", 0.1, np.nan, 0.1) is True
    assert drift.is_drift("wasserstein", 0.0999, np.nan, 0.1) is False


# ----------------------------------------------------------------- Evidently 0.7.23 itself
# Computed once by evidently 0.7.23 (scipy 1.17.1, pandas 2.3.3) in a scratch venv, not a dependency:
# Report([DataDriftPreset()]).run(current, reference), each column's ValueDrift value, with the method and the
# drift flag from evidently.legacy.calculations.stattests.registry.get_stattest on the same column.
# (name): (Evidently's stattest, its drift score: a p-value for chisquare / z / ks, else the distance, drift)
EVIDENTLY_CASES = {
    "chi2-missing-in-current": ("chi2", 1.7139084315420272e-15, True),
    "chi2-new-in-current": ("chi2", 0.0, True),
    "z-binary": ("z", 0.006728915005920211, True),
    "js-categorical": ("jensen_shannon", 0.36246068795991515, True),
    "float-few-small": ("chi2", 1.61959679231261e-06, True),
    "float-few-large": ("jensen_shannon", 0.1499572876670225, True),
    "int-8-values": ("jensen_shannon", 0.21309839366169664, True),
    "chi2-clean": ("chi2", 0.6872892787909721, False),
    "z-clean": ("z", 0.457262181591642, False),
    "wasserstein-clean": ("wasserstein", 0.08179631591949936, False),
    "numeric-1000": ("ks", 8.231559338434547e-05, True),
    "numeric-1001": ("wasserstein", 0.14855321150887388, True),
}


def _rep(**counts):
    return np.repeat(np.array(list(counts), dtype=object), list(counts.values()))


def _evidently_frames():
    """The one-column frames the table above was computed on (same code as the scratch script)."""
    ramp = lambda n, shift=0.0: np.sin(np.arange(n) * 0.7) * 10 + shift  # noqa: E731  deterministic "noise"
    frame = lambda values: pd.DataFrame({"x": values})  # noqa: E731
    return {
        "chi2-missing-in-current": (frame(_rep(a=300, b=200, c=100)), frame(_rep(a=120, b=130))),
        "chi2-new-in-current": (frame(_rep(a=300, b=300)), frame(_rep(a=100, b=100, c=5))),
        "z-binary": (frame(_rep(a=600, b=400)), frame(_rep(a=540, b=460))),
        "js-categorical": (frame(_rep(a=600, b=400, c=200)), frame(_rep(a=100, b=100, d=50))),
        "float-few-small": (frame(np.repeat([0.0, 1.0, 2.0], [500, 300, 200])), frame(np.repeat([0.0, 1.0, 2.0], [200, 200, 100]))),
        "float-few-large": (frame(np.repeat([0.0, 1.0, 2.0], [700, 400, 100])), frame(np.repeat([0.0, 1.0, 2.0], [200, 200, 100]))),
        "int-8-values": (frame(np.arange(1200) % 8), frame((np.arange(400) % 7) + 1)),
        "chi2-clean": (frame(_rep(a=300, b=200, c=100)), frame(_rep(a=150, b=95, c=55))),
        "z-clean": (frame(_rep(a=600, b=400)), frame(_rep(a=290, b=210))),
        "wasserstein-clean": (frame(ramp(1500)), frame(ramp(300, 0.5))),
        "numeric-1000": (frame(ramp(1000)), frame(ramp(300, 1.0))),
        "numeric-1001": (frame(ramp(1001)), frame(ramp(300, 1.0))),
    }


@pytest.mark.parametrize("case", sorted(EVIDENTLY_CASES))
def test_auto_reproduces_evidently(case):
    method, score, drifted = EVIDENTLY_CASES[case]
    ref, cur = _evidently_frames()[case]
    row = DriftDetector().fit(ref).score(cur).loc["x"]
    assert row["method"] == method
    value = row["p_value"] if drift.is_test(method) else row["statistic"]
    assert value == pytest.approx(score, rel=1e-9, abs=1e-15)
    assert row["drift"] == drifted


# Evidently 0.7.23 on the course's scenario (Scenario(seed=0)), computed once the same way: the full reference
# (4000 rows) against full monthly batches, and its first 800 rows against 800 rows of a batch (head or tail).
# (month, rows of the batch, column, Evidently's stattest, drift score, drift)
EVIDENTLY_ON_THE_COURSE = [
    (6, "all", "region", "jensen_shannon", 0.23745458354074697, True),
    (12, "all", "region", "jensen_shannon", 0.24696081855971874, True),
    (6, "all", "employment", "jensen_shannon", 0.009309835178831173, False),
    (6, "all", "income", "wasserstein", 0.43649357513997805, True),
    (11, "all", "income", "wasserstein", 3109.448016067552, True),
    (2, "head", "employment", "chi2", 0.8089139791206802, False),
    (6, "head", "region", "chi2", 0.0, True),
    (3, "head", "region", "chi2", 0.7693376096028024, False),
    (6, "head", "income", "ks", 5.195323124233286e-07, True),
    (4, "tail", "employment", "chi2", 0.011265448777972599, True),  # a false alarm: employment never changes
]


@pytest.fixture(scope="module")
def scenario():
    from driftlab.course.simulation import Scenario
    return Scenario(seed=0)


@pytest.mark.parametrize("month,rows,column,method,score,drifted", EVIDENTLY_ON_THE_COURSE)
def test_auto_reproduces_evidently_on_the_course_data(scenario, month, rows, column, method, score, drifted):
    reference, batch = scenario.reference(), scenario.batch(month)
    if rows != "all":
        reference, batch = reference.head(800), getattr(batch, rows)(800)
    row = DriftDetector().fit(reference, [column]).score(batch).loc[column]
    assert row["method"] == method
    value = row["p_value"] if drift.is_test(method) else row["statistic"]
    assert value == pytest.approx(score, rel=1e-9, abs=1e-15)
    assert row["drift"] == drifted
    if column == "region" and rows == "all":  # base 2 (the course before) gives 1 / sqrt(ln 2) = 1.20 times more
        shares = pd.concat([reference[column].value_counts(normalize=True),
                            batch[column].value_counts(normalize=True)], axis=1).fillna(0.0)
        base2 = jensenshannon(shares.iloc[:, 0], shares.iloc[:, 1], base=2)
        assert base2 == pytest.approx(score / math.sqrt(math.log(2)))


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


def test_pure_functions_count_small_integer_columns_per_value_like_the_detector():
    """An integer column with at most 10 values is categorical (Evidently's inference) for psi / jensen_shannon too."""
    ref = pd.DataFrame({"children": np.repeat([0, 1, 2, 3], [400, 300, 200, 100])})
    cur = pd.DataFrame({"children": np.repeat([0, 1, 2, 3, 4], [300, 300, 200, 150, 50])})
    table = np.array([[400, 300, 200, 100, 0], [300, 300, 200, 150, 50]])
    r, c = table[0] / table[0].sum(), table[1] / table[1].sum()
    assert jensen_shannon(ref["children"], cur["children"]) == pytest.approx(jensenshannon(r, c))
    assert psi(ref["children"], cur["children"]) == pytest.approx(_psi_formula(table[0], table[1]))
    for method in ("jensen_shannon", "psi"):
        row = DriftDetector(method=method).fit(ref).score(cur).loc["children"]
        expected = jensen_shannon if method == "jensen_shannon" else psi
        assert row["kind"] == "categorical" and row["statistic"] == pytest.approx(expected(ref["children"], cur["children"]))
