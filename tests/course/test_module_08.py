"""Module 08 (the Test): it measures. The seed's five MCQs plus five new questions that need reasoning on
data or code the course computes (Q7 and Q10 from module 04, monitoring without labels: selective labels,
and a label-free performance estimate against the truth); every distractor is a named misconception; exam
mode reveals nothing before grading, the release holds no key, and nbgrader's judge scores every answer and
names every mistake."""
from __future__ import annotations

import json
import math
import re

import nbformat
import pytest
from tests.support import RESULT_MIME, errors, execute, fill_release, results, solution_path

from grader import nbgrader as R
from grader.exercises.source import compile_notebook, specs_in
MODULE = "08_test"
SEED = {"test-q1": "seed MCQ 1", "test-q2": "seed MCQ 2", "test-q3": "seed MCQ 3", "test-q4": "seed MCQ 4",
        "test-q5": "seed MCQ 5"}
# The seed quiz page's question (its first words) and right answer, which the Test must keep recognisable.
SEED_ITEMS = {
    "test-q1": ("Why do machine learning models often degrade when deployed in production?",
                "B", "Because the data or environment changes over time"),
    "test-q2": ("Which of the following is a correct way to monitor model degradation in production?",
                "D", "Track model performance metrics regularly"),
    "test-q3": ("Consider this code snippet monitoring model accuracy over time:",
                "A", "True; model accuracy dropped below threshold"),
    "test-q4": ("You have this monitoring code snippet:", "C", "Change condition to accuracy <= 0.85"),
    "test-q5": ("A deployed model's accuracy drops because the input data distribution changed. "
                "Which combined approach best addresses this degradation?",
                "A", "Monitor performance, retrain with new data, and update deployment"),
}
NEW = ("test-q6", "test-q7", "test-q8", "test-q9", "test-q10")
RIGHT = {"test-q1": "B", "test-q2": "D", "test-q3": "A", "test-q4": "C", "test-q5": "A",
         "test-q6": "C", "test-q7": "D", "test-q8": "B", "test-q9": "A", "test-q10": "B"}
POINTS = {"easy": 1, "medium": 2, "hard": 3}
# wrong on q2 (easy, 1), q4 (easy, 1), q6 (medium, 2), q8 (medium, 2), q10 (hard, 3): 9 of 18 points lost
HALF_RIGHT = {"test-q2": "A", "test-q4": "B", "test-q6": "A", "test-q8": "D", "test-q10": "A"}
# docs: DESIGN.md, "Misconceptions the course must target" -> the Test's distractor that targets it.
# 2 and 11 are graded in modules 02 and 06. Issue 14 (point 6) gave Q7 and Q10 to the monitoring-without-labels
# module, so 8 and 9 left the Test; each stays graded in its module (test_8_and_9_stay_graded_in_their_modules):
#   8 testing 20 features at 0.05 is fine -> module 02 `detect-fwer` (graded function: P(>= 1 false alarm));
#   9 an importance change means the feature drifted -> module 05 `importance-mcq-silent`, mistake
#     `tests-are-broken` (an importance swap under silent drift tests read as broken tests); its other direction,
#     drift means the importance changed -> module 05 `importance-drift-no-change`, mistake
#     `drift-means-importance-change` (income and region drift, no importance moves).
MISCONCEPTIONS = {
    "1 drift => accuracy drop": ("test-q8", "drift-means-accuracy-drop"),
    "3 retrain whenever drift fires": ("test-q6", "retrain-on-drift-alarm"),
    "4 training data is the best reference": ("test-q8", "training-data-best-reference"),
    "5 a cumulative accuracy chart is enough": ("test-q9", "trust-cumulative-accuracy"),
    "6 concept drift is visible from the inputs": ("test-q10", "concept-visible-from-inputs"),
    "7 a dip in a small window is a real drop": ("test-q9", "small-window-dip-is-real"),
    "10 most shifts are real-world change": ("test-q6", "bug-read-as-world-change"),
    "12 accuracy is the metric to watch": ("test-q9", "accuracy-without-base-rate"),
    "13 a label-free estimate is always right": ("test-q10", "label-free-estimate-always-right"),
    "13 a certain model is a right one (the unit-bug month)": ("test-q10", "confident-means-correct"),
}
# Module 04's misconceptions about labels in production, beyond DESIGN.md's numbered list (Q7).
LABEL_MISCONCEPTIONS = {
    "accuracy on the approved loans is the model's accuracy": ("test-q7", "approved-accuracy-is-model-accuracy"),
    "a selection bias cancels in a before/after comparison": ("test-q7", "selection-bias-cancels"),
    "explored refusals count once (no inverse probability weight)": ("test-q7", "explored-refusals-unweighted"),
}
REVEALING = ("✔", "✘", "Correct", "Not yet", "not correct", "incorrect")


