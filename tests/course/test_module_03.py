"""Module 03 (accuracy thresholds): the boundary between `<` and `<=` is graded, with its own messages;
accuracy is read next to the trivial "no default" model and recall (DESIGN.md misconception 12);
thresholds come from measured noise (baseline - k * SD).

Checked on the compiled entries (the same ones the build embeds in the hidden tests), in the learner's
kernel, through one real nbgrader autograde of submitted notebooks, and on the executed notebook (the
numbers the text and the exercises state).
"""
from __future__ import annotations

import math
import textwrap

import nbformat
import pytest
from tests.support import (compiled, errors, executed_claims, execute, fill_release, release_path, results,
                           solution_path)

from grader import nbgrader as R

from grader.exercises.source import compile_notebook, specs_in
MODULE = "03_accuracy_thresholds"
TRIVIAL = "thresh-trivial-baseline"
RECALL = "thresh-recall-collapse"
TRIVIAL_RIGHT = {1: "1 - default_rate", 2: "<="}
# each wrong blank of the trivial-baseline exercise, as option code, and the mistake it shows
TRIVIAL_WRONG = {"positive-share-as-baseline": {1: "default_rate"}, "chance-is-half": {1: "0.5"},
                 "trivial-check-reversed": {2: ">"}, "trivial-tie-passes": {2: "<"}}
TRIVIAL_LETTERS = {"positive-share-as-baseline": {1: "A"}, "chance-is-half": {1: "C"},
                   "trivial-check-reversed": {2: "B"}, "trivial-tie-passes": {2: "C"}}
RECALL_WRONG = {"A": "accuracy-without-base-rate", "C": "accuracy-read-as-precision", "D": "coin-flip-baseline"}


def trivial_code(fills: dict[int, str]) -> str:
    """The trivial-baseline template with its blanks filled (right answer where ``fills`` says nothing)."""
    blanks = TRIVIAL_RIGHT | fills
    return (f"trivial_accuracy = {blanks[1]}\nif accuracy {blanks[2]} trivial_accuracy:\n"
            "    alert('no better than always predicting no default')")

CRITICAL_STRICT = '''
def alert_level(accuracy, baseline, threshold):
    if accuracy < threshold:
        return "critical"
    if accuracy < baseline:
        return "warning"
    return "ok"
'''
WARNING_LE = '''
def alert_level(accuracy, baseline, threshold):
    if accuracy <= threshold:
        return "critical"
    elif accuracy <= baseline:
        return "warning"
    else:
        return "ok"
'''
RUN_STRICT = '''
def consecutive_breaches(accuracies, threshold, n):
    count = 0
    flags = []
    for acc in accuracies:
        count = count + 1 if acc < threshold else 0
        flags.append(count >= n)
    return flags
'''
RUN_CORRECT_NUMPY = '''
import numpy as np
def consecutive_breaches(accuracies, threshold, n):
    hits = np.asarray(accuracies, dtype=float) <= threshold
    out = []
    for i in range(len(hits)):
        out.append(bool(i + 1 >= n and hits[i + 1 - n:i + 1].all()))
    return out
'''


def define(code: str, name: str):
    namespace: dict = {}
    exec(textwrap.dedent(code), namespace)  # noqa: S102 - test fixtures
    return namespace[name]


@pytest.fixture(scope="module")
def entries():
    return compiled(MODULE)


def _message(entry, mistake_id):
    return next(m.message for m in entry.mistakes if m.id == mistake_id)


def test_alert_level_uses_lt_where_le_is_right(entries):
    entry = entries["thresh-alert-level"]
    verdict = entry.assess(define(CRITICAL_STRICT, "alert_level"))
    assert verdict.status == "incorrect" and verdict.misconception == "critical-strict"
    assert verdict.message == _message(entry, "critical-strict") and "<=" in verdict.message


def test_alert_level_uses_le_where_lt_is_right(entries):
    entry = entries["thresh-alert-level"]
    verdict = entry.assess(define(WARNING_LE, "alert_level"))  # written differently from the spec's code
    assert verdict.misconception == "warning-includes-equal"
    assert verdict.message == _message(entry, "warning-includes-equal")


def test_consecutive_breaches_boundary_and_equivalents(entries):
    entry = entries["thresh-consecutive"]
    verdict = entry.assess(define(RUN_STRICT, "consecutive_breaches"))
    assert verdict.misconception == "strict-less-than" and verdict.message == _message(entry, "strict-less-than")
    assert entry.assess(define(RUN_CORRECT_NUMPY, "consecutive_breaches")).status == "correct"
    # the hidden cases include a run of values exactly at the threshold
    assert "([0.85, 0.85], 0.85, 2)" in entry.cases


