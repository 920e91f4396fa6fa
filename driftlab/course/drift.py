"""Data-drift statistics and a fit/score drift detector, computed with scipy.

Two families answer two different questions:

* **tests** (``ks``, ``chi2``, ``z``) ask "could both samples come from the same distribution?"
  and return a p-value.  With enough rows *any* difference is significant (1M rows, a 0.05 SD
  mean shift: KS p ~ 0), so a small p-value says "different", not "different enough to matter".
* **distances** (``psi``, ``jensen_shannon``, ``wasserstein``) measure *how* different the
  samples are (an effect size) and are compared with a fixed threshold.

**Evidently's defaults.**  ``DriftDetector(method="auto")`` makes the per-column choice of
Evidently 0.7.23's ``DataDriftPreset`` and computes each statistic as Evidently does, with the same
scipy call (documentation: Evidently AI, "Data drift algorithm",
https://docs.evidentlyai.com/reference/data-drift-algorithm; source, under
``evidently/legacy/calculations/stattests/``: ``registry.py::_get_default_stattest`` picks the
test, the modules named below compute it):

* reference with at most 1000 rows: numeric columns get the two-sample KS test (``ks_stattest.py``,
  ``scipy.stats.ks_2samp``), drift at p <= 0.05; categorical columns the chi-square goodness-of-fit
  test (``chisquare_stattest.py``, ``scipy.stats.chisquare``), drift at p < 0.05, or, with at most
  two values, the two-proportion z-test (``z_stattest.py``), drift at p < 0.05;
* reference with more than 1000 rows: numeric columns get the Wasserstein-1 distance divided by the
  reference SD (``wasserstein_distance_norm.py``), categorical columns the Jensen-Shannon
  *distance* of scipy's ``jensenshannon`` with its default natural log (``jensenshannon.py``),
  drift at >= 0.1 for both;
* a numeric column with at most 5 distinct values gets the categorical methods.  Distinct values
  are counted in reference and current together (``pd.concat([ref, cur]).nunique()``), so a batch
  can move a column from one method to another;
* the column's type follows Evidently's inference (``evidently/core/datasets.py::
  infer_column_type``): floats are numeric; integers are categorical with at most 10 distinct
  values (``INTEGER_CARDINALITY_LIMIT``), numeric above; strings and booleans are categorical;
* the dataset drifts when the share of drifting columns is >= 0.5 (``DataDriftPreset.drift_share``,
  ``legacy/calculations/data_drift.py::get_dataset_drift``).

Where the numbers come from: 0.05 is the conventional significance level and 0.1 a rule of thumb,
both Evidently's ``StatTest.default_threshold``; the 1000-row switch, the 5 values and the 10
integer values are Evidently's choices in the functions named above; none is derived from the data.
``tests/unit/test_drift.py`` pins each rule to scipy and to values Evidently 0.7.23 itself computed.
Run once on the course's scenario (12 months, full batches and 800-row samples, 168 column
decisions), Evidently and this module agree on every decision and every statistic (to 1e-12).

**Where the course deliberately differs** (each only outside ``method="auto"`` or at an edge):

* the column type is inferred once, from the *reference*, when the detector is fitted (Evidently
  infers it from the current batch unless it is given a ``DataDefinition``; on the course's
  scenario both give the same type for every column and month);
* an empty current column counts as drift (Evidently raises ``ValueError``); ``method="ks"`` or
  ``"wasserstein"`` on a categorical column falls back to ``"chi2"`` / ``"jensen_shannon"``
  (Evidently refuses);
* numeric columns under an explicit ``"psi"``, ``"jensen_shannon"`` or ``"chi2"`` are cut into 10
  *reference quantile* bins (the credit-scoring convention, and what the Drift Lab can update day
  by day).  Evidently's ``psi`` and ``jensenshannon`` use Sturges bins of reference and current
  together (``stattests/utils.py::get_binned_data``) and its ``chisquare`` accepts categorical
  columns only.  Measured on income, month 6 of the course's scenario: Jensen-Shannon 0.1325 here,
  0.1358 in Evidently; PSI 0.1428 here, 0.1511 there.  Evidently's ``psi`` floors empty shares at
  1e-4 as here, but at (smallest share) / 1e6 when a share is <= 1e-4.

The chi-square goodness-of-fit test treats the reference shares as exact.  On clean data its
statistic is about (1 + n_current / n_reference) times a chi-square variable, so with a reference no
larger than the batch it alarms far more often than alpha: a 3-category column with two 800-row
samples alarms in about 22 % of clean batches at alpha = 0.05 (module 02 simulates it), where the
two-sample test of homogeneity, ``scipy.stats.chi2_contingency``, keeps 5 %.  The course keeps
Evidently's test in ``auto``, because ``auto`` claims to be Evidently's choice, and teaches the
difference.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, chisquare, ks_2samp, wasserstein_distance

TESTS: tuple[str, ...] = ("ks", "chi2", "z")
DISTANCES: tuple[str, ...] = ("psi", "jensen_shannon", "wasserstein")
#: Methods a DriftDetector accepts; "auto" also picks the z-test, Evidently's test for two categories.
METHODS: tuple[str, ...] = ("auto", "ks", "chi2") + DISTANCES
#: Tests: significance level alpha (0.05, the convention; Evidently's default).  Distances:
#: Evidently's defaults for normed Wasserstein and Jensen-Shannon (0.1, a rule of thumb), and for
#: PSI 0.1, the edge of "stable" in the credit-scoring rule of thumb (Siddiqi 2006).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "ks": 0.05, "chi2": 0.05, "z": 0.05, "psi": 0.1, "jensen_shannon": 0.1, "wasserstein": 0.1,
}
#: Tests whose drift rule is strict, p < alpha, as in Evidently's chisquare and z stattests (its KS
#: stattest uses p <= alpha).  The two differ only when p equals alpha exactly.
STRICT_TESTS: tuple[str, ...] = ("chi2", "z")
#: Evidently switches from tests to distances when the reference has more rows than this.
SMALL_REFERENCE = 1000
#: A numeric column with at most this many distinct values (reference and current together) gets
#: the categorical tests (Evidently's ``_get_default_stattest``).
MAX_DISCRETE_VALUES = 5
#: An integer column with at most this many distinct values is categorical (Evidently's
#: ``INTEGER_CARDINALITY_LIMIT`` in ``infer_column_type``).
MAX_INTEGER_CATEGORIES = 10
#: Columns that are not inputs to the model, skipped by DriftDetector.fit when columns=None.
NON_FEATURE_COLUMNS: tuple[str, ...] = ("month", "default")
#: PSI bands (Siddiqi 2006, *Credit Risk Scorecards*): < 0.1 stable, 0.1-0.25 moderate, > 0.25 major.
PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
# Numeric-only methods fall back to their categorical counterpart on a categorical column.
_CATEGORICAL_FALLBACK = {"ks": "chi2", "wasserstein": "jensen_shannon"}


# --------------------------------------------------------------------------- helpers
def _values(sample) -> np.ndarray:
    """A 1-D numpy array of ``sample`` with missing values (NaN/None) dropped."""
    series = pd.Series(np.asarray(sample).ravel()) if not isinstance(sample, pd.Series) else sample
    series = series.dropna()
    if series.empty:
        raise ValueError("a sample has no non-missing values")
    return series.to_numpy()


def is_numeric(sample) -> bool:
    """True for a numeric (not boolean) sample: binned / compared by value, not by category."""
    dtype = sample.dtype if hasattr(sample, "dtype") else np.asarray(sample).dtype
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def column_kind(sample) -> str:
    """'numeric' or 'categorical', by Evidently's ``infer_column_type``.

    Floats are numeric; integers are categorical when they take at most
    :data:`MAX_INTEGER_CATEGORIES` (10) distinct values, numeric above; everything else (strings,
    booleans, objects) is categorical.
    """
    dtype = sample.dtype if hasattr(sample, "dtype") else np.asarray(sample).dtype
    if not is_numeric(sample):
        return "categorical"
    if pd.api.types.is_integer_dtype(dtype):
        return "numeric" if pd.Series(_values(sample)).nunique() > MAX_INTEGER_CATEGORIES else "categorical"
    return "numeric"


def quantile_edges(reference, bins: int = 10) -> np.ndarray:
    """Bin edges at the reference's quantiles, outer edges -inf/+inf (ties merge bins)."""
    ref = _values(reference).astype(float)
    inner = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, int(bins) + 1)[1:-1]))
    return np.concatenate(([-np.inf], inner, [np.inf]))


