"""A deterministic simulation of the retraining loop: monitor -> decide -> retrain -> validate -> redeploy.

Month by month, the deployed model scores the month's applications; at the end of the month the
true outcomes of that month are known (labels arrive at the month's end: a delay of up to one month),
so the loop can

1. **monitor**: accuracy of the deployed model on the month, a data-quality check, data drift;
2. **decide**: retrain or not, by the policy (never / on a schedule / when accuracy falls to the
   threshold, or when the data drift);
3. **retrain**: fit a challenger on a training window (``sliding``: the last few months;
   ``expanding``: the reference plus every month so far), only on months that passed the
   data-quality gate when the policy has one;
4. **validate**: champion (the deployed model) vs challenger on a held-out *golden set* (the 25 %
   of the newest training month that no model was fitted on), by the policy's gate: a higher
   accuracy (``gate="accuracy"``, the default) or a paired test that says the challenger is better
   (``gate="paired"``: exact McNemar test on the rows where the two models disagree, see
   :func:`paired_comparison`);
5. **redeploy**: the challenger serves the next month if it wins.

Every random draw is seeded (the scenario's months, the splits; the model is a deterministic
logistic regression), so the same scenario and policy always give identical results.  Fits are
cached by training window, so comparing several policies on one scenario costs little more than one.
Results are plain data (:class:`RetrainRun`) for notebooks and plots.

:func:`window_study` repeats monthly retraining on several seeds of one kind of change, so a claim
about training windows is shown with its seed-to-seed spread rather than on one draw.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import binomtest, sem

from driftlab.course.drift import DriftDetector
from driftlab.course.model import make_model, split_holdout
from driftlab.course.simulation import BOUNDS, NUMERIC, TARGET, DriftEvent, Scenario, simulate_month

__all__ = ["Policy", "RetrainRun", "POLICIES", "simulate", "compare", "with_window", "scenario_with",
           "quality_problems", "passes_quality", "PairedComparison", "paired_comparison", "golden_hits",
           "window_study"]

TRIGGERS = ("accuracy", "drift")
WINDOWS = ("sliding", "expanding")
KINDS = ("none", "scheduled", "triggered")
GATES = ("accuracy", "paired")
#: share of the newest training month held out as the golden set (never trained on).
GOLDEN_SHARE = 0.25


@dataclass(frozen=True)
class Policy:
    """When to retrain, on what window, and which gates a new model must pass before it serves."""

    name: str = "triggered"
    kind: str = "triggered"  # "none" | "scheduled" | "triggered"
    every: int = 1  # scheduled: retrain at the end of every ``every``-th month
    trigger: str = "accuracy"  # triggered: "accuracy" (accuracy <= threshold) or "drift"
    threshold: float = 0.85  # retrain when the month's accuracy is at or below this (seed MCQ 4)
    drift_share: float = 0.5  # drift trigger: dataset drift when this share of columns drift
    window: str = "sliding"  # "sliding" (last ``window_months`` months) or "expanding"
    window_months: int = 3
    quality_gate: bool = False  # skip (and never train on) months that fail the data-quality check
    champion_challenger: bool = True  # the challenger must beat the champion on the golden set
    min_gain: float = 0.0  # ... by more than this much accuracy (gate "accuracy")
    gate: str = "accuracy"  # "accuracy": higher golden accuracy wins; "paired": McNemar says better
    alpha: float = 0.05  # gate "paired": significance level of the exact McNemar test

    def __post_init__(self) -> None:
        """Reject settings the simulation cannot honour, with a clear message."""
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.trigger not in TRIGGERS:
            raise ValueError(f"trigger must be one of {TRIGGERS}, not {self.trigger!r}")
        if self.window not in WINDOWS:
            raise ValueError(f"window must be one of {WINDOWS}, not {self.window!r}")
        if self.every < 1 or self.window_months < 1:
            raise ValueError("every and window_months must be at least 1")
        if self.gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, not {self.gate!r}")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")


#: The four policies the course compares.
POLICIES: dict[str, Policy] = {
    "none": Policy(name="never retrain", kind="none"),
    "scheduled": Policy(name="scheduled (monthly)", kind="scheduled", every=1),
    "triggered": Policy(name="triggered (accuracy <= 0.85)", kind="triggered"),
    "gated": Policy(name="triggered + data-quality gate", kind="triggered", quality_gate=True),
}


@dataclass(frozen=True)
class RetrainRun:
    """What one policy did on one scenario, month by month (plain lists, ready to plot)."""

    policy: str
    months: list[int]
    accuracy: list[float]  # accuracy of the model that served each month
    serving: list[int]  # version of the model that served each month (0 = the launch model)
    retrain_months: list[int]  # end of these months a challenger was trained
    promoted_months: list[int]  # ... and won, so it served from the next month
    rejected_months: list[int]  # ... and lost to the champion on the golden set
    quality_failed: list[int]  # months whose data failed the data-quality check
    drift_months: list[int]  # months flagged by the drift detector (computed for a drift trigger only)
    rows_trained: int  # compute cost: rows fitted over the whole run (launch model excluded)
    # champion vs challenger, one record per decision: month, golden_month, champion and challenger
    # accuracy, promoted, n golden rows, only_champion (b), only_challenger (c), McNemar p_value,
    # and both training windows (see golden_hits)
    golden: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_retrains(self) -> int:
        """How many challengers were trained."""
        return len(self.retrain_months)

    @property
    def mean_accuracy(self) -> float:
        """Mean of the monthly accuracies."""
        return float(np.mean(self.accuracy)) if self.accuracy else float("nan")

    @property
    def compute_cost(self) -> float:
        """Compute cost in thousands of rows fitted (a logistic regression's cost grows with rows)."""
        return self.rows_trained / 1000.0

    def summary(self) -> dict[str, Any]:
        """Headline numbers: mean and worst accuracy, retrains, promotions, compute cost."""
        return {"policy": self.policy, "mean_accuracy": round(self.mean_accuracy, 4),
                "worst_accuracy": round(float(min(self.accuracy)), 4) if self.accuracy else float("nan"),
                "retrains": self.n_retrains, "promoted": len(self.promoted_months),
                "compute_cost": round(self.compute_cost, 2)}

    def as_dict(self) -> dict[str, Any]:
        """Everything as plain Python data (e.g. for JSON)."""
        return asdict(self)


# --------------------------------------------------------------------------- data, cached
def _key(scenario: Scenario) -> tuple:
    """A hashable identity of a scenario (its events are frozen dataclasses)."""
    return (int(scenario.seed), int(scenario.n_reference), int(scenario.n_per_month), tuple(scenario.events))


def _shared(key: tuple, months: Sequence[int]) -> tuple:
    """The key to cache ``months`` under: the bank without events when no event touches any of them.

    A month no event is active in is drawn exactly as in a world without events (the random streams
    depend on the seed and the month only), so scenarios of one seed share those months, their
    splits, and models trained only on them (the reference and the launch model among them).
    """
    events = key[3]
    if events and all(e.level(m) == 0 for e in events for m in months if m > 0):
        return (*key[:3], ())
    return key


@lru_cache(maxsize=512)
def _month(key: tuple, month: int) -> pd.DataFrame:
    """One month of a scenario (month 0 = the reference sample)."""
    if (shared := _shared(key, (month,))) != key:
        return _month(shared, month)
    seed, n_reference, n_per_month, events = key
    if month == 0:
        return simulate_month(seed, 0, n_reference, ())
    return simulate_month(seed, month, n_per_month, events)


@lru_cache(maxsize=512)
def _split(key: tuple, month: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training part, golden part) of a month, split with a seed that depends on the month only."""
    if (shared := _shared(key, (month,))) != key:
        return _split(shared, month)
    return split_holdout(_month(key, month), frac=GOLDEN_SHARE, seed=1000 + int(month))


# The loop fits many small models. The pipeline's column bookkeeping (pandas in, ColumnTransformer
# out) costs more than the fits themselves, so each month is turned into arrays once, and a model is
# the course's pipeline taken apart: clones of its column transformers, each fitted on its columns'
# array, and a clone of its classifier fitted on their stacked (dense) output. Same matrix, same fit,
# same predictions as ``train_model`` (tests/unit/test_retraining.py checks it), in about half the time.
@lru_cache(maxsize=1)
def _pipeline_parts() -> tuple[list[tuple[Any, tuple[str, ...]]], Any]:
    """([(transformer, columns), ...], classifier) of the course's unfitted model (driftlab.course.model)."""
    template = make_model()
    columns = template.named_steps["columns"]
    return [(est, tuple(cols)) for _, est, cols in columns.transformers], template.steps[-1][1]


@lru_cache(maxsize=512)
def _arrays(key: tuple, month: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """A month as arrays: one per transformer of the model (its columns, in row order), and the labels."""
    if (shared := _shared(key, (month,))) != key:
        return _arrays(shared, month)
    frame = _month(key, month)
    return tuple(frame[list(cols)].to_numpy() for _, cols in _pipeline_parts()[0]), frame[TARGET].to_numpy()


def _transform(transformer: Any, block: np.ndarray) -> np.ndarray:
    """A fitted transformer's output on its columns, as a dense array.

    The course's two transformers are applied directly, with the very arithmetic of their
    ``transform`` (a scaler subtracts the mean and divides by the scale; a one-hot encoder that
    ignores unknown categories compares each value with its sorted categories), because sklearn's
    per-call checks cost more than the arithmetic; any other transformer goes through ``transform``.
    """
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if type(transformer) is StandardScaler and transformer.with_mean and transformer.with_std:
        return (block - transformer.mean_) / transformer.scale_
    if (type(transformer) is OneHotEncoder and transformer.drop is None and transformer.handle_unknown == "ignore"
            and transformer.min_frequency is None and transformer.max_categories is None):
        return np.hstack([(block[:, [j]] == np.asarray(cats)[None, :]).astype(float)
                          for j, cats in enumerate(transformer.categories_)])
    out = transformer.transform(block)
    return out.toarray() if hasattr(out, "toarray") else np.asarray(out, dtype=float)


def _design(transformers: list[Any], blocks: tuple[np.ndarray, ...]) -> np.ndarray:
    """The classifier's input: each fitted transformer's output on its columns, stacked as a dense matrix."""
    return np.hstack([_transform(t, b) for t, b in zip(transformers, blocks)])


@lru_cache(maxsize=512)
def _fit(key: tuple, months: tuple[int, ...]) -> tuple[list[Any], Any]:
    """The model fitted on the training parts of ``months`` (month 0: the whole reference): (transformers, classifier)."""
    from sklearn.base import clone

    if (shared := _shared(key, months)) != key:
        return _fit(shared, months)
    specs, classifier = _pipeline_parts()
    parts = []
    for m in months:
        blocks, y = _arrays(key, m)
        rows = np.arange(len(y)) if m == 0 else _split(key, m)[0].index.to_numpy()  # as _training_frame
        parts.append((tuple(b[rows] for b in blocks), y[rows]))
    blocks = tuple(np.concatenate([p[0][i] for p in parts]) for i in range(len(specs)))
    transformers = [clone(est).fit(b) for (est, _), b in zip(specs, blocks)]
    model = clone(classifier).fit(_design(transformers, blocks), np.concatenate([p[1] for p in parts]))
    return transformers, model


@lru_cache(maxsize=4096)
def _correct(key: tuple, window: tuple[int, ...], month: int) -> pd.Series:
    """Whether the model fitted on ``window`` is right on each row of ``month`` (one prediction per row)."""
    if (shared := _shared(key, (*window, month))) != key:
        return _correct(shared, window, month)
    transformers, model = _fit(key, window)
    blocks, y = _arrays(key, month)
    return pd.Series(model.predict(_design(transformers, blocks)) == y, index=_month(key, month).index)


def _score(key: tuple, window: tuple[int, ...], month: int, part: str) -> float:
    """Accuracy of the model fitted on ``window`` on a month ("all") or on its golden part ("golden")."""
    hits = _correct(key, window, month)
    if part == "golden":
        hits = hits.loc[_split(key, month)[1].index]
    return float(hits.mean())


def _training_frame(key: tuple, window: tuple[int, ...]) -> pd.DataFrame:
    """The rows a model fitted on ``window`` learned from."""
    return pd.concat([_month(key, 0) if m == 0 else _split(key, m)[0] for m in window], ignore_index=True)


@lru_cache(maxsize=64)
def _detector(key: tuple, window: tuple[int, ...], drift_share: float) -> DriftDetector:
    """A drift detector fitted on the training data of the model fitted on ``window``."""
    return DriftDetector(drift_share=drift_share).fit(_training_frame(key, window))


@lru_cache(maxsize=4096)
def _drifted(key: tuple, window: tuple[int, ...], month: int, drift_share: float) -> bool:
    """Dataset drift of a month against the training data of the model fitted on ``window``."""
    detector = _detector(key, window, drift_share)
    return detector.dataset_drift(detector.score(_month(key, month)))


def quality_problems(frame: pd.DataFrame, bounds: dict[str, tuple[float, float]] | None = None) -> dict[str, float]:
    """Share of rows per numeric column that are missing or outside the column's valid range."""
    bounds = BOUNDS if bounds is None else bounds
    present = [name for name in NUMERIC if name in frame]
    if len(frame) == 0:
        return {name: 1.0 for name in NUMERIC}
    # one float block (text that is not a number becomes NaN, as pd.to_numeric(errors="coerce") would);
    # columns that are numbers already skip the per-column conversion (the retraining loop calls this monthly)
    columns = frame[present]
    if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in columns.dtypes):
        columns = columns.apply(pd.to_numeric, errors="coerce")
    block = columns.to_numpy(dtype=float)
    low, high = (np.array([bounds[name][i] for name in present], dtype=float) for i in (0, 1))
    with np.errstate(invalid="ignore"):
        bad = (np.isnan(block) | (block < low) | (block > high)).mean(axis=0)
    return {name: float(bad[present.index(name)]) if name in present else 1.0 for name in NUMERIC}


def passes_quality(frame: pd.DataFrame, max_bad_share: float = 0.01) -> bool:
    """The data-quality gate: at most ``max_bad_share`` of rows missing or out of range, per column."""
    return bool(max(quality_problems(frame).values()) <= max_bad_share)


# --------------------------------------------------------------------------- champion vs challenger
@dataclass(frozen=True)
class PairedComparison:
    """Champion vs challenger scored on the *same* golden rows (a paired comparison).

    ``only_champion`` (often called *b*) and ``only_challenger`` (*c*) are the discordant pairs: rows
    exactly one of the two models got right. Rows both got right, or both got wrong, say nothing
    about which model is better, so the tests use b and c only.
    """

    n: int  # golden rows
    champion_accuracy: float
    challenger_accuracy: float
    only_champion: int  # b: rows the champion got right and the challenger wrong
    only_challenger: int  # c: rows the challenger got right and the champion wrong
    se: float  # standard error of the accuracy difference (paired: SE of the mean per-row difference)
    p_value: float  # exact McNemar test, two-sided (binomial test of c out of b + c at 1/2)
    ci_low: float  # paired bootstrap percentile interval of the accuracy difference
    ci_high: float
    confidence: float  # of the bootstrap interval

    @property
    def difference(self) -> float:
        """Challenger accuracy minus champion accuracy (equals (c - b) / n)."""
        return self.challenger_accuracy - self.champion_accuracy

    def challenger_better(self, alpha: float = 0.05) -> bool:
        """The paired gate: the challenger wins more disagreements *and* McNemar's p-value is below ``alpha``."""
        return bool(self.only_challenger > self.only_champion and self.p_value < alpha)

    def as_dict(self) -> dict[str, Any]:
        """Plain Python data, with the difference."""
        return asdict(self) | {"difference": self.difference}


def _hits(values: Any, name: str) -> np.ndarray:
    """A 1-D boolean array of per-row hits (True = the model got that row right)."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one entry per golden row)")
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must hold booleans (or 0/1): whether the model got each row right")
    return array.astype(bool)


def _mcnemar(champion: np.ndarray, challenger: np.ndarray) -> tuple[int, int, float]:
    """(b, c, two-sided exact McNemar p-value) for two boolean hit arrays; p = 1 without discordant rows."""
    b = int(np.count_nonzero(champion & ~challenger))
    c = int(np.count_nonzero(challenger & ~champion))
    return b, c, (float(binomtest(c, b + c, 0.5).pvalue) if b + c else 1.0)


def paired_comparison(champion_correct: Sequence[bool] | np.ndarray, challenger_correct: Sequence[bool] | np.ndarray,
                      *, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> PairedComparison:
    """Compare two models on the same golden rows: McNemar's exact test, the paired SE and a bootstrap interval.

    ``champion_correct[i]`` and ``challenger_correct[i]`` say whether each model got golden row ``i``
    right. Because both models are scored on the same rows, the comparison is *paired*:

    * the per-row difference is ``d_i = challenger_i - champion_i`` (-1, 0 or +1); its mean is the
      accuracy difference and its standard error (``scipy.stats.sem``, ddof = 1) the SE of that
      difference, smaller than the unpaired ``sqrt(p1 q1 / n + p2 q2 / n)`` whenever the two models
      agree on most rows;
    * McNemar's test (McNemar 1947) in its exact form: under "equally good", each of the ``b + c``
      discordant rows is equally likely to favour either model, so ``c`` is Binomial(b + c, 1/2)
      (``scipy.stats.binomtest``, two-sided); with no discordant rows the p-value is 1. Dietterich
      (1998) recommends McNemar's test for comparing two classifiers on one test set;
    * a paired bootstrap percentile interval (Efron & Tibshirani 1993): golden rows are resampled
      with replacement, *both* models' results for a row together, ``n_boot`` times with a
      ``numpy.random.default_rng(seed)`` generator (vectorised: one ``n_boot`` x ``n`` index draw).
    """
    champion, challenger = _hits(champion_correct, "champion_correct"), _hits(challenger_correct, "challenger_correct")
    if champion.shape != challenger.shape:
        raise ValueError("both models must be scored on the same golden rows (same length)")
    n = int(champion.size)
    if n < 2:
        raise ValueError("a paired comparison needs at least two golden rows")
    if not 0 < confidence < 1 or int(n_boot) < 1:
        raise ValueError("confidence must be between 0 and 1 and n_boot at least 1")
    only_champion, only_challenger, p_value = _mcnemar(champion, challenger)
    diff = challenger.astype(np.int8) - champion.astype(np.int8)
    rows = np.random.default_rng(seed).integers(0, n, size=(int(n_boot), n))
    boot = diff[rows].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(boot, [tail, 1 - tail])
    return PairedComparison(n=n, champion_accuracy=float(champion.mean()), challenger_accuracy=float(challenger.mean()),
                            only_champion=only_champion, only_challenger=only_challenger, se=float(sem(diff)),
                            p_value=p_value, ci_low=float(low), ci_high=float(high), confidence=float(confidence))


def _golden_hits(key: tuple, window: tuple[int, ...], month: int) -> np.ndarray:
    """Per-row hits of the model fitted on ``window`` on the golden part of ``month`` (fixed row order)."""
    return _correct(key, window, month).loc[_split(key, month)[1].index].to_numpy(dtype=bool)


def golden_hits(scenario: Scenario, record: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(champion, challenger) per-row hits on the golden rows of one decision of a run.

    ``record`` is an entry of :attr:`RetrainRun.golden` (it names the golden month and both models'
    training windows); the arrays are aligned row by row, ready for :func:`paired_comparison`.
    """
    key = _key(scenario)
    month = int(record["golden_month"])
    return (_golden_hits(key, tuple(record["champion_window"]), month),
            _golden_hits(key, tuple(record["challenger_window"]), month))


# --------------------------------------------------------------------------- the loop
def _window(policy: Policy, month: int, usable: list[int]) -> tuple[int, ...]:
    """Months a challenger trained at the end of ``month`` learns from."""
    seen = [m for m in usable if m <= month]
    if policy.window == "expanding":
        return (0, *seen)
    return tuple(seen[-policy.window_months:])


def _decide(policy: Policy, month: int, accuracy: float, drifted: bool) -> bool:
    """The policy's decision at the end of ``month``."""
    if policy.kind == "none":
        return False
    if policy.kind == "scheduled":
        return month % policy.every == 0
    if policy.trigger == "drift":
        return drifted
    return accuracy <= policy.threshold


def simulate(scenario: Scenario | None = None, policy: Policy | str = "triggered") -> RetrainRun:
    """Run the retraining loop of ``policy`` over the scenario's production months."""
    with _fast_fits():
        return _simulate(scenario, policy)


@contextmanager
def _fast_fits() -> Iterator[None]:
    """One BLAS thread while fitting, and scikit-learn's per-call input checks off: the fits are tiny, so
    threads only contend and the checks (of arrays this module builds itself) cost more than the arithmetic."""
    from sklearn import config_context
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), config_context(assume_finite=True, skip_parameter_validation=True):
        yield