def test_every_function_mistake_has_its_own_message(entries):
    for exercise in ("thresh-alert-level", "thresh-consecutive"):
        entry = entries[exercise]
        outputs = [tuple(map(repr, o)) for o in entry.mistake_outputs]
        assert len(set(outputs)) == len(outputs), f"{exercise}: two mistakes behave alike"
        assert len({m.message for m in entry.mistakes}) == len(entry.mistakes)


@pytest.mark.parametrize("fill, outcome", [
    ("<", "correct"), ("C", "correct"),
    (">=", "ge-improved-or-same"), ("!=", "ne-any-change"), ("==", "eq-only-equality"),
    ("A", "ge-improved-or-same"), ("B", "ne-any-change"), ("D", "eq-only-equality"),
    ("<=", "le-equal-is-not-a-drop"), (">", "gt-reversed"),
])
def test_task2_tells_lt_from_le_ne_eq_ge(entries, fill, outcome):
    entry = entries["thresh-task2"]
    code = f"if current_accuracy {fill} baseline_accuracy:\n    log('Accuracy dropped')"
    verdict = entry.assess(code)
    assert (verdict.status if outcome == "correct" else verdict.misconception) == outcome
    if outcome not in ("correct", "unknown"):
        assert verdict.message == _message(entry, outcome)


def test_task2_accepts_an_equivalent_rewrite(entries):
    verdict = entries["thresh-task2"].assess("if baseline_accuracy > current_accuracy:\n    log('Accuracy dropped')")
    assert verdict.status == "correct"


def test_task2_probes_cover_the_boundary(entries):
    probes = entries["thresh-task2"].probes
    pairs = [(eval(p["current_accuracy"], {"np": __import__("numpy")}),  # noqa: S307 - spec text
              eval(p["baseline_accuracy"], {"np": __import__("numpy")})) for p in probes]  # noqa: S307
    assert any(c == b for c, b in pairs) and any(c < b for c, b in pairs) and any(c > b for c, b in pairs)


@pytest.mark.parametrize("mistake", list(TRIVIAL_WRONG))
def test_trivial_baseline_each_wrong_blank_has_its_message(entries, mistake):
    entry = entries[TRIVIAL]
    for fills in (TRIVIAL_WRONG[mistake], TRIVIAL_LETTERS[mistake]):
        verdict = entry.assess(trivial_code(fills))
        assert verdict.status == "incorrect" and verdict.misconception == mistake, (fills, verdict)
        assert verdict.message == _message(entry, mistake)


@pytest.mark.parametrize("code", [
    trivial_code({}), trivial_code({1: "B", 2: "A"}),
    trivial_code({1: "(1.0 - default_rate)"}),                      # the same value, written differently
    trivial_code({1: "max(default_rate, 1 - default_rate)"}),        # the majority share: the same here
    "trivial_accuracy = 1 - default_rate\nif not accuracy > trivial_accuracy:\n"
    "    alert('no better than always predicting no default')",
])
def test_trivial_baseline_accepts_equivalent_answers(entries, code):
    assert entries[TRIVIAL].assess(code).status == "correct"


def test_trivial_baseline_probes_cover_the_tie_and_the_coin(entries):
    probes = [{k: eval(v, {"np": __import__("numpy")}) for k, v in p.items()}  # noqa: S307 - spec text
              for p in entries[TRIVIAL].probes]
    assert any(p["accuracy"] == 1 - p["default_rate"] for p in probes)                 # a tie: `<=` vs `<`
    assert any(0.5 < p["accuracy"] < 1 - p["default_rate"] for p in probes)           # beats the coin, not the rule
    assert any(p["default_rate"] < p["accuracy"] < 1 - p["default_rate"] for p in probes)


def test_recall_collapse_each_distractor_has_its_message(entries):
    entry = entries[RECALL]
    assert entry.assess("B").status == "correct"
    for letter, mistake in RECALL_WRONG.items():
        verdict = entry.assess(letter)
        assert verdict.status == "incorrect" and verdict.misconception == mistake, (letter, verdict)
        assert verdict.message == _message(entry, mistake)


