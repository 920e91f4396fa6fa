"""driftlab.course.retraining: a deterministic retraining loop whose headline comparisons are what the notebook says."""
from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest

from driftlab.course import retraining as R
from driftlab.course.simulation import DriftEvent, Scenario


@pytest.fixture(scope="module")
def runs():
    scenario = Scenario(seed=0)
    return {name: R.simulate(scenario, name) for name in R.POLICIES}


def test_same_seed_gives_identical_results():
    scenario = Scenario(seed=4, months=6)
    first = R.simulate(scenario, "scheduled").as_dict()
    for fn in (R._fit, R._correct, R._split, R._month, R._arrays, R._detector, R._drifted):  # recompute everything
        fn.cache_clear()
    assert R.simulate(Scenario(seed=4, months=6), "scheduled").as_dict() == first


def test_triggered_matches_scheduled_at_a_fraction_of_the_compute(runs):
    never, sched, trig = runs["none"], runs["scheduled"], runs["triggered"]
    assert sched.n_retrains == 11 and never.n_retrains == 0
    assert 0 < trig.n_retrains < sched.n_retrains
    assert trig.compute_cost < 0.5 * sched.compute_cost
    assert abs(trig.mean_accuracy - sched.mean_accuracy) < 0.01  # within one month's binomial SD
    assert trig.mean_accuracy > never.mean_accuracy and sched.mean_accuracy > never.mean_accuracy
    assert all(a <= 0.85 for m, a in zip(trig.months, trig.accuracy) if m in trig.retrain_months)


def test_quality_gate_skips_the_bug_month(runs):
    gated, trig = runs["gated"], runs["triggered"]
    assert 11 in trig.quality_failed and 11 in trig.retrain_months
    assert 11 not in gated.retrain_months and gated.n_retrains < trig.n_retrains
    # the notebook says the naive month-11 retrain got lucky in month 12 (its window held months 9-10)
    assert trig.accuracy[-1] > gated.accuracy[-1] and gated.retrain_months[-1] == 8


def test_dataset_drift_trigger_is_blind_to_this_story(runs):
    run = R.simulate(Scenario(seed=0), R.Policy(name="drift", kind="triggered", trigger="drift"))
    assert run.n_retrains == 0 and run.accuracy == runs["none"].accuracy


# The notebook's section 3: the same kinds of change, the same seeds and windows (keep in step).
STUDY_SEEDS = range(4)
CHANGES = {
    "sudden": (DriftEvent("concept", "debt_to_income", start=4),),
    "every month": (DriftEvent("concept", "debt_to_income", start=3, ramp="recurring", period=1),),
    "every 3 months": (DriftEvent("concept", "debt_to_income", start=3, ramp="recurring", period=3),),
}


@pytest.fixture(scope="module")
def study():
    tables = {}
    for change, events in CHANGES.items():
        table = R.window_study(events, seeds=STUDY_SEEDS, months=8)
        tables[change] = table.pivot(index="seed", columns="window", values="mean_accuracy")
    return tables


def test_window_study_equals_the_loop_without_a_gate():
    events = CHANGES["every month"]
    table = R.window_study(events, seeds=[7], months=6).set_index("window")["mean_accuracy"]
    world = R.scenario_with(events, seed=7, months=6)
    for label, policy in {"never retrain": R.POLICIES["none"],
                          "sliding, 1 month": replace(R.POLICIES["scheduled"], window_months=1, champion_challenger=False),
                          "expanding": replace(R.POLICIES["scheduled"], window="expanding", champion_challenger=False)}.items():
        assert table[label] == R.simulate(world, policy).mean_accuracy


def test_the_loop_fits_the_course_model_exactly():
    """The loop's array path gives the predictions of driftlab.course.model.train_model, row for row."""
    from driftlab.course.model import train_model
    from driftlab.course.simulation import FEATURES, TARGET

    key = R._key(Scenario(seed=0))  # month 6 brings the unseen region "online", month 11 the unit bug
    for window, month in (((0,), 6), ((5, 6, 7), 11), ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 12)):
        frame = R._month(key, month)
        pipeline_hits = train_model(R._training_frame(key, window)).predict(frame[list(FEATURES)]) == frame[TARGET]
        assert (R._correct(key, window, month).to_numpy() == pipeline_hits.to_numpy()).all()


def test_sudden_change_the_shortest_window_wins_on_every_seed(study):
    t = study["sudden"]
    assert (t["sliding, 1 month"] > t["expanding"]).all() and (t["expanding"] > t["never retrain"]).all()


