"""The course's running scenario: a bank's loan-default model meets a changing world.

Every month the bank scores ``n_per_month`` loan applications.  The model was trained
on a *reference* sample (month 0).  :class:`DriftEvent` objects describe how production
data departs from it, one kind of change per event:

``covariate``     P(X) changes, P(Y|X) does not (incomes rise).
``new_category``  a category never seen in training appears (a new "online" region).
``concept``       P(Y|X) changes, P(X) does not (a lending policy changes who defaults).
``unit_bug``      the *recorded* value is wrong, the world is not (income logged in dollars).
``label_shift``   P(Y) changes, P(X|Y) does not (the default rate rises).

All randomness comes from ``numpy.random.SeedSequence((seed, month))``, so a month's batch
is identical on every call, in every process, whatever order the months are requested in.
The features, the event draws and the label draws use separate child streams, so two
scenarios that differ only by a concept change contain the very same applicants.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

NUMERIC: tuple[str, ...] = ("income", "age", "loan_amount", "credit_score", "debt_to_income")
CATEGORICAL: tuple[str, ...] = ("region", "employment")
FEATURES: tuple[str, ...] = NUMERIC + CATEGORICAL
TARGET = "default"
MONTH = "month"

REGIONS: tuple[str, ...] = ("north", "south", "east", "west")
REGION_P = (0.30, 0.25, 0.25, 0.20)
EMPLOYMENT: tuple[str, ...] = ("salaried", "self_employed", "contract")
EMPLOYMENT_P = (0.65, 0.20, 0.15)
CATEGORIES: dict[str, tuple[str, ...]] = {"region": REGIONS, "employment": EMPLOYMENT}

KINDS = frozenset({"covariate", "new_category", "concept", "unit_bug", "label_shift"})
RAMPS = frozenset({"sudden", "gradual", "recurring"})

# Generating process (income and loan_amount in thousands of $ per year / of $).
_INCOME_MEDIAN, _INCOME_LOG_SD = 55.0, 0.40
_LOAN_MEDIAN, _LOAN_INCOME_ELASTICITY, _LOAN_LOG_SD = 16.0, 0.5, 0.45
_AGE_MEAN, _AGE_SD = 42.0, 12.0
_SCORE_MEAN, _SCORE_SD = 680.0, 70.0
_DTI_A, _DTI_B = 2.0, 5.0
_DTI_MEAN = _DTI_A / (_DTI_A + _DTI_B)
_DTI_SD = float(np.sqrt(_DTI_A * _DTI_B / ((_DTI_A + _DTI_B) ** 2 * (_DTI_A + _DTI_B + 1))))
_LTI_SD = float(np.hypot(_LOAN_LOG_SD, (1 - _LOAN_INCOME_ELASTICITY) * _INCOME_LOG_SD))

#: valid range of each numeric feature; covariate shifts are clipped to it.
BOUNDS: dict[str, tuple[float, float]] = {
    "income": (5.0, 1000.0),
    "age": (21.0, 75.0),
    "loan_amount": (1.0, 500.0),
    "credit_score": (300.0, 850.0),
    "debt_to_income": (0.0, 1.0),
}
#: one "standard deviation" of each numeric feature, the unit of a covariate shift
#: (on the log scale for the log-normal money columns, so values stay positive).
SHIFT_SD: dict[str, float] = {
    "income": _INCOME_LOG_SD,
    "age": _AGE_SD,
    "loan_amount": _LOAN_LOG_SD,
    "credit_score": _SCORE_SD,
    "debt_to_income": _DTI_SD,
}
_LOG_SCALE = frozenset({"income", "loan_amount"})
_DECIMALS = {"income": 1, "age": 0, "loan_amount": 1, "credit_score": 0, "debt_to_income": 3}
_INTEGER = frozenset({"age", "credit_score"})

# True risk: log-odds of default = intercept + sum(weight * standardised driver) + category effects.
# A concept change re-weights the drivers; P(X) is untouched.
INTERCEPT = -3.5
RISK_WEIGHTS: dict[str, float] = {
    "credit_score": -2.8,  # low score -> higher risk
    "debt_to_income": 1.2,  # high DTI -> higher risk
    "loan_to_income": 0.6,  # big loan relative to income -> higher risk
    "age": -0.4,  # younger borrowers slightly riskier
}
REGION_EFFECT = {"north": 0.0, "south": 0.15, "east": -0.10, "west": 0.05}
EMPLOYMENT_EFFECT = {"salaried": 0.0, "self_employed": 0.3, "contract": 0.5}
_RISK_DRIVER = {name: name for name in RISK_WEIGHTS} | {"income": "loan_to_income", "loan_amount": "loan_to_income"}


@dataclass(frozen=True)
class DriftEvent:
    """One change between the training data and production, switched on from month ``start``.

    ``magnitude`` means, by kind:
      covariate     mean shift in reference SDs (numeric; log scale for income and loan_amount),
                    or the share of rows moved to ``category`` (categorical, 0..1);
      new_category  extra log-odds of default for rows in the new category (0 = same risk);
      concept       how far the policy change has gone, 0..1 (1 = ``feature`` fully swaps its
                    weight with ``partner``, default the strongest driver, credit_score);
      unit_bug      share of rows affected (1 = every row); the recorded value is times ``factor``;
      label_shift   change in the default rate, in probability (0.10 = ten points more defaults
                    than the month would otherwise have).
    ``ramp``: "sudden" (full from ``start``), "gradual" (linear over ``duration`` months) or
    "recurring" (on for ``period`` months, off for ``period`` months, ...); ``end`` is the last
    affected month (None = never ends).
    """

    kind: str
    feature: str
    start: int = 1
    magnitude: float = 1.0
    ramp: str = "sudden"
    duration: int = 1
    period: int = 1
    end: int | None = None
    category: str | None = None
    share: float = 0.1
    factor: float = 1.0
    partner: str | None = None

    def __post_init__(self) -> None:
        """Reject events the simulator cannot honour, with a message that says why."""
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {self.kind!r}")
        if self.ramp not in RAMPS:
            raise ValueError(f"ramp must be one of {sorted(RAMPS)}, not {self.ramp!r}")
        if int(self.start) < 1:
            raise ValueError("start must be a production month (>= 1); month 0 is the reference")
        if self.end is not None and self.end < self.start:
            raise ValueError("end must not come before start")
        if self.duration < 1 or self.period < 1:
            raise ValueError("duration and period must be at least 1 month")
        numeric_only = {"concept", "unit_bug"}
        if self.kind == "label_shift":
            return
        if self.feature not in FEATURES:
            raise ValueError(f"feature must be one of {FEATURES}, not {self.feature!r}")
        if self.kind in numeric_only and self.feature not in NUMERIC:
            raise ValueError(f"a {self.kind} event needs a numeric feature, not {self.feature!r}")
        if self.kind == "new_category":
            if self.feature not in CATEGORICAL:
                raise ValueError("a new_category event needs a categorical feature")
            if not self.category or self.category in CATEGORIES[self.feature]:
                raise ValueError(f"new_category needs a category not already in {self.feature}")
            if not 0 <= self.share <= 1:
                raise ValueError("share must be between 0 and 1")
        if self.kind == "concept":
            partner = self.partner or "credit_score"
            if _RISK_DRIVER[self.feature] == _RISK_DRIVER.get(partner, partner):
                raise ValueError("a concept change needs two different risk drivers to swap")

    def level(self, month: int) -> float:
        """How far the event is switched on in ``month``: 0 (off) to 1 (full), from its ramp."""
        if month < self.start or (self.end is not None and month > self.end):
            return 0.0
        elapsed = month - self.start
        if self.ramp == "gradual":
            return min(1.0, (elapsed + 1) / self.duration)
        if self.ramp == "recurring":
            return 1.0 if (elapsed // self.period) % 2 == 0 else 0.0
        return 1.0


def default_events() -> tuple[DriftEvent, ...]:
    """The course story: incomes rise, an online region opens, a policy changes, a unit bug."""
    return (
        DriftEvent("covariate", "income", start=3, magnitude=0.6, ramp="gradual", duration=6),
        DriftEvent("new_category", "region", start=6, magnitude=0.5, category="online", share=0.15),
        DriftEvent("concept", "debt_to_income", start=8, magnitude=1.0, partner="credit_score"),
        DriftEvent("unit_bug", "income", start=11, end=11, factor=1000.0),
    )


def no_drift() -> tuple[DriftEvent, ...]:
    """No events: production looks like the reference (a control for false alarms)."""
    return ()


def _months_text(event: DriftEvent) -> str:
    """'In month 11 only' / 'From month 3 to 5' / 'From month 8' for an event."""
    if event.end == event.start:
        return f"In month {event.start} only"
    if event.end is not None:
        return f"From month {event.start} to {event.end}"
    return f"From month {event.start}"


def _ramp_text(event: DriftEvent) -> str:
    """Plain words for an event's ramp."""
    if event.ramp == "gradual" and event.duration > 1:
        return f", building up gradually over {event.duration} months"
    if event.ramp == "recurring":
        return f", switching on and off every {event.period} month(s)"
    return ""


