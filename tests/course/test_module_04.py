"""Module 04 (monitoring without labels): label delay, selective and proxy labels, prediction drift,
confidence-based performance estimation and where it fails (DESIGN.md misconception 13), calibration,
slices and fairness gaps, data validation before drift statistics, training-serving skew.

Checked on the compiled entries (the ones the build embeds), through the learner's release, and on the
executed instructor notebook (the numbers the text and the exercises state). Full marks for the
solution and zero for the untouched release through real nbgrader: tests/course/test_every_module.py.
"""
from __future__ import annotations

import textwrap

import nbformat
import numpy as np
import pytest
from tests.support import compiled, errors, executed_claims, execute, release_path, results, solution_path

from grader.exercises.source import specs_in

MODULE = "04_monitoring_without_labels"
CBPE, MONTH11, RANGE, RECALL = ("nolabel-cbpe-accuracy", "nolabel-month11", "nolabel-range-check",
                                "nolabel-estimate-recall")
CBPE_RIGHT = {1: ">=", 2: "1 - proba"}
CBPE_WRONG = {"cbpe-boundary-strict": ({1: ">"}, {1: "B"}), "cbpe-chance-wrong": ({1: "<"}, {1: "C"}),
              "cbpe-mean-score": ({2: "proba"}, {2: "B"}), "cbpe-flagged-only": ({2: "0"}, {2: "C"})}
RANGE_RIGHT = {1: "<", 2: ">", 3: ">"}
RANGE_WRONG = {"range-low-inclusive": ({1: "<="}, {1: "B"}), "range-low-reversed": ({1: ">"}, {1: "C"}),
               "range-high-inclusive": ({2: ">="}, {2: "B"}), "range-high-reversed": ({2: "<"}, {2: "C"}),
               "range-tolerance-inclusive": ({3: ">="}, {3: "B"}), "range-tolerance-reversed": ({3: "<"}, {3: "C"})}
MONTH11_WRONG = {"A": "estimate-always-right", "C": "estimate-uses-labels", "D": "concept-raises-estimate"}


def cbpe_code(fills: dict[int, str]) -> str:
    b = CBPE_RIGHT | fills
    return f"chance_right = np.where(proba {b[1]} threshold, proba, {b[2]})\nestimated_accuracy = chance_right.mean()"


def range_code(fills: dict[int, str]) -> str:
    b = RANGE_RIGHT | fills
    return (f"share_outside = ((values {b[1]} low) | (values {b[2]} high)).mean()\n"
            f"if share_outside {b[3]} tolerance:\n    alert('values outside the valid range')")


def define(source: str, name: str = "estimate_recall"):
    namespace: dict = {"np": np}
    exec(textwrap.dedent(source), namespace)  # noqa: S102 - test fixtures
    return namespace[name]


@pytest.fixture(scope="module")
def entries():
    return compiled(MODULE)


def _message(entry, mistake_id):
    return next(m.message for m in entry.mistakes if m.id == mistake_id)


@pytest.mark.parametrize("exercise, wrong, code", [(CBPE, CBPE_WRONG, cbpe_code), (RANGE, RANGE_WRONG, range_code)])
def test_blanks_each_wrong_blank_has_its_message(entries, exercise, wrong, code):
    entry = entries[exercise]
    assert entry.assess(code({})).status == "correct"
    for mistake, variants in wrong.items():
        for fills in variants:                                   # the option's code, and its letter
            verdict = entry.assess(code(fills))
            assert verdict.status == "incorrect" and verdict.misconception == mistake, (fills, verdict)
            assert verdict.message == _message(entry, mistake)


@pytest.mark.parametrize("code", [
    cbpe_code({1: "A", 2: "A"}),
    "chance_right = np.where(threshold <= proba, proba, 1.0 - proba)\nestimated_accuracy = chance_right.mean()",
    "chance_right = np.where(proba < threshold, 1 - proba, proba)\nestimated_accuracy = np.mean(chance_right)",
])
def test_cbpe_accepts_equivalent_answers(entries, code):
    assert entries[CBPE].assess(code).status == "correct"


@pytest.mark.parametrize("code", [
    range_code({1: "A", 2: "A", 3: "A"}),
    "share_outside = (~((values >= low) & (values <= high))).mean()\n"
    "if share_outside > tolerance:\n    alert('values outside the valid range')",
])
def test_range_check_accepts_equivalent_answers(entries, code):
    assert entries[RANGE].assess(code).status == "correct"


def test_blanks_probes_sit_on_the_boundaries(entries):
    env = {"np": np}
    cbpe = [{k: eval(v, env) for k, v in p.items()} for p in entries[CBPE].probes]  # noqa: S307 - spec text
    assert any((p["proba"] == p["threshold"]).any() and p["threshold"] != 0.5 for p in cbpe)   # `>` vs `>=` differ
    ranges = [{k: eval(v, env) for k, v in p.items()} for p in entries[RANGE].probes]  # noqa: S307
    assert any((p["values"] == p["low"]).any() and (p["values"] == p["high"]).any() for p in ranges)
    assert any(p["tolerance"] == 0 and ((p["values"] >= p["low"]) & (p["values"] <= p["high"])).all() for p in ranges)
    shares = [float(((p["values"] < p["low"]) | (p["values"] > p["high"])).mean()) for p in ranges]
    assert any(s == p["tolerance"] > 0 for s, p in zip(shares, ranges))                       # a share at the tolerance


