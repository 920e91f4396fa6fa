"""Module 01 (why models degrade): seed MCQs as given, four root causes diagnosed, claims hold on the data."""
from __future__ import annotations

import json

import nbformat
import pytest
from tests.support import errors, execute, fill_release, results, solution_path

from grader import nbgrader as R

from grader.exercises.source import compile_notebook, specs_in
MODULE = "01_why_models_degrade"
DIAGNOSES = {"why-diagnose-covariate": "A", "why-diagnose-label": "B", "why-diagnose-concept": "C",
             "why-diagnose-bug": "D"}


@pytest.fixture(scope="module")
def solution():
    return nbformat.read(solution_path(MODULE), as_version=4)


@pytest.fixture(scope="module")
def entries(solution):
    return compile_notebook(solution, hidden=True)


def test_seed_mcqs_are_exactly_the_seed(solution):
    specs = {s.id: s for _, s in specs_in(solution)}
    q1, q2 = specs["why-mcq1"], specs["why-mcq2"]
    assert q1.prompt == "Why do machine learning models often degrade when deployed in production?"
    assert q1.options[1] == {"A": "Because the model code is always incorrect",
                             "B": "Because the data or environment changes over time",
                             "C": "Because production servers are slower",
                             "D": "Because models never work outside training"}
    assert q1.answer == {1: "B"} and q1.difficulty == "easy"
    assert q1.hints == ("Models degrade when input data changes from training data",)
    for seed_mistake in ("Thinking model code is always wrong", "Blaming server speed for model errors",
                         "Assuming models never work outside training"):
        assert any(m.message.startswith(seed_mistake) for m in q1.mistakes)
    assert q2.answer == {1: "D"} and q2.difficulty == "easy"
    assert q2.options[1]["D"] == "Track model performance metrics regularly"
    for seed_mistake in ("Ignoring model outputs after deployment", "Waiting too long to retrain",
                         "Stopping data collection"):
        assert any(m.message.startswith(seed_mistake) for m in q2.mistakes)
    assert any("Final Answer: Track model performance metrics regularly -> Option D" in s for s in q2.solution)


@pytest.mark.parametrize("exercise, right", list(DIAGNOSES.items()) + [("why-mcq1", "B"), ("why-mcq2", "D")])
def test_every_distractor_has_its_own_message(entries, exercise, right):
    entry = entries[exercise]
    assert entry.assess(right).status == "correct"
    seen = set()
    for letter in "ABCD":
        if letter == right:
            continue
        verdict = entry.assess(letter)
        assert verdict.status == "incorrect" and verdict.misconception not in (None, "unknown")
        seen.add((verdict.misconception, verdict.message))
    assert len(seen) == 3


def test_four_causes_cover_the_four_options(entries):
    assert sorted(DIAGNOSES.values()) == ["A", "B", "C", "D"]
    assert {e.difficulty for k, e in entries.items() if k in DIAGNOSES} == {"medium", "hard"}


@pytest.mark.slow
def test_the_fingerprints_the_text_describes_hold_on_the_simulated_data(solution):
    nb = nbformat.from_dict(solution)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json; print('TABLE=' + table.astype(str).to_json(orient='index'))"))
    done = execute(nb, cwd=solution_path(MODULE).parent)
    assert errors(done) == []
    text = next(o["text"] for o in done.cells[-1].outputs if o.get("name") == "stdout")
    table = {k: {c: (v if c == "drifting inputs" else float(v)) for c, v in row.items()}
             for k, row in json.loads(text.split("TABLE=", 1)[1]).items()}
    cov, lab, con, bug = (table[k] for k in ("covariate shift", "label shift", "concept shift", "data-quality bug"))
    drops = [row["drop"] for row in (cov, lab, con, bug)]
    assert min(drops) > 0.03 and max(drops) - min(drops) < 0.03          # "the same accuracy drop"
    assert "credit_score" in cov["drifting inputs"] and cov["calibration gap"] < 0.03
    assert abs(cov["expected rate"] - cov["default rate"]) < 0.03        # the model's view follows
    assert lab["default rate"] - lab["expected rate"] > 0.05 and lab["calibration gap"] > 0.05
    assert con["drifting inputs"] == "none" and abs(con["default rate"] - table["no change"]["default rate"]) < 0.03
    assert con["calibration gap"] > 0.04
    assert "income" in bug["drifting inputs"] and bug["impossible values"] > 0.3
    assert bug["expected rate"] < table["no change"]["expected rate"] / 2
    for row in (cov, lab, con):
        assert row["impossible values"] == 0
    checks = {r["exercise"]: r["status"] for r in results(done) if "exercise" in r}
    assert set(checks.values()) == {"correct"} and len(checks) == 6


@pytest.mark.slow
def test_nbgrader_scores_diagnoses(tmp_path, solution):
    course = R.make_course(tmp_path / "course", modules=[MODULE])
    R.generate(course, MODULE)
    name = solution_path(MODULE).name
    release = nbformat.read(course / "notebooks" / MODULE / name, as_version=4)
    wrong = {"why-diagnose-concept": "A", "why-mcq1": "C"}
    for student, nb in {"right": fill_release(release, solution),
                        "wrong": fill_release(release, solution, wrong)}.items():
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(nb, path)
        R.submit(course, student, MODULE, path, name)
    assert R.autograde(course, MODULE).returncode == 0
    score, max_score = R.total_score(course, MODULE, "right")
    assert score == max_score == 8
    cells = R.cell_scores(course, MODULE, "wrong")
    for grade_id, cell in cells.items():
        expected = 0 if grade_id[: -len("-test")] in wrong else cell.max_score
        assert cell.score == expected, grade_id
    graded = nbformat.read(course / "autograded" / "wrong" / MODULE / name, as_version=4)
    records = {r["exercise"]: r["misconception"] for r in results(graded) if "exercise" in r}
    assert records["why-diagnose-concept"] == "concept-read-as-covariate"
    assert records["why-mcq1"] == "server-speed"
