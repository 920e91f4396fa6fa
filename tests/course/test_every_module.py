"""Every module, end to end: the real notebooks executed headless and graded by real nbgrader.

Derived from the exercise specs themselves, so a new exercise or mistake is covered automatically:
solutions score full marks, untouched releases run clean and score zero, every known mistake gets
its own misconception and no points, and the release gives nothing away.
"""
from __future__ import annotations

import shutil
import textwrap

import nbformat
import pytest
from tests.support import MODULES, ROOT, errors, execute, release_path, results, solution_path

from grader import nbgrader as R
from driftlab.exercises.blanks import SOLUTION_MARK, fill, strip_solution_marks
from driftlab.protocol import ANSWER_MAGIC, magic_body
from grader.exercises.source import SOLUTION_REGION, specs_in
pytestmark = pytest.mark.slow


def _specs(module):
    return [spec for _, spec in specs_in(nbformat.read(solution_path(module), as_version=4))]


def _exam(module) -> bool:
    return "exam=True" in solution_path(module).read_text(encoding="utf-8")


@pytest.mark.parametrize("module", MODULES)
def test_solution_runs_and_every_check_passes(module):
    path = solution_path(module)
    nb = execute(path, cwd=path.parent)
    assert errors(nb) == []
    graded = {s.id for s in _specs(module) if s.graded}
    records = results(nb)
    checks = {r["exercise"]: r for r in records if "exercise" in r}
    assert set(checks) == graded, "every graded exercise is checked exactly where the notebook says"
    if _exam(module):
        assert all(r["status"] == "recorded" for r in checks.values())
        final = [r for r in records if "exam" in r]
        assert final and final[-1]["answered"] == final[-1]["questions"] == len(graded) and "score" not in final[-1]
    else:
        wrong = {k: (r["status"], r.get("message")) for k, r in checks.items() if r["status"] != "correct"}
        assert wrong == {}


@pytest.mark.parametrize("module", MODULES)
def test_untouched_release_runs_clean_and_says_unanswered(module):
    path = release_path(module)
    nb = execute(path, cwd=path.parent)
    assert errors(nb) == []
    records = results(nb)
    checks = [r for r in records if "exercise" in r]
    assert checks and all(r["status"] == "unanswered" for r in checks)
    if _exam(module):
        final = [r for r in records if "exam" in r]
        assert final and final[-1]["answered"] == 0


def _sources(nb) -> str:
    return "\n".join(cell.source for cell in nb.cells)


@pytest.mark.parametrize("module", MODULES)
def test_release_gives_nothing_away(module):
    release = nbformat.read(release_path(module), as_version=4)
    text = _sources(release)
    raw = release_path(module).read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "_dl_run", "%%exercise"):
        assert marker not in raw
    assert not SOLUTION_MARK.search(text), "an [n:answer] mark survived the build"
    solution = nbformat.read(solution_path(module), as_version=4)
    outside = set()
    for cell in solution.cells:
        source = SOLUTION_REGION.sub("", cell.source)
        if magic_body(cell.source, ANSWER_MAGIC) or magic_body(cell.source, "%%exercise"):
            continue
        outside |= {line.strip() for line in source.splitlines()}
    for spec in _specs(module):
        secrets = [s for s in spec.solution if len(s) > 30] + [m.message for m in spec.mistakes if len(m.message) > 30]
        if spec.note and len(spec.note) > 30:
            secrets.append(spec.note)
        for secret in secrets:
            assert secret not in text, f"{spec.id}: release contains {secret[:60]!r}"
    for cell in solution.cells:
        for region in SOLUTION_REGION.findall(cell.source):
            for line in region.splitlines():
                line = line.strip()
                if len(line) >= 12 and not line.startswith("#") and line not in outside:
                    assert line not in text, f"solution code in the release: {line!r}"
        if magic_body(cell.source, ANSWER_MAGIC) and SOLUTION_MARK.search(cell.source):
            filled = [strip_solution_marks(line).strip() for line in cell.source.splitlines() if SOLUTION_MARK.search(line)]
            for line in filled:
                if len(line) >= 6:
                    assert line not in text, f"a filled answer is in the release: {line!r}"


def _apply_mistake(release, spec, mistake) -> bool:
    """Answer one exercise of a release notebook with a known mistake; False if it can't be expressed."""
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id != f"{spec.id}-answer":
            continue
        if spec.kind == "blanks" and mistake.code:
            cell.source = f"{ANSWER_MAGIC} {spec.id}\n{textwrap.dedent(mistake.code).strip()}"
            return True
        if spec.kind in ("blanks", "choice") and (mistake.when or mistake.fill):
            letters = {**spec.answer, **(mistake.when or {})}
            if spec.kind == "choice":
                body = letters[1]
            else:
                fills = {b: spec.options[b][letters[b]] for b in spec.blanks}
                body = fill(spec.template, {**fills, **(mistake.fill or {})})
            cell.source = f"{ANSWER_MAGIC} {spec.id}\n{body}"
            return True
        if spec.kind == "function" and mistake.code:
            cell.source = textwrap.dedent(mistake.code)
            return True
    return False