def test_recurring_change_the_best_window_depends_on_the_rhythm(study):
    fast, slow = study["every month"], study["every 3 months"]
    # flipping every month: the one-month window always learns the regime about to end
    assert (fast["sliding, 1 month"] < fast["never retrain"]).all()
    assert (fast["expanding"] > fast["never retrain"]).all() and (fast["expanding"] > fast["sliding, 1 month"]).all()
    # regimes of three months: the one-month window is wrong only in each regime's first month
    assert (slow["sliding, 1 month"] > slow["expanding"]).all() and (slow["expanding"] > slow["never retrain"]).all()
    # the expanding window gains little over never retraining: less than the one-month window's swings
    for t in (fast, slow):
        gain = (t["expanding"] - t["never retrain"]).mean()
        assert 0 < gain < abs((t["sliding, 1 month"] - t["never retrain"]).mean())


def test_champion_challenger_gate_rejects_some_challengers():
    noisy = replace(R.POLICIES["scheduled"], window_months=1)
    gated = R.simulate(Scenario(seed=0), noisy)
    ungated = R.simulate(Scenario(seed=0), replace(noisy, champion_challenger=False))
    assert gated.rejected_months and not ungated.rejected_months
    assert len(gated.promoted_months) + len(gated.rejected_months) == gated.n_retrains
    for g in gated.golden:
        assert g["promoted"] == (g["challenger"] > g["champion"])


