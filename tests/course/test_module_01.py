"""Module 01 (why models degrade): seed MCQs as given, four root causes diagnosed, claims hold on the data."""
from __future__ import annotations

import json

import nbformat
import pytest
from tests.support import errors, execute, fill_release, release_path, results, solution_path

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
def test_every_distractor_has_its_own_message(solution, entries, exercise, right):
    spec = {s.id: s for _, s in specs_in(solution)}[exercise]
    by_letter = {m.when[1]: m for m in spec.mistakes}
    entry = entries[exercise]
    assert entry.assess(right).status == "correct"
    seen = set()
    for letter in "ABCD":
        if letter == right:
            continue
        verdict = entry.assess(letter)
        assert verdict.status == "incorrect" and verdict.misconception == by_letter[letter].id, (letter, verdict)
        assert verdict.message == by_letter[letter].message
        seen.add((verdict.misconception, verdict.message))
    assert len(seen) == 3


def test_the_diagnoses_define_label_and_concept_shift_so_they_exclude_each_other(solution):
    """Label shift moves P(Y|X) too, through the prior: the options must say so, or branch 4 has two answers."""
    specs = {s.id: s for _, s in specs_in(solution)}
    options = {specs[k].options[1]["B"] for k in DIAGNOSES} | {specs[k].options[1]["C"] for k in DIAGNOSES}
    assert len(options) == 2, "the four branches share their options"
    label, concept = specs["why-diagnose-label"].options[1]["B"], specs["why-diagnose-label"].options[1]["C"]
    assert "P(X|Y) did not" in label and "through the prior" in label
    assert "beyond what a change in P(Y) explains" in concept and "P(X|Y) changed" in concept
    branch4 = specs["why-diagnose-label"]
    assert "recession" not in branch4.prompt.lower()
    assert "within each group, every input is" in branch4.prompt      # P(X|Y) reported unchanged
    assert "one common factor" in branch4.prompt                       # the prior correction recalibrates
    concept_mistake = next(m for m in branch4.mistakes if m.when[1] == "C")
    assert concept_mistake.id == "label-read-as-concept" and "through the prior" in concept_mistake.message


def test_the_recession_is_taught_as_concept_shift_not_label_shift(solution):
    specs = {s.id: s for _, s in specs_in(solution)}
    recession = specs["why-p-recession"]
    assert not recession.graded and recession.answer == {1: "C"}
    assert {m.when[1]: m.id for m in recession.mistakes} == {
        "A": "recession-as-covariate-only", "B": "recession-as-label-shift", "D": "recession-as-bug"}
    text = "\n".join(c.source for c in solution.cells if c.cell_type == "markdown")
    assert "A recession is not a label shift" in text
    assert "a recession: more applicants default" not in text
    for source in ("Lipton, Wang & Smola", "Moreno-Torres", "Saerens", "Gama et al."):
        assert source in text, source


def test_four_causes_cover_the_four_options(entries):
    assert sorted(DIAGNOSES.values()) == ["A", "B", "C", "D"]
    assert {e.difficulty for k, e in entries.items() if k in DIAGNOSES} == {"medium", "hard"}


@pytest.mark.slow
def test_the_fingerprints_the_text_describes_hold_on_the_simulated_data(solution):
    nb = nbformat.from_dict(solution)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json; print('TABLE=' + table.astype(str).to_json(orient='index'))\n"
        "print('TELL=' + label_or_concept.to_json(orient='index'))"))
    done = execute(nb, cwd=solution_path(MODULE).parent)
    assert errors(done) == []
    text = next(o["text"] for o in done.cells[-1].outputs if o.get("name") == "stdout")
    table = {k: {c: (v if c == "drifting inputs" else float(v)) for c, v in row.items()}
             for k, row in json.loads(text.split("TABLE=", 1)[1].split("\nTELL=", 1)[0]).items()}
    tell = json.loads(text.split("TELL=", 1)[1])
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
    # "Label shift or concept shift?": both open the calibration gap; P(X|Y) and the prior correction tell them apart
    noise = tell["no change"]["within-class shift (SD)"]
    t_lab, t_con, t_cov = tell["label shift"], tell["concept shift"], tell["covariate shift"]
    assert t_lab["within-class shift (SD)"] <= noise + 0.05 < 0.2                  # classes look as in training
    assert t_con["within-class shift (SD)"] > 3 * noise                            # the classes' profiles change
    assert t_lab["gap after prior correction"] < 0.02 < 0.05 < t_lab["calibration gap"]   # one factor recalibrates
    assert t_con["gap after prior correction"] > 0.04                              # no single factor can
    assert abs(t_lab["BBSE estimate (no outcomes)"] - t_lab["default rate"]) < 0.03  # BBSE right under its assumption
    assert abs(t_cov["BBSE estimate (no outcomes)"] - t_cov["default rate"]) > 0.1   # far off where it fails
    checks = {r["exercise"]: r["status"] for r in results(done) if "exercise" in r}
    assert set(checks.values()) == {"correct"} and len(checks) == 6


@pytest.mark.slow
def test_nbgrader_scores_diagnoses(tmp_path, solution):
    course = R.make_course(tmp_path / "course", modules=[MODULE])
    R.generate(course, MODULE)
    name = solution_path(MODULE).name
    release = nbformat.read(course / "notebooks" / MODULE / name, as_version=4)
    wrong = {"why-diagnose-concept": "A", "why-diagnose-label": "C", "why-mcq1": "C"}
    # branch 4's other two distractors, each in its own submission, also go through the judge
    label_students = {"label-as-covariate": "A", "label-as-bug": "D"}
    answers = {"right": {}, "wrong": wrong} | {k: {"why-diagnose-label": v} for k, v in label_students.items()}
    for student, replace in answers.items():
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(fill_release(release, solution, replace), path)
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
    assert records["why-diagnose-label"] == "label-read-as-concept"
    assert records["why-mcq1"] == "server-speed"
    spec = {s.id: s for _, s in specs_in(solution)}["why-diagnose-label"]
    by_letter = {m.when[1]: m for m in spec.mistakes}
    for student, letter in label_students.items():
        assert R.cell_scores(course, MODULE, student)["why-diagnose-label-test"].score == 0
        graded = nbformat.read(course / "autograded" / student / MODULE / name, as_version=4)
        judged = [r for r in results(graded) if r.get("exercise") == "why-diagnose-label" and r.get("judge")]
        assert judged and judged[-1]["misconception"] == by_letter[letter].id, (student, judged)


@pytest.mark.slow
def test_every_branch4_distractor_gets_its_message_in_the_learners_kernel(tmp_path, solution):
    """The instant check of the release (the learner's kernel, the compiled bank) names each mistake."""
    spec = {s.id: s for _, s in specs_in(solution)}["why-diagnose-label"]
    release = nbformat.read(release_path(MODULE), as_version=4)
    setup = next(c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    cells = [setup]
    for mistake in spec.mistakes:
        cells += [nbformat.v4.new_code_cell(f"%%answer why-diagnose-label\n{mistake.when[1]}"),
                  nbformat.v4.new_code_cell('check("why-diagnose-label")')]
    done = execute(nbformat.v4.new_notebook(cells=cells, metadata=release.metadata), cwd=tmp_path, timeout=120)
    assert errors(done) == []
    checks = [r for r in results(done) if r.get("exercise") == "why-diagnose-label"]
    assert [(r["status"], r["misconception"], r["message"]) for r in checks] == [
        ("incorrect", m.id, m.message) for m in spec.mistakes]