@pytest.mark.parametrize("module", MODULES)
def test_every_mistake_has_its_message_and_no_points(module):
    """Each known mistake of each exercise, judged exactly as the hidden test judges it."""
    
    from grader.exercises.source import compile_notebook
    from driftlab.exercises.entries import define as _define_for_tests

    entries = compile_notebook(nbformat.read(solution_path(module), as_version=4), hidden=True)
    checked = 0
    for spec in _specs(module):
        for mistake in spec.mistakes:
            if spec.kind == "function":
                answer = _define_for_tests(mistake.code, spec.name, spec.setup)
            elif mistake.code:
                answer = textwrap.dedent(mistake.code)
            else:
                letters = {**spec.answer, **(mistake.when or {})}
                if spec.kind == "choice":
                    answer = letters[1]
                else:
                    fills = {b: spec.options[b][letters[b]] for b in spec.blanks}
                    answer = fill(spec.template, {**fills, **(mistake.fill or {})})
            verdict = entries[spec.id].assess(answer)
            assert verdict.status == "incorrect" and verdict.misconception == mistake.id, (spec.id, mistake.id, verdict)
            checked += 1
    assert checked > 0


def _record(nb, exercise):
    judged = [r for r in results(nb) if r.get("exercise") == exercise and r.get("judge")]
    if judged:  # after autograde: the judge's verdict in the test cell decides
        return judged[-1]
    found = [r for r in results(nb) if r.get("exercise") == exercise]
    answers = [a for r in results(nb) if "answers" in r for a in r["answers"] if a["exercise"] == exercise]
    return (found + answers)[-1] if (found or answers) else None


@pytest.mark.parametrize("module", MODULES)
def test_nbgrader_full_marks_zero_and_every_mistake(module, course):
    release_file = course / "notebooks" / module / solution_path(module).name
    name = release_file.name
    R.submit(course, "solution", module, solution_path(module))
    R.submit(course, "untouched", module, release_file)
    specs = [s for s in _specs(module) if s.graded]
    applied: dict[str, list[tuple[str, str]]] = {}
    # Two mistake submissions per module go through real nbgrader (the first and second mistake of
    # every exercise); every mistake is checked without a kernel in test_every_mistake_has_its_message.
    for k in range(min(2, max((len(s.mistakes) for s in specs), default=0))):
        student = f"mistake{k}"
        nb = nbformat.read(release_file, as_version=4)
        done = []
        for spec in specs:
            if k < len(spec.mistakes) and _apply_mistake(nb, spec, spec.mistakes[k]):
                done.append((spec.id, spec.mistakes[k].id))
        if done:
            path = course / f"{student}-{module}.ipynb"
            nbformat.write(nb, path)
            R.submit(course, student, module, path, name)
            applied[student] = done
    proc = R.autograde(course, module)
    assert proc.returncode == 0, proc.stderr[-3000:]

    score, max_score = R.total_score(course, module, "solution")
    assert max_score > 0 and score == max_score
    untouched = R.cell_scores(course, module, "untouched")
    assert untouched and all(c.score == 0 for c in untouched.values())
    graded_untouched = nbformat.read(course / "autograded" / "untouched" / module / name, as_version=4)
    tracebacks = "\n".join("\n".join(o.get("traceback", [])) for c in graded_untouched.cells
                           for o in c.get("outputs", []) if o.output_type == "error")
    assert all(f"{s.id}: not answered" in tracebacks for s in specs)  # the judge's one-line reason per exercise
    for secret in ("_dl_run", "dl1:", "BEGIN HIDDEN TESTS", "Traceback"):
        assert secret not in tracebacks, "a verdict shows the hidden test's source or a traceback"

    test_cells = {s.id: f"{s.id}-test" for s in specs}
    for student, done in applied.items():
        scores = R.cell_scores(course, module, student)
        graded_nb = nbformat.read(course / "autograded" / student / module / name, as_version=4)
        for exercise, misconception in done:
            assert scores[test_cells[exercise]].score == 0, f"{student}: {exercise} ({misconception}) earned points"
            record = _record(graded_nb, exercise)
            if not _exam(module):
                assert record is not None and record["misconception"] == misconception, (exercise, record)
            else:
                assert record is not None and record["status"] != "correct"

    # nbgrader export works and agrees with the gradebook
    R.run_nbgrader(course, "export", f"--to={course / 'grades.csv'}", "--log-level=WARN")
    rows = (course / "grades.csv").read_text().splitlines()
    assert any(row.startswith(module) and ",solution," in row for row in rows)


def test_committed_release_equals_a_fresh_build():
    from grader.build import build

    assert build(check=True) == 0


def test_build_check_names_a_stale_notebook(tmp_path, capsys):
    from grader.build import build

    module = MODULES[0]
    for part in ("solutions", "notebooks"):
        shutil.copytree(ROOT / part / module, tmp_path / part / module)
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    stale = tmp_path / "notebooks" / module / solution_path(module).name
    nb = nbformat.read(stale, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("edited by hand"))
    nbformat.write(nb, stale)
    assert build(root=tmp_path, check=True) == 1
    assert f"notebooks/{module}/{stale.name}" in capsys.readouterr().out


def test_the_label_delay_is_one_story_across_the_course():
    """Issue 13, finding 6: real default is known after 12-24 months; modules 01 and 03 use an early proxy
    known after 3 months; module 06 and the lab say openly that they shorten it, and by how much."""
    import re

    text = {m: "\n".join(c.source for c in nbformat.read(solution_path(m), as_version=4).cells) for m in MODULES}
    for module in ("01_why_models_degrade", "03_accuracy_thresholds"):
        assert re.search(r"^label_delay = 3\b", text[module], re.M), module
        assert "12–24 months" in text[module] and "proxy" in text[module], module
    assert "shortens** the label delay" in text["06_retraining"]
    assert "shorter than the proxy's three months" in text["07_drift_lab"]