def _simulate(scenario: Scenario | None, policy: Policy | str) -> RetrainRun:
    """The loop itself (see :func:`simulate`)."""
    scenario = scenario or Scenario()
    if isinstance(policy, str):
        policy = POLICIES[policy]
    key = _key(scenario)
    months = list(range(1, int(scenario.months) + 1))
    champion_window: tuple[int, ...] = (0,)
    version, usable = 0, []
    accuracy, serving, retrained, promoted, rejected, failed, drifted, golden = [], [], [], [], [], [], [], []
    rows = 0
    for month in months:
        batch = _month(key, month)
        acc = _score(key, champion_window, month, "all")  # monitor: how the deployed model did
        accuracy.append(acc)
        serving.append(version)
        ok = passes_quality(batch)
        if not ok:
            failed.append(month)
        drift = False
        if policy.kind == "triggered" and policy.trigger == "drift":  # only a drift trigger needs it
            drift = _drifted(key, champion_window, month, float(policy.drift_share))
            if drift:
                drifted.append(month)
        if ok or not policy.quality_gate:
            usable.append(month)
        if month == months[-1]:
            break  # a model trained now would serve no one
        if not _decide(policy, month, acc, drift) or (policy.quality_gate and not ok):
            continue
        window = _window(policy, month, usable)
        if not window or window == champion_window:
            continue
        retrained.append(month)
        rows += len(_training_frame(key, window))
        gold_month = window[-1] if window[-1] != 0 else month
        champ_acc = _score(key, champion_window, gold_month, "golden")
        chall_acc = _score(key, window, gold_month, "golden")
        champ_hits, chall_hits = _golden_hits(key, champion_window, gold_month), _golden_hits(key, window, gold_month)
        b, c, p_value = _mcnemar(champ_hits, chall_hits)  # as in paired_comparison
        if not policy.champion_challenger:
            wins = True
        elif policy.gate == "paired":
            wins = c > b and p_value < policy.alpha
        else:
            wins = chall_acc > champ_acc + policy.min_gain
        golden.append({"month": month, "golden_month": gold_month, "champion": champ_acc,
                       "challenger": chall_acc, "promoted": bool(wins), "n": int(champ_hits.size),
                       "only_champion": b, "only_challenger": c, "p_value": p_value,
                       "champion_window": list(champion_window), "challenger_window": list(window)})
        if wins:
            champion_window, version = window, version + 1
            promoted.append(month)
        else:
            rejected.append(month)
    return RetrainRun(policy=policy.name, months=months, accuracy=accuracy, serving=serving,
                      retrain_months=retrained, promoted_months=promoted, rejected_months=rejected,
                      quality_failed=failed, drift_months=drifted, rows_trained=int(rows), golden=golden)


