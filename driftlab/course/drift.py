"""Data-drift statistics and a fit/score drift detector, computed with scipy.

Two families answer two different questions:

* **tests** (``ks``, ``chi2``) ask "could both samples come from the same distribution?" and
  return a p-value.  With enough rows *any* difference is significant (1M rows, a 0.05 SD
  mean shift: KS p ~ 0), so a small p-value says "different", not "different enough to matter".
* **distances** (``psi``, ``jensen_shannon``, ``wasserstein``) measure *how* different the
  samples are (an effect size) and are compared with a fixed threshold.

Drift rules: a test flags drift when ``p_value <= threshold``; a distance when
``statistic >= threshold``.  Default thresholds follow Evidently AI's DataDriftPreset and the
credit-scoring PSI convention (see :data:`DEFAULT_THRESHOLDS`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

TESTS: tuple[str, ...] = ("ks", "chi2")
DISTANCES: tuple[str, ...] = ("psi", "jensen_shannon", "wasserstein")
METHODS: tuple[str, ...] = ("auto",) + TESTS + DISTANCES
#: Tests: significance level alpha.  Distances: Evidently's defaults (Wasserstein normed 0.1,
#: Jensen-Shannon 0.1, PSI 0.1 = the edge of "stable" in the credit-scoring rule of thumb).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "ks": 0.05, "chi2": 0.05, "psi": 0.1, "jensen_shannon": 0.1, "wasserstein": 0.1,
}
#: Evidently switches from tests to distances when the reference has more rows than this.
SMALL_REFERENCE = 1000
#: Numeric columns with at most this many distinct reference values are treated as categorical.
MAX_DISCRETE_VALUES = 5
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
    """Bin counts (numeric: reference quantile bins) or category counts of both samples."""
    ref, cur = _values(reference), _values(current)
    if is_numeric(ref) and is_numeric(cur):
        edges = quantile_edges(ref, bins)
        return _bin_counts(ref.astype(float), edges), _bin_counts(cur.astype(float), edges)
    return _category_counts(ref.astype(str), cur.astype(str))


def _psi_from_proportions(ref: np.ndarray, cur: np.ndarray, eps: float) -> float:
    """PSI = sum((c - r) * ln(c / r)) with empty bins floored to ``eps`` (Evidently's rule)."""
    r = np.where(ref == 0, eps, ref)
    c = np.where(cur == 0, eps, cur)
    return float(np.sum((c - r) * np.log(c / r)))


def _js_from_proportions(ref: np.ndarray, cur: np.ndarray) -> float:
    """Jensen-Shannon *distance* (base 2, in [0, 1]) between two frequency vectors."""
    return float(jensenshannon(ref, cur, base=2))


def _chi2_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Pearson chi-square test of homogeneity on the 2 x K table (no Yates correction)."""
    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:  # one category in total: nothing can differ
        return 0.0, 1.0
    result = chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


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


# --------------------------------------------------------------------------- pure statistics
def ks_test(reference, current) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test (scipy.stats.ks_2samp): (statistic D, p-value)."""
    return _ks(_values(reference).astype(float), _values(current).astype(float))


def chi_square_test(reference, current) -> tuple[float, float]:
    """Chi-square test that two categorical samples share one distribution: (statistic, p-value).

    Uses ``scipy.stats.chi2_contingency(correction=False)`` on the 2 x K table of counts over
    the union of categories: a test of *homogeneity* that treats both samples as random and
    stays finite when a category appears in only one sample (a brand-new region).
    ``scipy.stats.chisquare`` (goodness of fit, Evidently's choice) treats the reference as the
    exact truth and divides by zero on a new category.  Without Yates' correction a 2 x 2
    table gives exactly the squared two-proportion z-test, Evidently's test for binary columns.
    """
    return _chi2_from_counts(*_category_counts(_values(reference).astype(str), _values(current).astype(str)))


def psi(reference, current, bins: int = 10, eps: float = 1e-4) -> float:
    """Population Stability Index: sum over bins of (c - r) * ln(c / r).

    r, c are the reference and current shares per bin: numeric samples use ``bins`` quantile
    bins of the *reference* (open-ended outer edges, so no value falls outside), categorical
    samples one bin per category of the union.  A share of 0 is replaced by ``eps`` so that an
    empty bin gives a large but finite PSI.  Bands: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major.
    """
    ref_counts, cur_counts = _counts(reference, current, bins)
    return _psi_from_proportions(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum(), eps)


def jensen_shannon(reference, current, bins: int = 10) -> float:
    """Jensen-Shannon *distance* (scipy, base 2, 0..1) between binned/categorical frequencies.

    scipy's ``jensenshannon`` returns the distance, the square root of the JS divergence;
    Evidently uses the same distance (base 2) with drift at >= 0.1.  Numeric samples use the
    reference's quantile bins (as :func:`psi`); Evidently bins numeric columns on the combined
    sample instead, so its values differ slightly.
    """
    ref_counts, cur_counts = _counts(reference, current, bins)
    return _js_from_proportions(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())


def wasserstein(reference, current, normed: bool = True) -> float:
    """Wasserstein-1 (earth mover's) distance (scipy), normed by the reference SD as in Evidently.

    Normed, it reads "how many reference standard deviations the mass moved"; Evidently flags
    drift at >= 0.1.  ``normed=False`` returns the distance in the feature's own units.
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
    """True when ``method`` returns a p-value (drift when p <= threshold), not a distance."""
    return method in TESTS


# --------------------------------------------------------------------------- detector
@dataclass(frozen=True)
class ColumnReference:
    """What DriftDetector keeps of one reference column, so scoring never revisits it."""

    name: str
    kind: str  # "numeric" or "categorical"
    method: str
    threshold: float
    sorted_values: np.ndarray | None = None  # numeric: for KS / Wasserstein
    std: float | None = None  # numeric: Wasserstein norm
    edges: np.ndarray | None = None  # numeric: quantile bin edges for PSI / JS / chi2
    counts: pd.Series | None = None  # counts per bin (numeric) or per category (categorical)


def resolve_method(method: str, kind: str, n_reference: int) -> str:
    """The method actually used on a column: Evidently's choice for 'auto', fallbacks otherwise."""
    if method == "auto":
        if n_reference <= SMALL_REFERENCE:
            return "ks" if kind == "numeric" else "chi2"
        return "wasserstein" if kind == "numeric" else "jensen_shannon"
    if kind == "categorical":
        return _CATEGORICAL_FALLBACK.get(method, method)
    return method


class DriftDetector:
    """Per-column drift detector with scikit-learn's split: ``fit`` on reference, ``score`` batches.

    ``method="auto"`` follows the Evidently AI DataDriftPreset defaults: reference <= 1000
    rows -> KS test (numeric) / chi-square test (categorical), drift at p <= 0.05; above 1000
    rows -> Wasserstein distance normed by the reference SD (numeric) / Jensen-Shannon distance
    (categorical), drift at >= 0.1; the dataset drifts when the share of drifting columns is
    >= ``drift_share`` (0.5).  (Evidently uses a z-test for binary categoricals, equivalent to
    our uncorrected chi-square, and treats numeric columns with <= 5 values as categorical, as
    this detector does.)  Other methods: "ks", "chi2", "psi", "jensen_shannon", "wasserstein";
    on a categorical column "ks" falls back to "chi2" and "wasserstein" to "jensen_shannon".
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
        """Reference summary of one column: kind, method, threshold and the data scoring needs."""
        values = _values(series)
        numeric = is_numeric(series) and pd.Series(values).nunique() > MAX_DISCRETE_VALUES
        kind = "numeric" if numeric else "categorical"
        method = resolve_method(self.method, kind, len(values))
        threshold = float(DEFAULT_THRESHOLDS[method] if self.threshold is None else self.threshold)
        if not numeric:
            counts = pd.Series(values.astype(str)).value_counts()
            return ColumnReference(name, kind, method, threshold, counts=counts)
        values = np.sort(values.astype(float))
        edges = quantile_edges(values, self.bins)
        return ColumnReference(name, kind, method, threshold, sorted_values=values,
                               std=float(np.std(values)), edges=edges,
                               counts=pd.Series(_bin_counts(values, edges)))

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

    def _score_column(self, ref: ColumnReference, series: pd.Series) -> tuple[float, float]:
        """(statistic, p-value or NaN) of one current column against its reference summary."""
        cur = _values(series)
        if ref.kind == "categorical":
            cur_counts = pd.Series(cur.astype(str)).value_counts()
            union = ref.counts.index.union(cur_counts.index)
            r = ref.counts.reindex(union, fill_value=0).to_numpy()
            c = cur_counts.reindex(union, fill_value=0).to_numpy()
        else:
            cur = cur.astype(float)
            if ref.method == "ks":
                return _ks(ref.sorted_values, cur)
            if ref.method == "wasserstein":
                return _wasserstein_normed(ref.sorted_values, cur, ref.std), np.nan
            r, c = ref.counts.to_numpy(), _bin_counts(cur, ref.edges)
        if ref.method == "chi2":
            return _chi2_from_counts(r, c)
        r, c = r / r.sum(), c / c.sum()
        if ref.method == "psi":
            return _psi_from_proportions(r, c, 1e-4), np.nan
        return _js_from_proportions(r, c), np.nan

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
                statistic, p_value = self._score_column(ref, frame[name])
                drift = p_value <= ref.threshold if is_test(ref.method) else statistic >= ref.threshold
            else:  # the column arrives empty: the worst kind of drift
                statistic, p_value, drift = np.nan, np.nan, True
            rows.append((name, ref.kind, ref.method, float(statistic), float(p_value), ref.threshold, bool(drift)))
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