@pytest.fixture(scope="module")
def solution():
    return nbformat.read(solution_path(MODULE), as_version=4)


@pytest.fixture(scope="module")
def specs(solution):
    return {s.id: s for _, s in specs_in(solution)}


@pytest.fixture(scope="module")
def entries(solution):
    return compile_notebook(solution, hidden=True)


def test_ten_questions_across_difficulties(solution, specs):
    assert list(specs) == [f"test-q{i}" for i in range(1, 11)]
    assert all(s.kind == "choice" and s.graded for s in specs.values())
    assert {s.id: s.answer[1] for s in specs.values()} == RIGHT
    levels = [s.difficulty for s in specs.values()]
    assert (levels.count("easy"), levels.count("medium"), levels.count("hard")) == (5, 2, 3)
    assert all(s.points == POINTS[s.difficulty] for s in specs.values())
    assert sum(s.points for s in specs.values()) == 18
    assert {s.id: s.source for s in specs.values() if s.source} == SEED
    assert all(len(s.mistakes) == 3 and len({m.id for m in s.mistakes}) == 3 for s in specs.values())
    assert all(sorted(m.when[1] for m in s.mistakes) == sorted(set("ABCD") - {s.answer[1]}) for s in specs.values())
    ids = [m.id for s in specs.values() for m in s.mistakes]
    assert len(ids) == len(set(ids)), "each distractor names its own misconception"
    setup_cell = solution.cells[1].source
    assert 'start("08_test", exam=True)' in setup_cell and "hint" not in setup_cell
    assert solution.cells[-1].source.strip() == "results()"
    # exercise ids differ from the modules that also carry the seed MCQs
    assert not set(specs) & {"why-mcq1", "why-mcq2", "thresh-mcq3", "thresh-mcq4", "retrain-mcq5"}


@pytest.mark.parametrize("exercise", sorted(SEED_ITEMS))
def test_the_seed_mcqs_keep_the_seeds_question_and_answer(specs, exercise):
    question, letter, text = SEED_ITEMS[exercise]
    spec = specs[exercise]
    assert spec.prompt.startswith(question)
    assert spec.answer == {1: letter} and spec.options[1][letter] == text
    assert spec.difficulty == "easy"  # guessable by elimination: the Test's points go to Q6-Q10
    if exercise in ("test-q3", "test-q4", "test-q5"):
        assert "The seed rates this question" in spec.note  # the feedback says why the label differs


def _module_items() -> list:
    from tests.support import MODULES

    found = []
    for module in MODULES:
        if module != MODULE:
            found += [s for _, s in specs_in(nbformat.read(solution_path(module), as_version=4))]
    return found


def test_the_new_questions_repeat_no_learning_module_item_and_come_with_their_data(solution, specs):
    others = _module_items()
    assert len(others) > 30
    seen_prompts = {" ".join(s.prompt.split()) for s in others}
    seen_options = {frozenset(s.options.get(1, {}).values()) for s in others if s.kind == "choice"}
    seen_messages = {m.message for s in others for m in s.mistakes}
    for exercise in NEW:
        spec = specs[exercise]
        assert not spec.source
        assert " ".join(spec.prompt.split()) not in seen_prompts
        assert frozenset(spec.options[1].values()) not in seen_options
        assert not {m.message for m in spec.mistakes} & seen_messages
        assert spec.prompt.startswith("Run the code cell above first.")
    # each new question's spec cell follows the code cell that computes its data with the course library
    for index, spec in specs_in(solution):
        if spec.id in NEW:
            data = solution.cells[index - 1]
            assert data.cell_type == "code" and not data.metadata.get("nbgrader")
            assert data.source.startswith(f"# Q{spec.id[len('test-q'):]} data.")
            assert any(name in data.source for name in ("psi(", "predict_proba(", "estimate_by_chunk(",
                                                        "sliding_accuracy("))
            assert "seed=" in data.source or "default_rng(" in data.source