def test_misconception_12_is_graded_and_the_seed_items_stay(entries):
    specs = {s.id: s for _, s in specs_in(nbformat.read(solution_path(MODULE), as_version=4))}
    assert specs[RECALL].graded and "accuracy-without-base-rate" in {m.id for m in specs[RECALL].mistakes}
    assert specs[TRIVIAL].graded and specs[TRIVIAL].difficulty == "easy"
    for seed, source in (("thresh-task2", "seed task 2"), ("thresh-mcq3", "seed MCQ 3"), ("thresh-mcq4", "seed MCQ 4")):
        assert specs[seed].source == source and specs[seed].graded
    assert specs["thresh-task2"].answer == {1: "C"} and specs["thresh-task2"].options[1]["C"] == "<"
    assert specs["thresh-mcq3"].answer == {1: "A"} and "accuracies[-1] < 0.85" in specs["thresh-mcq3"].prompt
    assert specs["thresh-mcq4"].answer == {1: "C"}
    assert specs["thresh-mcq4"].options[1]["C"] == "Change condition to accuracy <= 0.85"


def test_widget_in_the_module_is_the_threshold_explorer():
    text = solution_path(MODULE).read_text(encoding="utf-8")
    assert "ThresholdExplorer(" in text


@pytest.mark.slow
def test_nbgrader_grades_the_boundary_mistakes(tmp_path):
    course = R.make_course(tmp_path / "course", modules=[MODULE])
    R.generate(course, MODULE)
    name = solution_path(MODULE).name
    release = nbformat.read(course / "notebooks" / MODULE / name, as_version=4)
    solution = nbformat.read(solution_path(MODULE), as_version=4)
    submissions = {
        "right": fill_release(release, solution),
        "strict": fill_release(release, solution, {"thresh-alert-level": CRITICAL_STRICT,
                                                    "thresh-consecutive": RUN_STRICT,
                                                    TRIVIAL: trivial_code({2: "<"}), RECALL: "A"}),
        "reverse": fill_release(release, solution, {"thresh-alert-level": WARNING_LE,
                                                     "thresh-task2": "if current_accuracy <= baseline_accuracy:\n"
                                                                     "    log('Accuracy dropped')",
                                                     TRIVIAL: trivial_code({2: ">"}), RECALL: "C"}),
        "positive": fill_release(release, solution, {TRIVIAL: trivial_code({1: "default_rate"}), RECALL: "D"}),
        "coin": fill_release(release, solution, {TRIVIAL: trivial_code({1: "0.5"})}),
    }
    for student, nb in submissions.items():
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(nb, path)
        R.submit(course, student, MODULE, path, name)
    proc = R.autograde(course, MODULE)
    assert proc.returncode == 0, proc.stderr[-3000:]

    score, max_score = R.total_score(course, MODULE, "right")
    assert max_score == 9 and score == max_score
    expected_zero = {"strict": {"thresh-alert-level": "critical-strict", "thresh-consecutive": "strict-less-than",
                                TRIVIAL: "trivial-tie-passes", RECALL: "accuracy-without-base-rate"},
                     "reverse": {"thresh-alert-level": "warning-includes-equal", "thresh-task2": None,
                                 TRIVIAL: "trivial-check-reversed", RECALL: "accuracy-read-as-precision"},
                     "positive": {TRIVIAL: "positive-share-as-baseline", RECALL: "coin-flip-baseline"},
                     "coin": {TRIVIAL: "chance-is-half"}}
    entries = compile_notebook(solution, hidden=True)
    for student, wrong in expected_zero.items():
        cells = R.cell_scores(course, MODULE, student)
        graded = nbformat.read(course / "autograded" / student / MODULE / name, as_version=4)
        records = {r["exercise"]: r for r in results(graded) if "exercise" in r}
        failures = "\n".join(out.get("evalue", "") for cell in graded.cells for out in cell.get("outputs", [])
                             if out.get("output_type") == "error")
        for exercise, cell in cells.items():
            ident = exercise[: -len("-test")]
            if ident in wrong:
                assert cell.score == 0, (student, ident)
                mistake = wrong[ident]
                if mistake:
                    assert records[ident]["misconception"] == mistake
                    assert _message(entries[ident], mistake) in failures  # the hidden test names the mistake
            else:
                assert cell.score == cell.max_score, (student, ident)


def test_untouched_release_runs_and_reports_unanswered():
    nb = execute(release_path(MODULE), cwd=release_path(MODULE).parent)
    assert errors(nb) == []
    checks = [r for r in results(nb) if "exercise" in r]
    assert len(checks) == 7 and all(r["status"] == "unanswered" for r in checks)