def compare(scenario: Scenario | None = None, policies: Sequence[Policy | str] | None = None) -> pd.DataFrame:
    """Headline table, one row per policy: mean/worst accuracy, retrains, promotions, compute cost."""
    scenario = scenario or Scenario()
    policies = list(policies) if policies is not None else list(POLICIES)
    return pd.DataFrame([simulate(scenario, p).summary() for p in policies]).set_index("policy")


def with_window(policy: Policy | str, window: str, window_months: int = 3) -> Policy:
    """A copy of ``policy`` that trains on another window (its name says which)."""
    base = POLICIES[policy] if isinstance(policy, str) else policy
    label = f"{window} ({window_months} months)" if window == "sliding" else "expanding"
    return replace(base, window=window, window_months=window_months, name=f"{base.name}, {label}")


def scenario_with(events: Sequence[DriftEvent], seed: int = 0, months: int = 12, n_per_month: int = 1000) -> Scenario:
    """A scenario with the given events (same applicants as the default scenario for the same seed)."""
    return Scenario(seed=seed, n_per_month=n_per_month, months=months, events=tuple(events))


def _served_windows(kind: str, window_months: int, months: int) -> list[tuple[int, ...]]:
    """Training window of the model serving each month 1..``months`` under monthly retraining, no gate.

    ``kind`` "none": the launch model throughout; "sliding": the last ``window_months`` months before
    the month; "expanding": the reference plus every month before it (as :func:`simulate` builds them).
    """
    if kind == "none":
        return [(0,)] * months
    served = [(0,)]
    for month in range(1, months):  # retrained at the end of ``month``, serves ``month + 1``
        seen = list(range(1, month + 1))
        served.append((0, *seen) if kind == "expanding" else tuple(seen[-window_months:]))
    return served