@pytest.mark.parametrize("exercise", list(RIGHT))
def test_every_distractor_gets_its_own_misconception_and_message(specs, entries, exercise):
    spec, entry = specs[exercise], entries[exercise]
    assert entry.assess(RIGHT[exercise]).status == "correct"
    for mistake in spec.mistakes:
        verdict = entry.assess(mistake.when[1])
        assert verdict.status == "incorrect" and verdict.misconception == mistake.id, (mistake.id, verdict)
        assert verdict.message == mistake.message
        if spec.difficulty != "easy":  # a plausible mistake, explained (not "that is absurd")
            assert len(mistake.message) > 200, (exercise, mistake.id)


def test_every_design_misconception_the_test_targets_has_a_graded_distractor(specs):
    targeted = MISCONCEPTIONS | LABEL_MISCONCEPTIONS
    for name, (exercise, mistake) in targeted.items():
        spec = specs[exercise]
        assert spec.graded and mistake in {m.id for m in spec.mistakes}, name
    assert {e for e, _ in targeted.values()} == set(NEW)
    # every distractor of the two module-04 questions targets a misconception named here
    assert {(e, m.id) for e in ("test-q7", "test-q10") for m in specs[e].mistakes} <= set(targeted.values())


def test_8_and_9_stay_graded_in_their_modules():
    """Q7 (multiple testing) and Q10 (importance change vs drift) left the Test for module 04's items:
    DESIGN.md misconceptions 8 and 9 stay graded, each by a module item."""
    graded = {}
    for module in ("02_detecting_drift", "05_feature_importance"):
        for _, spec in specs_in(nbformat.read(solution_path(module), as_version=4)):
            graded[spec.id] = spec
    fwer = graded["detect-fwer"]  # 8: P(at least one false alarm) among n tests
    assert fwer.graded and fwer.kind == "function" and fwer.points >= 1
    assert {"union-bound", "single-test-rate", "no-alarm-probability"} <= {m.id for m in fwer.mistakes}
    silent = graded["importance-mcq-silent"]  # 9: an importance swap with every drift test silent
    assert silent.graded and silent.points >= 1
    broken = next(m for m in silent.mistakes if m.id == "tests-are-broken")
    assert "did not change" in broken.message and "P(Y|X)" in broken.message
    converse = graded["importance-drift-no-change"]  # 9, other direction: inputs drift, importances stay
    assert converse.graded and converse.points >= 1
    assert "drift-means-importance-change" in {m.id for m in converse.mistakes}


def test_the_statistics_the_questions_quote():
    assert 1 / 0.10 == 10  # Q7: an explored refusal, one of a random 10%, stands for 10 refusals
    assert round(math.sqrt(0.9 * 0.1 / 100), 3) == 0.03  # Q9: one SD on 100 loans
    assert round(math.sqrt(0.9 * 0.1 / 300), 3) == 0.017  # Q9: on 300 loans