def test_estimate_recall_mistakes_each_behave_differently_and_get_their_message(entries):
    entry = entries[RECALL]
    outputs = [tuple(map(repr, o)) for o in entry.mistake_outputs]
    assert len(set(outputs)) == len(outputs) and len({m.message for m in entry.mistakes}) == len(entry.mistakes)
    for mistake in entry.mistakes:
        spec_code = next(m for m in entry.mistakes if m.id == mistake.id)
        verdict = entry.assess(define(_spec_code(mistake.id)))
        assert verdict.status == "incorrect" and verdict.misconception == mistake.id, (mistake.id, verdict)
        assert verdict.message == spec_code.message


def _spec_code(mistake_id):
    spec = next(s for _, s in specs_in(nbformat.read(solution_path(MODULE), as_version=4)) if s.id == RECALL)
    return next(m.code for m in spec.mistakes if m.id == mistake_id)


@pytest.mark.parametrize("source", [
    '''
    def estimate_recall(proba, threshold=0.5):
        caught = expected = 0.0
        for p in proba:
            expected += p
            if p >= threshold:
                caught += p
        return caught / expected
    ''',
    '''
    def estimate_recall(proba, threshold=0.5):
        p = np.array(proba)
        return float(np.sum(p * (p >= threshold)) / np.sum(p))
    ''',
])
def test_estimate_recall_accepts_equivalent_solutions(entries, source):
    assert entries[RECALL].assess(define(source)).status == "correct"


def test_estimate_recall_cases_cover_the_threshold_and_a_threshold_other_than_half(entries):
    env = {"np": np}
    cases = [eval(c, env) for c in entries[RECALL].cases]  # noqa: S307 - spec text
    assert any(len(c) == 2 and c[1] != 0.5 and c[1] in list(c[0]) for c in cases)
    assert any(len(c) == 2 and c[1] in list(c[0]) for c in cases)
    assert any(len(c) == 1 for c in cases)                    # the default threshold


def test_month11_each_distractor_has_its_message(entries):
    entry = entries[MONTH11]
    assert entry.assess("B").status == "correct"
    for letter, mistake in MONTH11_WRONG.items():
        verdict = entry.assess(letter)
        assert verdict.status == "incorrect" and verdict.misconception == mistake
        assert verdict.message == _message(entry, mistake)


def test_spec_conventions_ids_points_and_misconception_13():
    specs = {s.id: s for _, s in specs_in(nbformat.read(solution_path(MODULE), as_version=4))}
    assert all(ident.startswith("nolabel-") for ident in specs)
    graded = {k: s for k, s in specs.items() if s.graded}
    assert {(s.kind, s.difficulty, s.points) for s in graded.values()} == {
        ("blanks", "easy", 1), ("choice", "medium", 1), ("blanks", "medium", 2), ("function", "hard", 3)}
    assert sum(1 for s in specs.values() if not s.graded) == 3
    assert "estimate-always-right" in {m.id for m in graded[MONTH11].mistakes}     # misconception 13
    for spec in graded.values():                                                   # no hint gives the answer away
        answers = ([spec.options[1][spec.answer[1]]] if spec.kind == "choice" else
                   [spec.options[i][a] for i, a in spec.answer.items()] if spec.kind == "blanks" else
                   ["p[p >= threshold].sum()", "p.sum()"])
        for hint in spec.hints:
            for text in answers:
                if len(text) > 2:
                    assert text not in hint, (spec.id, hint)
    others = {s.id for p in solution_path(MODULE).parents[1].glob("*/*.ipynb") if p.parent.name != MODULE
              for _, s in specs_in(nbformat.read(p, as_version=4))}
    assert not set(specs) & others                                                 # unique across the course


def test_untouched_release_runs_and_reports_unanswered():
    nb = execute(release_path(MODULE), cwd=release_path(MODULE).parent)
    assert errors(nb) == []
    checks = [r for r in results(nb) if "exercise" in r]
    assert len(checks) == 4 and all(r["status"] == "unanswered" for r in checks)


DUMP = """
import json as _json
print("CLAIMS=" + _json.dumps({
    "cbpe": cbpe.reset_index().to_dict(orient="list"),
    "estimates": estimates.reset_index().to_dict(orient="list"),
    "selective": selective.reset_index().to_dict(orient="list"),
    "hold": [hold_estimate, hold_accuracy],
    "calibration": calibration.to_dict(orient="index"),
    "regions": regions.drop(columns=[]).to_dict(orient="index"), "online_sd": online_sd,
    "overall_gap": float(everyone["default_rate"] - everyone["mean_score"]),
    "fairness": [parity_gap, repayer_gap, recall_gap],
    "problems": {str(m): [[r.check, r.column, r.share] for r in t.itertuples()] for m, t in problems.items()},
    "skew": table.to_dict(orient="index"),
    "proxy": [float(outcome[first].mean()), float(proxy[first].mean()),
              float((flagged[first] == outcome[first]).mean()), float((flagged[first] == proxy[first]).mean())],
}))
"""