def window_study(events: Sequence[DriftEvent], seeds: Sequence[int] = range(5),
                 windows: Mapping[str, tuple[str, int]] | None = None, months: int = 8,
                 n_per_month: int = 1000) -> pd.DataFrame:
    """Mean monthly accuracy of monthly retraining on several training windows, for several seeds.

    ``windows`` maps a label to ``(kind, window_months)``, kind "none" (never retrain), "sliding" or
    "expanding" (default: never, sliding 1 month, expanding). Each seed is the same kind of change
    (``events``) on other applicants (``scenario_with(events, seed)``). A model is retrained at the
    end of every month and always serves the next one (no champion/challenger gate), so each row
    equals ``simulate(...).mean_accuracy`` of the matching scheduled policy with
    ``champion_challenger=False``. Returns one row per seed and window: seed, window, mean_accuracy.
    """
    windows = dict(windows) if windows is not None else {"never retrain": ("none", 1), "sliding, 1 month": ("sliding", 1),
                                                         "expanding": ("expanding", 1)}
    for label, (kind, size) in windows.items():
        if kind not in ("none", *WINDOWS) or int(size) < 1:
            raise ValueError(f"window {label!r}: kind must be 'none', 'sliding' or 'expanding' and months >= 1")
    rows = []
    with _fast_fits():
        for seed in seeds:
            key = _key(scenario_with(events, seed=int(seed), months=months, n_per_month=n_per_month))
            for label, (kind, size) in windows.items():
                served = _served_windows(kind, int(size), int(months))
                accuracy = [_score(key, window, month, "all") for month, window in enumerate(served, start=1)]
                rows.append({"seed": int(seed), "window": label, "mean_accuracy": float(np.mean(accuracy))})
    return pd.DataFrame(rows)