_DUMP = """
import json as _json
def _t(frame):
    return _json.loads(frame.to_json(orient="index"))
_p7 = model7.predict_proba(applicants7[list(FEATURES)])[:, 1]
_first7 = month7 <= 6
_batch9 = production10[production10["month"] == 9]
print("DUMP=" + _json.dumps({
    "q6": {"report": _t(report6), "predicted": {k: float(v) for k, v in predicted_default.items()},
           "train_min": float(training6["income"].min()),
           "below_min": float((inputs6[11]["income"] < training6["income"].min()).mean()),
           "fixed_income_median": float((records(applications[11], "new")["monthly_income_usd"] * 12 / 1000).median())},
    "q7": {"outcomes": _t(outcomes7),
           "truth": [float(right7[_first7].mean()), float(right7[~_first7].mean())],
           "explored_of_refused": [float(explored7[h].sum() / flagged7[h].sum()) for h in (_first7, ~_first7)],
           "default_rate_0_3_to_0_5": float(defaulted7[_first7 & (_p7 >= 0.3) & (_p7 < 0.5)].mean()),
           "default_rate_below_0_3": float(defaulted7[_first7 & (_p7 < 0.3)].mean()),
           "approved_all_predicted_no_default": bool((~flagged7[approved7]).all())},
    "q8": {"monitor": _t(income_monitor), "holdout": float((model8.predict(holdout8[list(FEATURES)]) == holdout8[TARGET]).mean())},
    "q9": {"dashboard": _t(dashboard9)},
    "q10": {"monitor": _t(monitor10), "realised": _t(realised10),
            "input_psi": _t(input_psi10),
            "min_income9": float(_batch9["income"].min()),
            "policy_start": policy10.start, "bug": [bug10.start, bug10.end, bug10.factor]},
}))
"""


@pytest.fixture(scope="module")
def data(solution, tmp_path_factory):
    """What the Test's data cells compute, read back from a run of the instructor notebook."""
    nb = nbformat.from_dict(solution)
    nb.cells.append(nbformat.v4.new_code_cell(_DUMP))
    done = execute(nb, cwd=solution_path(MODULE).parent)
    assert errors(done) == []
    text = "".join(o.get("text", "") for o in done.cells[-1].outputs if o.get("name") == "stdout")
    return json.loads(text.split("DUMP=", 1)[1])


@pytest.mark.slow
def test_q6_the_unit_bug_is_what_the_code_and_the_table_show(data):
    q6 = data["q6"]
    income = q6["report"]["income"]
    assert round(income["median, training"], 1) == 54.8 and round(income["median, month 11"], 1) == 4.6
    assert 11.5 < income["median, training"] / income["median, month 11"] < 12.5  # a factor of 12
    assert round(income["PSI, month 11"], 1) == 8.3 and income["PSI, month 10"] < 0.1
    for feature, row in q6["report"].items():  # the other inputs look as before
        if feature != "income":
            assert row["PSI, month 11"] < 0.02 and row["PSI, month 10"] < 0.02, feature
    assert abs(q6["fixed_income_median"] - income["median, month 10"]) < 3  # x 12 fixes it
    assert round(q6["predicted"]["training"], 2) == 0.15 and round(q6["predicted"]["month 10"], 2) == 0.15
    assert round(q6["predicted"]["month 11"], 2) == 0.24
    assert round(q6["train_min"], 1) == 11.8 and round(q6["below_min"], 2) == 0.99


_NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?%?")


def _stated(spec) -> set[str]:
    """Every number written in a question's prompt, options, mistake messages and worked solution."""
    texts = [spec.prompt, *spec.options[1].values(), *(m.message for m in spec.mistakes), *spec.solution]
    return {n for text in texts for n in _NUMBER.findall(text)}