def _pairs(both: int, only_champion: int, only_challenger: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    """Golden-row hits of two models from the four cells of their 2 x 2 table (shuffled, seeded)."""
    counts = [both, only_champion, only_challenger, neither]
    champion = np.repeat([True, True, False, False], counts)
    challenger = np.repeat([True, False, True, False], counts)
    order = np.random.default_rng(0).permutation(champion.size)
    return champion[order], challenger[order]


def test_paired_comparison_matches_mcnemar_and_the_paired_se_by_hand():
    n, b, c = 60, 2, 9
    result = R.paired_comparison(*_pairs(40, b, c, 9))
    # exact McNemar: c ~ Binomial(b + c, 1/2) under "equally good"; two-sided = twice the upper tail here
    tail = sum(math.comb(b + c, k) for k in range(c, b + c + 1)) / 2 ** (b + c)
    assert result.p_value == pytest.approx(2 * tail, rel=1e-12)
    assert (result.n, result.only_champion, result.only_challenger) == (n, b, c)
    assert result.champion_accuracy == pytest.approx(42 / n) and result.challenger_accuracy == pytest.approx(49 / n)
    assert result.difference == pytest.approx((c - b) / n)
    # SE of the mean per-row difference d in {-1, 0, +1}, sample variance (ddof = 1)
    mean = (c - b) / n
    variance = ((b + c) - n * mean ** 2) / (n - 1)
    assert result.se == pytest.approx(math.sqrt(variance / n), rel=1e-12)
    assert result.ci_low <= result.difference <= result.ci_high
    assert not result.challenger_better(0.05) and result.challenger_better(0.10)


def test_paired_comparison_is_symmetric_and_directional():
    champion, challenger = _pairs(200, 20, 3, 27)  # a significantly *worse* challenger
    worse, better = R.paired_comparison(champion, challenger), R.paired_comparison(challenger, champion)
    assert worse.p_value == better.p_value < 0.01
    assert not worse.challenger_better() and better.challenger_better()
    assert worse.difference == pytest.approx(-better.difference)
    assert worse.ci_low == pytest.approx(-better.ci_high) and worse.ci_high == pytest.approx(-better.ci_low)


def test_paired_comparison_without_disagreements_and_bad_input():
    hits = np.array([True] * 200 + [False] * 50)
    same = R.paired_comparison(hits, hits.copy())
    assert (same.p_value, same.se, same.ci_low, same.ci_high) == (1.0, 0.0, 0.0, 0.0)
    assert not same.challenger_better()
    assert R.paired_comparison([1, 0, 1, 1], [1, 1, 1, 0]).only_challenger == 1  # 0/1 as well as booleans
    with pytest.raises(ValueError, match="same golden rows"):
        R.paired_comparison(hits, hits[:-1])
    with pytest.raises(ValueError, match="booleans"):
        R.paired_comparison(np.array([0.9, 0.8]), np.array([1, 0]))


def test_paired_bootstrap_interval_is_seeded_and_covers_the_true_difference():
    champion, challenger = _pairs(200, 5, 20, 25)
    first = R.paired_comparison(champion, challenger, seed=3)
    assert first == R.paired_comparison(champion, challenger, seed=3)
    # the percentile interval is close to the normal one, difference +- 1.96 SE
    assert first.ci_low == pytest.approx(first.difference - 1.96 * first.se, abs=0.006)
    assert first.ci_high == pytest.approx(first.difference + 1.96 * first.se, abs=0.006)
    # coverage: golden sets of 250 rows drawn from known cell probabilities (true difference 0.03)
    rng = np.random.default_rng(2024)
    probs = np.array([0.80, 0.03, 0.06, 0.11])  # both right, only champion, only challenger, neither
    truth, replicates, covered = probs[2] - probs[1], 300, 0
    for i in range(replicates):
        result = R.paired_comparison(*_pairs(*rng.multinomial(250, probs)), n_boot=1000, seed=i)
        covered += result.ci_low <= truth <= result.ci_high
    assert 0.90 <= covered / replicates <= 0.99  # nominal 0.95; one SE of the estimate is about 0.013


def test_the_loop_records_mcnemar_for_every_decision_and_the_paired_gate_uses_it():
    scenario = Scenario(seed=0)
    noisy = replace(R.POLICIES["scheduled"], window_months=1)
    by_accuracy, paired = R.simulate(scenario, noisy), R.simulate(scenario, replace(noisy, gate="paired"))
    for record in by_accuracy.golden + paired.golden:
        comparison = R.paired_comparison(*R.golden_hits(scenario, record))
        assert comparison.p_value == record["p_value"] and comparison.n == record["n"] == 250
        assert (comparison.only_champion, comparison.only_challenger) == (record["only_champion"], record["only_challenger"])
        assert comparison.champion_accuracy == record["champion"] and comparison.challenger_accuracy == record["challenger"]
    for record in paired.golden:
        assert record["promoted"] == (record["only_challenger"] > record["only_champion"] and record["p_value"] < 0.05)
    # what the notebook says: the accuracy gate promoted coin flips, the paired gate promotes fewer
    coin_flips = [g["month"] for g in by_accuracy.golden if g["promoted"] and g["p_value"] >= 0.05]
    assert coin_flips and len(paired.promoted_months) < len(by_accuracy.promoted_months)
    assert all(g["p_value"] < 0.05 for g in paired.golden if g["promoted"])
    # ... and its last promotion is month 11, decided on golden rows of the unit-bug month (section 5)
    assert paired.promoted_months[-1] == 11 and not R.passes_quality(scenario.batch(11))


def test_unit_bug_trap_naive_retraining_hurts_and_the_quality_gate_prevents_it():
    bug = DriftEvent("unit_bug", "credit_score", start=6, end=6, factor=0.1)
    world = Scenario(seed=0, months=10, events=(bug,))
    naive, gated, never = (R.simulate(world, p) for p in ("triggered", "gated", "none"))
    after = slice(6, 10)  # months 7-10
    assert gated.n_retrains == 0 and naive.n_retrains >= 2
    assert sum(naive.accuracy[after]) < sum(gated.accuracy[after]) - 0.1
    assert gated.accuracy == never.accuracy
    first = naive.golden[0]  # the contaminated golden set approves the poisoned challenger
    assert first["month"] == 6 and first["promoted"] and first["challenger"] > first["champion"]
    assert not R.passes_quality(world.batch(6)) and R.passes_quality(world.batch(7))


def test_quality_problems_reports_shares():
    frame = Scenario(seed=0).batch(11)
    problems = R.quality_problems(frame)
    assert problems["income"] == 1.0 and problems["age"] == 0.0


def test_policy_validation():
    with pytest.raises(ValueError, match="kind"):
        R.Policy(kind="sometimes")
    with pytest.raises(ValueError, match="window"):
        R.Policy(window="rolling")
    with pytest.raises(ValueError, match="trigger"):
        R.Policy(trigger="vibes")
    with pytest.raises(ValueError, match="gate"):
        R.Policy(gate="hunch")
    with pytest.raises(ValueError, match="alpha"):
        R.Policy(gate="paired", alpha=1.5)


def test_a_policy_run_is_fast():
    scenario = Scenario(seed=11)
    R.simulate(Scenario(seed=12, months=2), "none")  # warm imports
    start = time.perf_counter()
    R.simulate(scenario, "scheduled")
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, f"{elapsed:.2f} s"  # ~0.5 s on an idle 2-core machine; slack for shared CI


def test_plot_runs_draws_one_line_per_run(runs):
    import matplotlib.pyplot as plt

    from driftlab.viz.plots import plot_runs

    ax = plot_runs(list(runs.values()), threshold=0.85)
    assert len(ax.get_legend().get_texts()) == len(runs) + 1  # one entry per run, plus the threshold
    plt.close("all")