def _bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin [e_i, e_i+1), same convention as ``np.histogram`` (vectorised)."""
    inner = edges[1:-1]
    return np.bincount(np.searchsorted(inner, values, side="right"), minlength=len(inner) + 1)


def _category_counts(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of each category in both samples, over the sorted union of their categories."""
    ref_counts = pd.Series(reference).value_counts()
    cur_counts = pd.Series(current).value_counts()
    union = ref_counts.index.union(cur_counts.index)
    return (ref_counts.reindex(union, fill_value=0).to_numpy(),
            cur_counts.reindex(union, fill_value=0).to_numpy())


def _counts(reference, current, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin counts (numeric: reference quantile bins) or category counts of both samples.

    Numeric means :func:`column_kind` of the reference, as in DriftDetector: an integer sample with at
    most 10 distinct values is counted per value, like a category."""
    ref, cur = _values(reference), _values(current)
    if column_kind(ref) == "numeric" and is_numeric(cur):
        edges = quantile_edges(ref, bins)
        return _bin_counts(ref.astype(float), edges), _bin_counts(cur.astype(float), edges)
    return _category_counts(ref.astype(str), cur.astype(str))


def _psi_from_proportions(ref: np.ndarray, cur: np.ndarray, eps: float) -> float:
    """PSI = sum((c - r) * ln(c / r)) with empty bins floored to ``eps``."""
    r = np.where(ref == 0, eps, ref)
    c = np.where(cur == 0, eps, cur)
    return float(np.sum((c - r) * np.log(c / r)))


def _js_from_proportions(ref: np.ndarray, cur: np.ndarray) -> float:
    """Jensen-Shannon *distance* with scipy's default natural log (0 .. sqrt(ln 2) = 0.833), as Evidently."""
    return float(jensenshannon(ref, cur))


def _chi2_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Evidently's chi-square test: ``scipy.stats.chisquare`` of the current counts against the
    reference counts scaled to the current total, over the categories (bins) either sample has.

    A category the reference never had expects 0 rows: statistic inf, p-value 0, as in Evidently.
    One category in total: nothing can differ, (0.0, 1.0).
    """
    used = (ref_counts + cur_counts) > 0
    ref, cur = ref_counts[used].astype(float), cur_counts[used].astype(float)
    if len(ref) < 2:
        return 0.0, 1.0
    with np.errstate(divide="ignore", invalid="ignore"):  # expected 0 for a new category: inf, p = 0
        result = chisquare(cur, ref * (cur.sum() / ref.sum()))
    return float(result.statistic), float(result.pvalue)


def _z_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Evidently's z-test for two categories: the pooled two-proportion z-test, computed as scipy's
    ``chi2_contingency(correction=False)`` on the 2 x 2 table (its statistic is z squared, its
    p-value the two-sided p of z).  z > 0 when the second (sorted) category is more common in
    the reference, Evidently's sign.  One category in total: (0.0, 1.0), as Evidently's p = 1."""
    used = (ref_counts + cur_counts) > 0
    table = np.vstack([ref_counts[used], cur_counts[used]])
    if table.shape[1] < 2:
        return 0.0, 1.0
    if table.shape[1] > 2:
        raise ValueError("the z-test compares two categories; use chi2 for more")
    result = chi2_contingency(table, correction=False)
    shares = table[:, 1] / table.sum(axis=1)
    return float(np.sign(shares[0] - shares[1]) * np.sqrt(result.statistic)), float(result.pvalue)


def _ks(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """Two-sample KS statistic and p-value (scipy; silences its exact->asymptotic notice)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = ks_2samp(ref, cur)
    return float(result.statistic), float(result.pvalue)


def _wasserstein_normed(ref: np.ndarray, cur: np.ndarray, std: float | None) -> float:
    """Wasserstein-1 distance, divided by ``std`` (floored at 0.001 as Evidently does) if given."""
    distance = float(wasserstein_distance(ref, cur))
    return distance if std is None else distance / max(std, 0.001)


def _categorical(sample) -> np.ndarray:
    """Non-missing values as strings: categories compared by label."""
    return _values(sample).astype(str)


# --------------------------------------------------------------------------- pure statistics
def ks_test(reference, current) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test (scipy.stats.ks_2samp): (statistic D, p-value)."""
    return _ks(_values(reference).astype(float), _values(current).astype(float))


def chi_square_test(reference, current) -> tuple[float, float]:
    """Evidently's chi-square test for a categorical column: (statistic, p-value).

    Goodness of fit (``scipy.stats.chisquare(f_obs, f_exp)``, Evidently's
    ``chisquare_stattest.py``): the observed counts are the current sample's per category, the
    expected ones the reference's counts times n_current / n_reference, over the categories of
    both samples.  A category only the current sample has expects 0 rows: statistic inf, p = 0 (a
    brand-new category is certain drift); one only the reference has adds its expected count.

    It treats the reference shares as exact.  When the reference is not much larger than the
    current sample that ignores half of the sampling noise: on clean data the statistic is about
    (1 + n_current / n_reference) times a chi-square variable, so it alarms more often than
    alpha.  ``scipy.stats.chi2_contingency`` (a two-sample test of homogeneity) accounts for both
    samples' noise.
    """
    return _chi2_from_counts(*_category_counts(_categorical(reference), _categorical(current)))


def z_test(reference, current) -> tuple[float, float]:
    """Evidently's test for a column with at most two categories: two-proportion z-test, (z, p-value).

    The pooled z-test of Evidently's ``z_stattest.py``, computed by scipy as
    ``chi2_contingency(table, correction=False)`` on the 2 x 2 table of counts (statistic = z**2,
    the same p-value).  Both samples' noise counts, unlike :func:`chi_square_test`.
    """
    return _z_from_counts(*_category_counts(_categorical(reference), _categorical(current)))


def psi(reference, current, bins: int = 10, eps: float = 1e-4) -> float:
    """Population Stability Index: sum over bins of (c - r) * ln(c / r).

    r, c are the reference and current shares per bin: numeric samples use ``bins`` quantile
    bins of the *reference* (open-ended outer edges, so no value falls outside), categorical
    samples one bin per category of the union.  A share of 0 is replaced by ``eps`` so that an
    empty bin gives a large but finite PSI.  Bands: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major.
    (Evidently's ``psi`` bins numeric columns differently; see the module docstring.)
    """
    ref_counts, cur_counts = _counts(reference, current, bins)
    return _psi_from_proportions(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum(), eps)


def jensen_shannon(reference, current, bins: int = 10) -> float:
    """Jensen-Shannon *distance* between the two samples' shares, as Evidently computes it.

    ``scipy.spatial.distance.jensenshannon(r, c)`` with its default natural logarithm: the square
    root of the JS divergence in nats, between 0 and sqrt(ln 2) = 0.833 (base 2 would give 0 .. 1
    and values 1 / sqrt(ln 2) = 1.20 times larger).  Evidently's ``jensenshannon.py`` makes the
    same call, drift at >= 0.1.  Categorical samples: shares over the union of categories, as
    Evidently.  Numeric samples: ``bins`` reference quantile bins (as :func:`psi`); Evidently bins
    numeric columns differently (see the module docstring).
    """
    ref_counts, cur_counts = _counts(reference, current, bins)
    return _js_from_proportions(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())


def wasserstein(reference, current, normed: bool = True) -> float:
    """Wasserstein-1 (earth mover's) distance (scipy), normed by the reference SD as in Evidently.

    Normed (``wasserstein_distance / max(np.std(reference), 0.001)``, Evidently's
    ``wasserstein_distance_norm.py``), it reads "how many reference standard deviations the mass
    moved"; Evidently flags drift at >= 0.1.  ``normed=False`` returns the distance in the
    feature's own units.
    """
    ref, cur = _values(reference).astype(float), _values(current).astype(float)
    return _wasserstein_normed(ref, cur, float(np.std(ref)) if normed else None)


def psi_band(value: float) -> str:
    """'stable' (< 0.1), 'moderate' (0.1-0.25) or 'major' (> 0.25): the credit-scoring rule of thumb."""
    if value < PSI_MODERATE:
        return "stable"
    return "moderate" if value <= PSI_MAJOR else "major"


def bonferroni(alpha: float, n_tests: int) -> float:
    """Per-test level that keeps the family-wise false-alarm rate at most ``alpha``: alpha / n."""
    if n_tests < 1:
        raise ValueError("n_tests must be at least 1")
    return float(alpha / n_tests)


def is_test(method: str) -> bool:
    """True when ``method`` returns a p-value (drift when p <= / < threshold), not a distance."""
    return method in TESTS


def is_drift(method: str, statistic: float, p_value: float, threshold: float) -> bool:
    """Evidently's drift rule for one column: KS p <= threshold; chi-square and z p < threshold;
    distances statistic >= threshold."""
    if method in STRICT_TESTS:
        return bool(p_value < threshold)
    if is_test(method):
        return bool(p_value <= threshold)
    return bool(statistic >= threshold)


def evidently_method(kind: str, n_reference: int, n_values: int) -> str:
    """The method Evidently's ``_get_default_stattest`` picks for a column.

    ``kind``: 'numeric' or 'categorical'; ``n_reference``: non-missing reference rows;
    ``n_values``: distinct values in reference and current together.
    """
    few = kind == "categorical" or n_values <= MAX_DISCRETE_VALUES
    if n_reference <= SMALL_REFERENCE:
        if not few:
            return "ks"
        return "chi2" if n_values > 2 else "z"
    return "jensen_shannon" if few else "wasserstein"


def resolve_method(method: str, kind: str, n_reference: int, n_values: int | None = None) -> str:
    """The method actually used on a column: Evidently's choice for 'auto', fallbacks otherwise.

    ``n_values`` (distinct values of reference and current together) matters for 'auto' only;
    None means "many" (more than :data:`MAX_DISCRETE_VALUES`).
    """
    if method == "auto":
        return evidently_method(kind, n_reference, MAX_DISCRETE_VALUES + 1 if n_values is None else n_values)
    if kind == "categorical":
        return _CATEGORICAL_FALLBACK.get(method, method)
    return method


# --------------------------------------------------------------------------- detector
@dataclass(frozen=True)
class ColumnReference:
    """What DriftDetector keeps of one reference column, so scoring never revisits it."""

    name: str
    kind: str  # "numeric" or "categorical"
    method: str  # "auto" (chosen per batch, as Evidently) or the method used on every batch
    threshold: float | None  # None: the chosen method's default
    n_rows: int  # non-missing reference rows
    sorted_values: np.ndarray | None = None  # numeric: for KS / Wasserstein
    std: float | None = None  # numeric: Wasserstein norm
    edges: np.ndarray | None = None  # numeric: quantile bin edges for PSI / JS / chi2
    counts: pd.Series | None = None  # numeric: counts per quantile bin
    categories: pd.Series | None = None  # counts per value (as text): categorical, or numeric with few values


def _labels(values: np.ndarray, kind: str) -> np.ndarray:
    """Values as category labels: numbers by value (1 and 1.0 are one category), the rest as text."""
    return (values.astype(float) if kind == "numeric" else values).astype(str)


class DriftDetector:
    """Per-column drift detector with scikit-learn's split: ``fit`` on reference, ``score`` batches.

    ``method="auto"`` makes Evidently 0.7.23's DataDriftPreset choice per column and batch (see
    the module docstring): reference <= 1000 rows -> KS test (numeric, drift at p <= 0.05),
    chi-square goodness-of-fit test (categorical, p < 0.05) or two-proportion z-test (at most two
    categories, p < 0.05); above 1000 rows -> Wasserstein distance normed by the reference SD
    (numeric) or Jensen-Shannon distance, natural log (categorical), drift at >= 0.1.  A numeric
    column with at most 5 distinct values in reference and current together is tested as a
    categorical one; an integer column with at most 10 distinct reference values is categorical.
    The dataset drifts when the share of drifting columns is >= ``drift_share`` (0.5).  Other
    methods: "ks", "chi2", "psi", "jensen_shannon", "wasserstein" on every column; on a
    categorical column "ks" falls back to "chi2" and "wasserstein" to "jensen_shannon".
    ``threshold=None`` uses :data:`DEFAULT_THRESHOLDS` per method.
    """

    def __init__(self, method: str = "auto", threshold: float | None = None, bins: int = 10,
                 drift_share: float = 0.5) -> None:
        """Store settings only (scikit-learn convention); validate them early with clear errors."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {method!r}")
        if int(bins) < 2:
            raise ValueError("bins must be at least 2")
        if not 0 < drift_share <= 1:
            raise ValueError("drift_share must be in (0, 1]")
        self.method = method
        self.threshold = threshold
        self.bins = int(bins)
        self.drift_share = float(drift_share)

    def _summarise(self, name: str, series: pd.Series) -> ColumnReference:
        """Reference summary of one column: kind, method and the data scoring needs."""
        values = _values(series)
        kind = column_kind(series)
        method = "auto" if self.method == "auto" else resolve_method(self.method, kind, len(values))
        threshold = None if self.threshold is None else float(self.threshold)
        labels = _labels(values, kind)
        categories = None
        if kind == "categorical" or (method == "auto" and pd.Series(labels).nunique() <= MAX_DISCRETE_VALUES):
            categories = pd.Series(labels).value_counts()
        if kind == "categorical":
            return ColumnReference(name, kind, method, threshold, len(values), categories=categories)
        values = np.sort(values.astype(float))
        edges = quantile_edges(values, self.bins)
        return ColumnReference(name, kind, method, threshold, len(values), sorted_values=values,
                               std=float(np.std(values)), edges=edges,
                               counts=pd.Series(_bin_counts(values, edges)), categories=categories)

    def fit(self, reference: pd.DataFrame, columns=None) -> "DriftDetector":
        """Learn per-column reference summaries (all columns but month/default when ``columns`` is None)."""
        frame = reference if isinstance(reference, pd.DataFrame) else pd.DataFrame({"value": np.asarray(reference)})
        if columns is None:
            columns = [c for c in frame.columns if c not in NON_FEATURE_COLUMNS]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise KeyError(f"reference has no column(s) {missing}")
        self.columns_ = list(columns)
        self.references_ = {c: self._summarise(c, frame[c]) for c in self.columns_}
        return self

    @staticmethod
    def _method_for(ref: ColumnReference, labels: np.ndarray | None) -> str:
        """The method used on this batch: fixed, or Evidently's choice given the batch's values."""
        if ref.method != "auto":
            return ref.method
        if ref.categories is None:  # numeric with more than 5 reference values: more in any batch
            n_values = MAX_DISCRETE_VALUES + 1
        else:
            seen = ref.categories.index if labels is None else ref.categories.index.union(pd.unique(labels))
            n_values = len(seen)
        return evidently_method(ref.kind, ref.n_rows, n_values)

    def _score_column(self, ref: ColumnReference, series: pd.Series) -> tuple[str, float, float]:
        """(method, statistic, p-value or NaN) of one current column against its reference summary."""
        cur = _values(series)
        labels = _labels(cur, ref.kind) if ref.categories is not None else None
        method = self._method_for(ref, labels)
        if method == "ks":
            return method, *_ks(ref.sorted_values, cur.astype(float))
        if method == "wasserstein":
            return method, _wasserstein_normed(ref.sorted_values, cur.astype(float), ref.std), np.nan
        if ref.kind == "categorical" or ref.method == "auto":  # counts per category (value)
            cur_counts = pd.Series(labels).value_counts()
            union = ref.categories.index.union(cur_counts.index)
            r = ref.categories.reindex(union, fill_value=0).to_numpy()
            c = cur_counts.reindex(union, fill_value=0).to_numpy()
        else:  # counts per reference quantile bin
            r, c = ref.counts.to_numpy(), _bin_counts(cur.astype(float), ref.edges)
        if method == "chi2":
            return method, *_chi2_from_counts(r, c)
        if method == "z":
            return method, *_z_from_counts(r, c)
        r, c = r / r.sum(), c / c.sum()
        if method == "psi":
            return method, _psi_from_proportions(r, c, 1e-4), np.nan
        return method, _js_from_proportions(r, c), np.nan

    def score(self, current: pd.DataFrame) -> pd.DataFrame:
        """One row per fitted column: kind, method, statistic, p_value (NaN for distances), threshold, drift."""
        if not hasattr(self, "references_"):
            raise RuntimeError("call fit(reference) before score(current)")
        frame = current if isinstance(current, pd.DataFrame) else pd.DataFrame({"value": np.asarray(current)})
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise KeyError(f"current data has no column(s) {missing}")
        rows = []
        for name in self.columns_:
            ref = self.references_[name]
            if frame[name].notna().any():
                method, statistic, p_value = self._score_column(ref, frame[name])
                threshold = DEFAULT_THRESHOLDS[method] if ref.threshold is None else ref.threshold
                drift = is_drift(method, statistic, p_value, threshold)
            else:  # the column arrives empty: the worst kind of drift
                method = self._method_for(ref, None)
                threshold = DEFAULT_THRESHOLDS[method] if ref.threshold is None else ref.threshold
                statistic, p_value, drift = np.nan, np.nan, True
            rows.append((name, ref.kind, method, float(statistic), float(p_value), threshold, bool(drift)))
        scores = pd.DataFrame(rows, columns=["column", "kind", "method", "statistic", "p_value", "threshold", "drift"])
        return scores.set_index("column").astype({"drift": bool})

    def drift_share_of(self, scores: pd.DataFrame) -> float:
        """Share of scored columns flagged as drifting (0.0 for no columns)."""
        return float(scores["drift"].mean()) if len(scores) else 0.0

    def dataset_drift(self, scores: pd.DataFrame) -> bool:
        """Dataset-level drift: share of drifting columns >= ``drift_share``; a plain Python bool."""
        return bool(len(scores) > 0 and self.drift_share_of(scores) >= self.drift_share)


def detect_data_drift(reference, current, method: str = "auto", threshold: float | None = None,
                      drift_share: float = 0.5) -> bool:
    """Has the data drifted? Fits a DriftDetector on ``reference``, scores ``current``.

    Returns a plain Python ``bool`` (never ``numpy.bool_``), so ``detect_data_drift(...) is True``
    works as well as ``if detect_data_drift(...):``.  Accepts DataFrames (every column except
    month/default) or two 1-D samples.
    """
    detector = DriftDetector(method=method, threshold=threshold, drift_share=drift_share)
    detector.fit(reference)
    return detector.dataset_drift(detector.score(current))