def describe(events: tuple[DriftEvent, ...] | list[DriftEvent]) -> list[str]:
    """One plain-English line per event, so a notebook can print what is about to happen."""
    lines = []
    for e in events:
        when, ramp = _months_text(e), _ramp_text(e)
        if e.kind == "covariate" and e.feature in NUMERIC:
            direction = "rises" if e.magnitude >= 0 else "falls"
            size = f"{abs(e.magnitude):g} standard deviations"
            if e.feature in _LOG_SCALE:
                size += f" of log {e.feature} ({np.exp(e.magnitude * SHIFT_SD[e.feature]) - 1:+.0%})"
            text = (f"{when}, {e.feature} {direction} by {size}{ramp} "
                    f"(covariate shift: P(X) changes, P(Y|X) does not).")
        elif e.kind == "covariate":
            target = e.category or CATEGORIES[e.feature][-1]
            text = (f"{when}, {abs(e.magnitude):.0%} of {e.feature} values move to {target!r}{ramp} "
                    f"(covariate shift: P(X) changes, P(Y|X) does not).")
        elif e.kind == "new_category":
            text = (f"{when}, a new {e.feature} {e.category!r} appears in {e.share:.0%} of applications{ramp}"
                    f" - a category the model never saw in training (risk {e.magnitude:+g} log-odds).")
        elif e.kind == "concept":
            partner = e.partner or "credit_score"
            how = "swaps" if abs(e.magnitude) >= 1 else f"goes {abs(e.magnitude):.0%} of the way to swapping"
            text = (f"{when}, a policy change {how} the weight of {e.feature} and {partner} in who "
                    f"defaults{ramp} (concept shift: P(Y|X) changes, P(X) does not).")
        elif e.kind == "unit_bug":
            share = "" if e.magnitude >= 1 else f" for {e.magnitude:.0%} of rows"
            text = (f"{when}, a pipeline bug records {e.feature} multiplied by {e.factor:g}{share}{ramp} "
                    f"- a data-quality bug: the data changes, the world does not.")
        else:
            direction = "rises" if e.magnitude >= 0 else "falls"
            text = (f"{when}, the default rate {direction} by {abs(e.magnitude) * 100:g} percentage points{ramp} "
                    f"(label shift: P(Y) changes, P(X|Y) does not).")
        lines.append(text)
    return lines