@pytest.mark.slow
def test_q7_selective_labels_flatter_a_stricter_cut_off(data, specs):
    q7 = data["q7"]
    first, second = (q7["outcomes"][h] for h in ("months 1-6 (cut-off 0.5)", "months 7-12 (cut-off 0.3)"))
    approved, explored = (first["approved loans"], second["approved loans"]), (first["explored refusals"], second["explored refusals"])
    assert approved == (5115, 4674) and explored == (92, 133)
    refused = [1 - h["approval rate"] for h in (first, second)]
    assert [round(100 * r) for r in refused] == [15, 22]  # "about 15%, then 22% of all applicants"
    assert [round(h["default rate of approved loans"], 3) for h in (first, second)] == [0.077, 0.056]
    on_approved = [h["accuracy on approved loans"] for h in (first, second)]
    assert [round(a, 3) for a in on_approved] == [0.923, 0.944]  # the monitor's figure rises ...
    assert q7["approved_all_predicted_no_default"]  # ... and is exactly 1 - the approved loans' default rate
    assert all(abs(h["accuracy on approved loans"] - (1 - h["default rate of approved loans"])) < 1e-12 for h in (first, second))
    assert [round(h["accuracy on approved + explored"], 3) for h in (first, second)] == [0.920, 0.936]
    weighted = [h["same, explored weighted x 10"] for h in (first, second)]
    assert [round(w, 3) for w in weighted] == [0.898, 0.879]
    # "refusals look like under 3% of the applicants with an outcome": counted once, explored loans are few
    assert all(e / (a + e) < 0.03 for a, e in zip(approved, explored))
    assert all(0.08 < share < 0.12 for share in q7["explored_of_refused"])  # a random tenth of the refusals
    # the applicants the stricter cut-off refuses are the riskiest of those approved at 0.5
    assert q7["default_rate_0_3_to_0_5"] > 2 * q7["default_rate_below_0_3"]
    # the weighted figure, not the others, tracks the truth the simulation knows (not stated in the Test)
    truth = q7["truth"]
    assert all(abs(w - t) < 0.01 for w, t in zip(weighted, truth)) and truth[1] < truth[0]
    assert on_approved[1] > on_approved[0] + 0.015  # the monitor's rise is selection, not skill
    assert _stated(specs["test-q7"]) == {
        "0.5", "0.3", "10%", "7", "1", "10", "5,115", "4,674", "92", "133", "0.923", "0.944", "0.077", "0.056",
        "15%", "22%", "3%", "0.920", "0.936", "0.898", "0.879"}  # each one checked above