@pytest.fixture(scope="module")
def claims():
    return executed_claims(MODULE, DUMP)


def _row(table, month):
    i = table["month"].index(month)
    return {k: v[i] for k, v in table.items()}


@pytest.mark.slow
def test_the_estimate_holds_until_its_assumptions_break(claims):
    cbpe = claims["cbpe"]
    assert claims["checks"] == {k: "correct" for k in claims["checks"]} and len(claims["checks"]) == 4
    est, acc = claims["hold"]
    assert abs(est - acc) < 0.01
    for m in range(1, 8):                                           # covariate shift and the new region: fine
        assert abs(_row(cbpe, m)["estimate - realised"]) < 0.02
    for m in (8, 9, 10, 12):                                        # concept change: flat estimate, falling truth
        row = _row(cbpe, m)
        assert 0.89 <= row["estimated"] <= 0.92 and row["realised"] <= 0.86 and row["estimate - realised"] > 0.05
    m11 = _row(cbpe, 11)                                            # the unit bug: certain and wrong
    assert m11["estimated"] >= 0.97 and m11["realised"] <= 0.85
    assert round(m11["estimated"], 2) == 1.00 and round(m11["realised"], 3) == 0.836
    prompt = claims["specs"][MONTH11].prompt
    assert "1.00" in prompt and "0.836" in prompt and "164 defaulters" in prompt
    assert "month 11: 164 of 1000 applicants default; the model flags 0; realised accuracy 0.836, estimated 1.000" \
        in claims["printed"]
    md = claims["markdown"]
    assert "nannyml.readthedocs.io" in md and "Designing Machine Learning Systems" in md and "Hardt, Price & Srebro" in md


@pytest.mark.slow
def test_prediction_drift_sees_the_bug_and_not_the_concept_change(claims):
    e = claims["estimates"]
    psi = dict(zip(e["month"], e["score PSI vs hold-out"]))
    assert psi[11] > 1 and all(v < 0.1 for m, v in psi.items() if m != 11)
    assert _row(e, 11)["predicted_positive_rate"] == 0 and _row(e, 11)["mean_score"] < 0.001
    before = np.mean([_row(e, m)["mean_score"] for m in range(1, 8)])
    assert all(abs(_row(e, m)["mean_score"] - before) < 0.02 for m in (8, 9, 10, 12))


@pytest.mark.slow
def test_selective_and_proxy_labels_bias_what_the_bank_measures(claims):
    s = claims["selective"]
    for m in s["month"]:
        row = _row(s, m)
        if m == 11:                                                   # everyone approved: everyone observed
            assert row["approval rate"] == 1 and row["accuracy, approved loans only"] == row["accuracy, everyone (simulation)"]
        else:
            assert row["accuracy, approved loans only"] > row["accuracy, everyone (simulation)"]
    assert "early-proxy labels known for months [1, 2, 3, 4, 5, 6, 7, 8, 9]; final outcomes for months []" in claims["printed"]
    final_rate, proxy_rate, acc_final, acc_proxy = claims["proxy"]
    assert proxy_rate < final_rate and acc_proxy < acc_final        # "makes the same model look worse"
    md = claims["markdown"]
    assert "12–24 months" in md and "three months" in md


@pytest.mark.slow
def test_calibration_is_checked_and_restored(claims):
    c = claims["calibration"]
    raw, iso, platt = c["balanced, as trained"], c["balanced + isotonic"], c["balanced + sigmoid (Platt)"]
    assert raw["ECE"] > 0.08 and iso["ECE"] < raw["ECE"] / 3 and platt["ECE"] < raw["ECE"] / 3
    assert abs(iso["estimate - realised"]) < 0.01 and abs(platt["estimate - realised"]) < 0.01
    assert c["the bank's model"]["ECE"] < 0.04


@pytest.mark.slow
def test_slices_validation_and_skew(claims):
    r = claims["regions"]
    gaps = {k: v["default_rate - mean_score"] for k, v in r.items()}
    assert max(gaps, key=gaps.get) == "online" and gaps["online"] / claims["online_sd"] > 2.5
    assert all(abs(v) < 0.02 for k, v in gaps.items() if k != "online") and abs(claims["overall_gap"]) < 0.02
    assert all(0 <= g < 0.05 for g in claims["fairness"])
    p = claims["problems"]
    assert all(p[str(m)] == [] for m in range(1, 6))
    assert [c for c, col, _ in p["6"]] == ["unseen category"]
    assert ["out of range", "income", 1.0] in p["11"]
    skew = claims["skew"]
    assert 0.05 < skew["income"]["mismatch_share"] < 0.15 and 0.01 < skew["debt_to_income"]["mismatch_share"] < 0.05
    assert all(v["mismatch_share"] == 0 for k, v in skew.items() if k not in ("income", "debt_to_income"))
    assert "serving / training = 1000" in claims["printed"]
    assert "mobile app      111          1.000" in claims["printed"]