def _draw_features(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw ``n`` applicants from the reference population (true values, unrounded)."""
    log_income = rng.normal(np.log(_INCOME_MEDIAN), _INCOME_LOG_SD, n)
    log_loan = (np.log(_LOAN_MEDIAN) + _LOAN_INCOME_ELASTICITY * (log_income - np.log(_INCOME_MEDIAN))
                + rng.normal(0.0, _LOAN_LOG_SD, n))
    return {
        "income": np.exp(log_income),
        "age": rng.normal(_AGE_MEAN, _AGE_SD, n),
        "loan_amount": np.exp(log_loan),
        "credit_score": rng.normal(_SCORE_MEAN, _SCORE_SD, n),
        "debt_to_income": rng.beta(_DTI_A, _DTI_B, n),
        "region": np.asarray(REGIONS, dtype=object)[rng.choice(len(REGIONS), n, p=REGION_P)],
        "employment": np.asarray(EMPLOYMENT, dtype=object)[rng.choice(len(EMPLOYMENT), n, p=EMPLOYMENT_P)],
    }


def _shift_numeric(values: np.ndarray, feature: str, amount: float) -> np.ndarray:
    """Move a numeric feature by ``amount`` reference SDs (multiplicatively for money columns)."""
    step = amount * SHIFT_SD[feature]
    shifted = values * np.exp(step) if feature in _LOG_SCALE else values + step
    return shifted


def _finish(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Clip numeric features to their valid range and round them as a bank would record them."""
    out = dict(columns)
    for name in NUMERIC:
        low, high = BOUNDS[name]
        values = np.round(np.clip(out[name], low, high), _DECIMALS[name])
        out[name] = values.astype(np.int64) if name in _INTEGER else values
    return out


def _apply_covariate(cols: dict, event: DriftEvent, level: float, rng: np.random.Generator) -> None:
    """Covariate shift: change P(X) of one feature, in place, before the labels are drawn."""
    if event.feature in NUMERIC:
        cols[event.feature] = _shift_numeric(cols[event.feature], event.feature, event.magnitude * level)
        return
    target = event.category or CATEGORIES[event.feature][-1]
    moved = rng.random(len(cols[event.feature])) < abs(event.magnitude) * level
    cols[event.feature] = np.where(moved, target, cols[event.feature]).astype(object)


def _apply_new_category(cols: dict, event: DriftEvent, level: float, rng: np.random.Generator) -> None:
    """A category unseen in training takes ``share`` of the rows (in place)."""
    moved = rng.random(len(cols[event.feature])) < event.share * level
    cols[event.feature] = np.where(moved, event.category, cols[event.feature]).astype(object)


def _risk_weights(events: tuple[DriftEvent, ...], month: int) -> dict[str, float]:
    """The true P(Y|X) weights in ``month``: the reference weights after any policy (concept) change."""
    weights = dict(RISK_WEIGHTS)
    for e in events:
        level = e.level(month)
        if e.kind != "concept" or level == 0:
            continue
        a, b = _RISK_DRIVER[e.feature], _RISK_DRIVER[e.partner or "credit_score"]
        wa, wb = weights[a], weights[b]
        # Swap the *sizes* of the two weights, keep their signs: a policy can make DTI matter
        # more than score, but it cannot make a good credit score risky.
        t = min(1.0, abs(e.magnitude) * level)
        weights[a] = np.sign(wa) * ((1 - t) * abs(wa) + t * abs(wb))
        weights[b] = np.sign(wb) * ((1 - t) * abs(wb) + t * abs(wa))
    return weights


def _log_odds(cols: dict, weights: dict[str, float], extra_effects: dict[str, dict[str, float]]) -> np.ndarray:
    """True log-odds of default from the *true* feature values."""
    drivers = {
        "credit_score": (cols["credit_score"] - _SCORE_MEAN) / _SCORE_SD,
        "debt_to_income": (cols["debt_to_income"] - _DTI_MEAN) / _DTI_SD,
        "loan_to_income": (np.log(cols["loan_amount"] / cols["income"])
                           - np.log(_LOAN_MEDIAN / _INCOME_MEDIAN)) / _LTI_SD,
        "age": (cols["age"] - _AGE_MEAN) / _AGE_SD,
    }
    logit = INTERCEPT + sum(weights[name] * drivers[name] for name in weights)
    for feature, base in (("region", REGION_EFFECT), ("employment", EMPLOYMENT_EFFECT)):
        effects = base | extra_effects.get(feature, {})
        logit = logit + pd.Series(cols[feature]).map(effects).fillna(0.0).to_numpy(dtype=float)
    return logit


#: P(default) in the reference population: :func:`estimate_reference_default_rate`'s value, kept here
#: so that a kernel need not draw its 200,000 rows (0.1 s) for every label-shift month it simulates
#: (tests/unit/test_simulation.py recomputes it and fails if the simulation's constants move).
REFERENCE_DEFAULT_RATE = 0.17673462405400184


def estimate_reference_default_rate() -> float:
    """P(default) in the reference population, estimated on a large fixed sample (200,000 rows)."""
    cols = _finish(_draw_features(np.random.default_rng(20240601), 200_000))
    return float(expit(_log_odds(cols, RISK_WEIGHTS, {})).mean())


def reference_default_rate() -> float:
    """P(default) in the reference population (the base rate a label shift moves away from)."""
    return REFERENCE_DEFAULT_RATE


def _label_shift_rows(y: np.ndarray, n: int, target_rate: float, rng: np.random.Generator) -> np.ndarray:
    """Row indices of a size-``n`` subsample whose default rate is ``target_rate`` (P(X|Y) kept)."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_pos = int(np.clip(rng.binomial(n, target_rate), n - len(neg), len(pos)))
    chosen = np.concatenate([rng.choice(pos, n_pos, replace=False), rng.choice(neg, n - n_pos, replace=False)])
    return rng.permutation(chosen)


def _apply_unit_bug(cols: dict, event: DriftEvent, rng: np.random.Generator) -> None:
    """Multiply the *recorded* values of a feature by ``factor`` for a share of rows (in place)."""
    values = cols[event.feature]
    hit = rng.random(len(values)) < min(1.0, abs(event.magnitude))
    recorded = np.where(hit, values * event.factor, values)
    if event.feature in _INTEGER:
        recorded = np.round(recorded).astype(np.int64)
    cols[event.feature] = recorded


def simulate_month(seed: int, month: int, n: int, events: tuple[DriftEvent, ...] = ()) -> pd.DataFrame:
    """One month of applications: features as recorded, the true default outcome and the month."""
    if month < 0 or n < 0:
        raise ValueError("month and n must be non-negative")
    streams = np.random.SeedSequence([int(seed), int(month)]).spawn(4)
    rng_x, rng_events, rng_y, rng_pick = (np.random.default_rng(s) for s in streams)
    active = [(e, e.level(month)) for e in events if e.level(month) > 0] if month > 0 else []

    label_shift = sum(e.magnitude * lvl for e, lvl in active if e.kind == "label_shift")
    pool = n
    if label_shift:  # draw enough applicants that a resample can reach the shifted default rate
        base = reference_default_rate()
        guess = float(np.clip(base + label_shift, 0.01, 0.95))
        pool = int(np.ceil(n * max(guess / base, (1 - guess) / (1 - base)) * 3.0)) + 200

    cols = _draw_features(rng_x, pool)
    extra: dict[str, dict[str, float]] = {}
    for e, lvl in active:
        if e.kind == "covariate":
            _apply_covariate(cols, e, lvl, rng_events)
        elif e.kind == "new_category":
            _apply_new_category(cols, e, lvl, rng_events)
            extra.setdefault(e.feature, {})[e.category] = e.magnitude
    cols = _finish(cols)
    weights = _risk_weights(tuple(e for e, _ in active), month)
    risk = expit(_log_odds(cols, weights, extra))
    y = (rng_y.random(pool) < risk).astype(np.int64)

    if label_shift:  # this month's own default rate (after other events), moved by the shift
        target_rate = float(np.clip(risk.mean() + label_shift, 0.01, 0.95))
        rows = _label_shift_rows(y, n, target_rate, rng_pick)
        cols = {k: v[rows] for k, v in cols.items()}
        y = y[rows]
    for e, _ in active:  # after the labels: a unit bug changes the record, not the risk
        if e.kind == "unit_bug":
            _apply_unit_bug(cols, e, rng_events)

    frame = pd.DataFrame({name: cols[name] for name in FEATURES})
    frame[TARGET] = y
    frame[MONTH] = np.full(n, month, dtype=np.int64)
    return frame


@dataclass
class Scenario:
    """A reproducible bank: reference data (month 0) and production months 1..``months``."""

    seed: int = 0
    n_reference: int = 4000
    n_per_month: int = 1000
    months: int = 12
    events: tuple[DriftEvent, ...] = field(default_factory=default_events)

    def __post_init__(self) -> None:
        """Store events as a tuple so the scenario cannot be changed by mutating a list."""
        self.events = tuple(self.events)

    def reference(self) -> pd.DataFrame:
        """The training data: month 0, before any event (what the launched model learned from)."""
        return simulate_month(self.seed, 0, self.n_reference, ())

    def batch(self, month: int) -> pd.DataFrame:
        """Production data for one month (month 0 returns the reference sample)."""
        month = int(month)
        if month == 0:
            return self.reference()
        return simulate_month(self.seed, month, self.n_per_month, self.events)

    def production(self) -> pd.DataFrame:
        """All production months 1..``months`` concatenated, with a fresh 0..N-1 index."""
        return pd.concat([self.batch(m) for m in range(1, self.months + 1)], ignore_index=True)

    def describe(self) -> list[str]:
        """Plain-English lines for this scenario's events."""
        return describe(self.events)