@pytest.mark.slow
def test_new_mistakes_get_their_message_in_the_learners_kernel(tmp_path):
    """The instant check of the release (the learner's kernel, the compiled bank) names each new mistake."""
    release = nbformat.read(release_path(MODULE), as_version=4)
    setup = next(c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    entry = compiled(MODULE)
    cells = [setup, nbformat.v4.new_code_cell("accuracy, default_rate = 0.836, 0.164")]
    expected = []
    for mistake, fills in TRIVIAL_WRONG.items():
        cells += [nbformat.v4.new_code_cell(f"%%answer {TRIVIAL}\n{trivial_code(fills)}"),
                  nbformat.v4.new_code_cell(f'check("{TRIVIAL}")')]
        expected.append((TRIVIAL, mistake, entry[TRIVIAL].mistake_message(mistake)))
    for letter, mistake in RECALL_WRONG.items():
        cells += [nbformat.v4.new_code_cell(f"%%answer {RECALL}\n{letter}"), nbformat.v4.new_code_cell(f'check("{RECALL}")')]
        expected.append((RECALL, mistake, entry[RECALL].mistake_message(mistake)))
    done = execute(nbformat.v4.new_notebook(cells=cells, metadata=release.metadata), cwd=tmp_path, timeout=120)
    assert errors(done) == []
    checks = [r for r in results(done) if r.get("exercise") in (TRIVIAL, RECALL)]
    assert [(r["exercise"], r["misconception"], r["message"]) for r in checks] == expected
    assert all(r["status"] == "incorrect" for r in checks)


DUMP = """
import json as _json
print("CLAIMS=" + _json.dumps({
    "monthly": monthly.drop(columns=[c for c in monthly if monthly[c].dtype == object]).to_dict(orient="list"),
    "levels": monthly[["accuracy_level", "recall_level", "policy", "recall_policy"]].to_dict(orient="list"),
    "holdout": {"n": len(holdout), "default_rate": baseline_default_rate, "accuracy": baseline_accuracy,
                "no_default": no_default_accuracy, "recall": baseline_recall, "precision": baseline_precision},
    "noise": {"n_defaulters": n_defaulters, "acc_sd": accuracy_sd_month, "rec_sd": recall_sd_month,
              "observed_acc_sd": float(noise.iloc[0, 3]), "observed_rec_sd": float(noise.iloc[1, 3]),
              "covered": covered, "policy_month": policy_month},
    "thresholds": [float(v) for v in (accuracy_warning, accuracy_critical, recall_warning, recall_critical)],
    "fatigue": fatigue.iloc[:, :3].astype(float).to_dict(orient="list"),
    "tight": tight, "label_delay": label_delay, "first_bad_month": first_bad_month,
}))
"""


@pytest.fixture(scope="module")
def claims():
    """The executed instructor notebook: its numbers, its outputs and its markdown."""
    return executed_claims(MODULE, DUMP)


def _month(claims, month):
    table = claims["monthly"]
    i = table["month"].index(month)
    return {k: v[i] for k, v in table.items()}


@pytest.mark.slow
def test_the_trivial_baseline_and_the_recall_collapse_hold_on_the_data(claims):
    h = claims["holdout"]
    assert h["no_default"] == pytest.approx(1 - h["default_rate"]) and round(h["no_default"], 3) == 0.827
    assert round(h["accuracy"], 3) == 0.909 and round(h["recall"], 3) == 0.607
    m11, m9 = _month(claims, 11), _month(claims, 9)
    # month 11 (the unit bug): nobody flagged, recall 0, accuracy = the trivial model's, as the exercises say
    assert m11["flagged"] == 0 and m11["recall"] == 0 and m11["defaults"] == 164 and m11["n"] == 1000
    assert m11["accuracy"] == m11["always_no_default"] and round(m11["accuracy"], 3) == 0.836
    assert 1 - m11["defaults"] / m11["n"] == m11["accuracy"]      # the blanks' tie holds in floats too
    assert math.isnan(m11["precision"])                           # undefined: nobody flagged
    assert round(m9["accuracy"], 3) == 0.831 and m9["defaults"] == 168 and round(m9["recall"] * 168) == 66
    assert m9["accuracy"] < m11["accuracy"]                       # accuracy ranks month 11 above month 9
    m10 = _month(claims, 10)
    sd10 = math.sqrt(h["recall"] * (1 - h["recall"]) / m10["defaults"])
    assert m10["accuracy"] > 0.85 and m10["recall"] < h["recall"] - 3 * sd10   # passes the seed's 0.85 rule
    assert ("month 10 passes at 0.855 while its recall has fallen from 0.607 to 0.408 (more than 3 binomial SDs)"
            in claims["printed"])
    for month in (9, 10, 12):                                     # "no better in accuracy, ~40 % at ~50 %"
        row = _month(claims, month)
        assert abs(row["accuracy"] - row["always_no_default"]) <= 0.005
        assert 0.35 <= row["recall"] <= 0.45 and 0.45 <= row["precision"] <= 0.55
    recall_prompt = claims["specs"][RECALL].prompt
    for fact in ("164", "0.836", "0.831"):
        assert fact in recall_prompt
    assert "66 of 168" in claims["specs"][RECALL].mistakes[0].message
    assert "0.827 on the hold-out" in claims["specs"][TRIVIAL].mistakes[0].message
    assert "accuracy ranks month 11 above month 9 (0.831), where the model caught 66 of 168" in claims["printed"]
    assert claims["checks"] == {k: "correct" for k in claims["checks"]} and len(claims["checks"]) == 7


@pytest.mark.slow
def test_thresholds_come_from_measured_noise(claims):
    h, noise = claims["holdout"], claims["noise"]
    assert noise["n_defaulters"] == round(1000 * h["default_rate"])
    assert noise["acc_sd"] == pytest.approx(math.sqrt(h["accuracy"] * (1 - h["accuracy"]) / 1000))
    assert noise["rec_sd"] == pytest.approx(math.sqrt(h["recall"] * (1 - h["recall"]) / noise["n_defaulters"]))
    assert noise["covered"] and noise["observed_acc_sd"] < 2 * noise["acc_sd"]
    acc_warn, acc_crit, rec_warn, rec_crit = claims["thresholds"]
    assert acc_warn == pytest.approx(h["accuracy"] - 2 * noise["acc_sd"])
    assert acc_crit == pytest.approx(h["accuracy"] - 3 * noise["acc_sd"])
    assert rec_warn == pytest.approx(h["recall"] - 2 * noise["rec_sd"])
    assert rec_crit == pytest.approx(h["recall"] - 3 * noise["rec_sd"])
    months = claims["monthly"]["month"]
    healthy = [i for i, m in enumerate(months) if m < noise["policy_month"]]
    later = [i for i, m in enumerate(months) if m >= noise["policy_month"]]
    acc, rec = claims["monthly"]["accuracy"], claims["monthly"]["recall"]
    assert all(acc[i] >= acc_warn and rec[i] >= rec_warn for i in healthy)          # no false alarm, k = 2 or 3
    assert all(acc[i] <= acc_crit and rec[i] <= rec_crit for i in later)            # every month after the change
    assert set(claims["levels"]["accuracy_level"][i] for i in healthy) == {"ok"}
    assert claims["first_bad_month"] == noise["policy_month"] == 8
    # the seed's 0.85: far below the noise, barely above doing nothing
    assert (h["accuracy"] - 0.85) / noise["acc_sd"] > 6 and 0.85 - h["no_default"] < 3 * noise["acc_sd"]
    assert "month 11 (recall 0.000) would be only 'warning'" in claims["printed"]
    # cumulative reacts later than the monthly figure and the sliding window with the same threshold
    printed = claims["printed"]
    assert "each month (1000 loans)      first at or below 0.882 in month 8" in printed
    assert "last 3 months (3000 loans)   first at or below 0.882 in month 9" in printed
    assert "cumulative since launch      first at or below 0.882 in month 11" in printed
    # N in a row on 100-loan windows at k = 1: fewer false alarms, more delay
    fatigue = claims["fatigue"]
    alarms, delays = list(fatigue.values())[1], list(fatigue.values())[2]
    assert alarms == sorted(alarms, reverse=True) and alarms[0] > 10 and alarms[-1] == 0
    assert delays == sorted(delays)
    assert claims["tight"] == pytest.approx(h["accuracy"] - math.sqrt(h["accuracy"] * (1 - h["accuracy"]) / 100))


@pytest.mark.slow
def test_labels_arrive_three_months_later_as_a_proxy(claims):
    assert claims["label_delay"] == 3
    assert claims["specs"]["thresh-p-delay"].prompt.startswith("Loan outcomes (the bank's early proxy label) are known three months")
    md = " ".join(claims["markdown"].split())
    assert "performance window of 12–24 months after the decision" in md
    assert "**early proxy label**" in md and "known about **three months** after the decision" in md
    assert "its labels arrive in month 11; in month 9 the monitor could only see months [1, 2, 3, 4, 5, 6]" in claims["printed"]
    assert "the alert comes from month 9 and is seen in month 12." in claims["printed"]