@pytest.mark.slow
def test_q10_the_label_free_estimate_misses_the_concept_change_and_praises_the_bug(data, specs):
    q10 = data["q10"]
    rows = {int(m): r for m, r in q10["monitor"].items()}
    realised = {int(m): r for m, r in q10["realised"].items()}
    estimate = {m: r["estimated accuracy"] for m, r in rows.items()}
    truth = {m: r["realised accuracy (looking back)"] for m, r in rows.items()}
    assert q10["policy_start"] == 6 and q10["bug"] == [9, 9, 1000.0]
    input_psi = {int(m): r for m, r in q10["input_psi"].items()}
    assert all(rows[m]["largest input PSI"] == max(input_psi[m].values()) for m in rows)
    assert round(max(rows[m]["largest input PSI"] for m in rows if m != 9), 3) == 0.032  # "at most 0.032": stable
    assert [f for f, v in input_psi[9].items() if v >= 0.1] == ["income"] and round(input_psi[9]["income"], 2) == 8.27
    # months 1-5: "within 0.01"
    assert max(abs(estimate[m] - truth[m]) for m in range(1, 6)) < 0.01
    assert (round(min(truth[m] for m in range(1, 6)), 3), round(max(truth[m] for m in range(1, 6)), 3)) == (0.887, 0.898)
    after = [6, 7, 8, 10, 11, 12]
    assert (round(min(estimate[m] for m in after), 3), round(max(estimate[m] for m in after), 3)) == (0.891, 0.900)
    assert (round(min(truth[m] for m in after), 3), round(max(truth[m] for m in after), 3)) == (0.808, 0.846)
    assert (round(min(truth[m] for m in after), 2), round(max(truth[m] for m in after), 2)) == (0.81, 0.85)
    assert all(abs(estimate[m] - 0.90) < 0.01 for m in after)  # "near 0.90"
    scores = [rows[m]["mean score"] for m in rows if m != 9]
    assert (round(min(scores), 3), round(max(scores), 3)) == (0.168, 0.187)
    # month 9: the unit bug
    nine = rows[9]
    assert nine["median income"] == 55800 and all(54 < rows[m]["median income"] < 58 for m in rows if m != 9)
    others = sorted(rows[m]["median income"] for m in rows if m != 9)
    assert 900 < nine["median income"] / others[len(others) // 2] < 1100  # "1000 times too large" ...
    assert q10["min_income9"] >= 1000 * 5  # ... on every row (the simulator's smallest income is 5)
    assert round(nine["mean score"], 3) == 0 and nine["share flagged"] == 0
    assert round(estimate[9], 3) == 1.0 and round(truth[9], 3) == 0.821 and truth[9] > min(truth[8], truth[10])
    assert round(realised[9]["default_rate"] * realised[9]["n"]) == 179 and realised[9]["recall"] == 0
    assert abs(truth[9] - (1 - realised[9]["default_rate"])) < 1e-12  # "what 'nobody defaults' scores"
    assert _stated(specs["test-q10"]) == {
        "6", "9", "1", "5", "0.01", "0.90", "0.81", "0.85", "1.000", "0.891", "0.900", "0.808", "0.846", "0.821",
        "0.168", "0.187", "0.887", "0.898", "55,800", "55", "1000", "0", "0.000", "179", "0.032", "8.27",
        "0.1", "0.25"}  # each one checked above; 0.1 and 0.25 are the PSI rule of thumb the prompt quotes


@pytest.mark.slow
def test_q8_the_training_reference_cries_wolf_and_misses_month_12(data):
    q8 = {int(m): row for m, row in data["q8"]["monitor"].items()}
    train_psi = {m: r["PSI vs training data"] for m, r in q8.items()}
    recent_psi = {m: r["PSI vs previous 3 months"] for m, r in q8.items() if m > 3}
    assert [m for m, v in train_psi.items() if v > 0.25] == list(range(5, 12))  # pages every month 5-11
    assert all(train_psi[m] > 0.5 for m in range(6, 12)) and round(train_psi[12], 2) == 0.01
    assert [m for m, v in recent_psi.items() if v > 0.25] == [12] and round(recent_psi[12], 2) == 0.55
    accuracy = [r["accuracy"] for r in q8.values()]
    assert 0.89 <= min(accuracy) and max(accuracy) <= 0.93
    assert all(0.90 <= q8[m]["accuracy"] <= 0.93 for m in range(6, 12))
    assert abs(sum(q8[m]["accuracy"] for m in range(5, 12)) / 7 - 0.91) < 0.01
    assert round(1 - q8[12]["median income"] / q8[11]["median income"], 2) == 0.25  # "a quarter in one month"
    assert round(q8[11]["median income"]) == 76 and round(q8[12]["median income"]) == 57


@pytest.mark.slow
def test_q9_only_the_sliding_window_pages_right(data):
    rows = {int(m): r for m, r in data["q9"]["dashboard"].items()}
    assert all(r["loans"] == 100 for r in rows.values())
    monthly = {m: r["accuracy"] for m, r in rows.items()}
    sliding = {m: r["3-month sliding accuracy"] for m, r in rows.items()}
    cumulative = {m: r["cumulative accuracy"] for m, r in rows.items()}
    assert [m for m in range(1, 8) if monthly[m] <= 0.85] == [3] and round(monthly[3], 2) == 0.82
    assert round(monthly[4], 2) == 0.92
    assert [m for m, v in sliding.items() if v <= 0.85] == [9, 10, 11, 12]
    assert all(sliding[m] > 0.87 for m in range(1, 9))
    assert [round(sliding[m], 3) for m in (9, 10, 11, 12)] == [0.84, 0.817, 0.82, 0.827]
    assert all(v > 0.85 for v in cumulative.values()) and round(cumulative[12], 3) == 0.867
    defaults = sum(rows[m]["defaults"] for m in range(8, 13))
    right = sum(round(monthly[m] * 100) for m in range(8, 13))
    assert defaults == 91 and round(1 - defaults / 500, 3) == 0.818 and right == 410  # the model: 0.82
    # "At 0.82 a month it would first page in month 19"
    total = sum(round(monthly[m] * 100) for m in range(1, 13))
    month = next(k for k in range(13, 40) if (total + 82 * (k - 12)) / (100 * k) <= 0.85)
    assert month == 19


@pytest.mark.parametrize("k", range(3))
def test_the_judge_shows_each_q7_and_q10_distractor_its_message(solution, specs, k):
    """The committed release, answered with the k-th distractor of Q7 and Q10, through the judge nbgrader
    runs after execution (choice answers are judged from the answer cell's text: no kernel needed)."""
    from traitlets.config import Config

    from grader.judge import JudgeTestCells
    from tests.support import release_path

    chosen = {e: specs[e].mistakes[k] for e in ("test-q7", "test-q10")}
    nb = fill_release(nbformat.read(release_path(MODULE), as_version=4), solution,
                      {e: m.when[1] for e, m in chosen.items()})
    config = Config({"CourseDirectory": {"root": str(solution_path(MODULE).parents[2]), "source_directory": "solutions"}})
    judged, _ = JudgeTestCells(config=config).preprocess(nb, {"nbgrader": {"assignment": MODULE, "notebook": MODULE}})
    records = {r["exercise"]: r for r in results(judged) if r.get("judge")}
    assert {e for e, r in records.items() if r["status"] == "correct"} == set(RIGHT) - set(chosen)
    for exercise, mistake in chosen.items():
        record = records[exercise]
        assert (record["status"], record["misconception"], record["message"]) == ("incorrect", mistake.id, mistake.message)
        cell = next(c for c in judged.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{exercise}-test")
        card, error = cell.outputs
        assert mistake.message in card["data"]["text/plain"] and "Worked solution" in card["data"]["text/html"]
        assert error["output_type"] == "error" and error["evalue"] == f"{exercise}: {mistake.id}: {mistake.message}"


def _final_index(nb) -> int:
    return max(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip() == "results()")


def _assert_nothing_revealed_before_final(nb):
    final = _final_index(nb)
    for cell in nb.cells[:final]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            shown = " ".join(str(data.get(k, "")) for k in ("text/html", "text/plain", "text/markdown"))
            shown += out.get("text", "")
            for word in REVEALING:
                assert word not in shown, f"revealed {word!r} before the final cell: {shown[:200]}"
            if RESULT_MIME in data:
                record = data[RESULT_MIME]
                assert record["status"] in ("recorded", "unanswered") and record["misconception"] is None


def _final_record(nb) -> dict:
    final = nb.cells[_final_index(nb)]
    return next(out["data"][RESULT_MIME] for out in final.outputs if RESULT_MIME in out.get("data", {}))


@pytest.mark.slow
def test_exam_reveals_nothing_and_the_judge_scores_and_explains_after_grading(tmp_path, solution, specs):
    course = R.make_course(tmp_path / "course", modules=[MODULE])
    R.generate(course, MODULE)
    name = solution_path(MODULE).name
    release = nbformat.read(course / "notebooks" / MODULE / name, as_version=4)
    submissions = {"solution": fill_release(release, solution),
                   "half": fill_release(release, solution, HALF_RIGHT)}
    for student, nb in submissions.items():
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(nb, path)
        ran = execute(path, cwd=tmp_path)  # as the learner runs it, before submitting
        assert errors(ran) == []
        _assert_nothing_revealed_before_final(ran)
        checks = [r for r in results(ran) if "exercise" in r]
        assert len(checks) == 10 and all(r["status"] == "recorded" for r in checks)
        final = _final_record(ran)
        assert final["answered"] == 10 and "score" not in final  # the learner's file cannot know the score
        html = next(o["data"]["text/html"] for o in ran.cells[_final_index(ran)].outputs if "text/html" in o.get("data", {}))
        assert "10 of 10 answers recorded" in html and "Worked solution" not in html
        R.submit(course, student, MODULE, path, name)
    # every distractor of every question, through nbgrader's judge: submission k picks each question's k-th mistake
    mistakes = {f"mistake{k}": {s.id: s.mistakes[k] for s in specs.values()} for k in range(3)}
    for student, chosen in mistakes.items():
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(fill_release(release, solution, {e: m.when[1] for e, m in chosen.items()}), path)
        R.submit(course, student, MODULE, path, name)
    proc = R.autograde(course, MODULE)
    assert proc.returncode == 0, proc.stderr[-3000:]

    scores = {student: R.total_score(course, MODULE, student) for student in [*submissions, *mistakes]}
    assert scores == {"solution": (18, 18), "half": (9, 18), "mistake0": (0, 18), "mistake1": (0, 18),
                      "mistake2": (0, 18)}
    cells = R.cell_scores(course, MODULE, "half")
    assert {g[: -len("-test")] for g, c in cells.items() if c.score == 0} == set(HALF_RIGHT)
    graded = nbformat.read(course / "autograded" / "half" / MODULE / name, as_version=4)
    verdicts = [r for r in results(graded) if r.get("judge")]
    assert len(verdicts) == 10  # after grading, every question carries the judge's verdict …
    assert {r["exercise"] for r in verdicts if r["status"] == "incorrect"} == set(HALF_RIGHT)
    assert all(r["misconception"] for r in verdicts if r["status"] == "incorrect")  # … naming the mistake
    shown = "".join(o["data"].get("text/html", "") for c in graded.cells for o in c.get("outputs", [])
                    if o.get("output_type") == "display_data")
    assert shown.count("Worked solution") == 10  # … and its worked explanation, for the feedback
    for student, chosen in mistakes.items():
        graded = nbformat.read(course / "autograded" / student / MODULE / name, as_version=4)
        judged = {r["exercise"]: r for r in results(graded) if r.get("judge")}
        assert set(judged) == set(specs)
        for exercise, mistake in chosen.items():
            record = judged[exercise]
            assert record["status"] == "incorrect" and record["misconception"] == mistake.id, (student, record)
            assert record["message"] == mistake.message


def _decoded_texts(raw: str) -> list[str]:
    """Everything a learner can decode from the file with the standard library: every base64 run,
    inflated when it is zlib, and the JSON inside."""
    import base64
    import re
    import zlib

    texts = [raw]
    for run in re.findall(r"[A-Za-z0-9+/=]{40,}", raw):
        try:
            blob = base64.b64decode(run + "=" * (-len(run) % 4))
        except ValueError:
            continue
        for data in (blob,):
            try:
                data = zlib.decompress(data)
            except zlib.error:
                pass
            try:
                texts.append(json.dumps(json.loads(data)))
            except ValueError:
                texts.append(data.decode("latin-1"))
    return texts


def test_the_released_test_holds_no_key(solution, specs):
    """Decode everything in the Test's release: no answer, no hash of one, no worked solution, hint, note
    or mistake (its id or its message)."""
    from driftlab.exercises.entries import digest
    from tests.support import compiled, release_path

    raw = release_path(MODULE).read_text(encoding="utf-8")
    everything = "\n".join(_decoded_texts(raw))
    assert len(everything) > len(raw)  # the bank was found and decoded
    keys = compiled(MODULE)
    assert set(keys) == set(specs)
    for exercise, entry in keys.items():
        spec = specs[exercise]
        for letter in spec.options[1]:  # no salted hash of any option, right or wrong
            assert digest(entry.salt, letter) not in everything and digest(entry.salt, f"1|{letter}") not in everything
        for text in (*spec.solution, *spec.hints, *(m.message for m in spec.mistakes), spec.note):
            if text and len(text) > 12:
                assert text[:60] not in everything, (exercise, text[:60])
        for mistake in spec.mistakes:
            assert mistake.id not in everything, (exercise, mistake.id)
    assert "Final Answer" not in everything and "-> Option" not in everything
    shipped = next(t for t in _decoded_texts(raw) if '"has_keys"' in t)  # the bank, decoded
    assert '"has_keys": true' not in shipped and '"has_keys": false' in shipped
    assert "hint" not in next(c.source for c in nbformat.reads(raw, 4).cells if c.cell_type == "code")


@pytest.mark.slow
def test_hint_in_the_test_gives_nothing(tmp_path):
    from tests.support import release_path

    nb = nbformat.read(release_path(MODULE), as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell('from driftlab.exercises import hint\nhint("test-q1")\nhint("test-q9")'))
    ran = execute(nb, cwd=tmp_path)
    assert errors(ran) == []
    text = "".join(o.get("text", "") for o in ran.cells[2].outputs)
    assert text.count("Hints are not available in the Test.") == 2
