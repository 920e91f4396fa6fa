"""The merged ``gradebook.db`` (``grader.batch.gradebook.merge``, issue 15 point 7), without a kernel.

A template gradebook is built with nbgrader's own API (two assignments, grade / solution / task cells
across two notebooks); a few hundred synthetic rows are merged in one bulk transaction, and read back
through ``nbgrader.api.Gradebook``: every learner, submission, per-cell score and total is what the
rows say, and the database has the same rows, row for row, as nbgrader's ``add_submission`` path
(one commit per submission, the code this replaced) gives on the same input.
"""
from __future__ import annotations

import random
import subprocess
import sys
import shutil
import sqlite3
import warnings
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from grader.batch import gradebook as gbm
from grader.batch import results as res

COURSE = "merge_test"
# assignment -> notebook -> (grade cells with max score, solution cells, task cells with max score)
LAYOUT = {
    "01_alpha": {"alpha": ({"g1": 2.0, "g2": 3.0, "g3": 5.0}, ["s1", "s2"], {})},
    "02_beta": {"beta": ({"h1": 1.0, "h2": 4.0}, ["t1"], {"task1": 2.0}),
                "beta_extra": ({"k1": 10.0}, [], {})},
}


def template(path: Path) -> Path:
    db = path / "template.db"
    with Gradebook(f"sqlite:///{db}", COURSE) as gb:
        for assignment, notebooks in LAYOUT.items():
            gb.add_assignment(assignment)
            for nb, (grades, solutions, tasks) in notebooks.items():
                gb.add_notebook(nb, assignment)
                for name, top in grades.items():
                    gb.add_grade_cell(name, nb, assignment, max_score=top, cell_type="code")
                for name in solutions:
                    gb.add_solution_cell(name, nb, assignment)
                for name, top in tasks.items():
                    gb.add_task_cell(name, nb, assignment, max_score=top, cell_type="markdown")
    return db


def cells_of(module: str) -> dict[str, float]:
    out = {}
    for grades, _solutions, tasks in LAYOUT[module].values():
        out.update(grades)
        out.update(tasks)
    return out


def synthetic_rows(n: int, seed: int = 7) -> list[res.Row]:
    """``n`` rows: most graded with random per-cell scores (some cells needing a manual grade, some
    absent from the worker's record), some never seen by nbgrader (no cells), one unknown module."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        module = list(LAYOUT)[i % len(LAYOUT)]
        student = f"learner{i // 2:04d}"
        cells = {}
        for name, top in cells_of(module).items():
            kind = rng.random()
            if kind < 0.05:
                continue  # the worker recorded nothing for this cell: the Grade keeps nbgrader's defaults
            if kind < 0.10:
                cells[name] = {"score": None, "max_score": top, "needs_manual": True}
            else:
                cells[name] = {"score": float(rng.randint(0, int(top))), "max_score": top, "needs_manual": False}
        if i % 37 == 5:
            cells = {}  # could not grade: not in the gradebook
        rows.append(res.Row(student, module, res.GRADED if cells else "error", cells=cells))
    rows.append(res.Row("ghost", "99_not_in_course", res.GRADED, cells={"x": {"score": 1.0, "max_score": 1.0,
                                                                                "needs_manual": False}}))
    return rows


def orm_merge(template_db: Path, target: Path, rows: list[res.Row]) -> None:
    """The merge as it was: nbgrader's add_submission, one commit per submission (the reference)."""
    shutil.copy(template_db, target)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{target}", COURSE) as gb:
        warnings.simplefilter("ignore")
        known = {a.name for a in gb.assignments}
        for row in rows:
            if not row.cells or row.module not in known:
                continue
            gb.update_or_create_student(row.student_id)
            submission = gb.add_submission(row.module, row.student_id)
            for nb in submission.notebooks:
                for grade in nb.grades:
                    cell = row.cells.get(grade.name)
                    if cell is not None:
                        grade.auto_score = cell["score"]
                        grade.needs_manual_grade = bool(cell["needs_manual"] or cell["score"] is None)
            gb.db.commit()


def contents(db: Path) -> dict[str, list[tuple]]:
    """Every row of the submission tables, with nbgrader's random ids replaced by what they point at."""
    with sqlite3.connect(db) as con:
        q = lambda sql: sorted(con.execute(sql).fetchall(), key=repr)  # noqa: E731
        return {
            "student": q("select id, first_name, last_name, email, lms_user_id from student"),
            "submission": q("select a.name, s.student_id, s.timestamp, s.extension from submitted_assignment s "
                            "join assignment a on a.id = s.assignment_id"),
            "notebook": q("select a.name, s.student_id, n.name, sn.flagged, sn.late_submission_penalty "
                          "from submitted_notebook sn join submitted_assignment s on s.id = sn.assignment_id "
                          "join assignment a on a.id = s.assignment_id join notebook n on n.id = sn.notebook_id"),
            "grade": q("select a.name, s.student_id, c.name, g.auto_score, g.manual_score, g.extra_credit, "
                       "g.needs_manual_grade from grade g join submitted_notebook sn on sn.id = g.notebook_id "
                       "join submitted_assignment s on s.id = sn.assignment_id "
                       "join assignment a on a.id = s.assignment_id join base_cell c on c.id = g.cell_id"),
            "comment": q("select a.name, s.student_id, c.name, m.auto_comment, m.manual_comment from comment m "
                         "join submitted_notebook sn on sn.id = m.notebook_id "
                         "join submitted_assignment s on s.id = sn.assignment_id "
                         "join assignment a on a.id = s.assignment_id join base_cell c on c.id = m.cell_id"),
        }


def test_merge_of_300_results_gives_the_rows_scores(tmp_path):
    rows = synthetic_rows(300)
    db = template(tmp_path)
    target = tmp_path / "out" / "gradebook.db"
    target.parent.mkdir()
    added = gbm.merge(db, target, rows)
    graded = [r for r in rows if r.cells and r.module in LAYOUT]
    assert added == len(graded) > 250
    assert not target.with_name("gradebook.db.tmp").exists()
    with Gradebook(f"sqlite:///{target}", COURSE) as gb:
        assert sorted(s.id for s in gb.students) == sorted({r.student_id for r in graded})
        for row in graded:
            submission = gb.find_submission(row.module, row.student_id)
            grades = {g.name: g for nb in submission.notebooks for g in nb.grades}
            assert set(grades) == set(cells_of(row.module))  # every graded cell, task cells included
            for name, grade in grades.items():
                cell = row.cells.get(name)
                if cell is None:  # nbgrader's defaults, as add_submission leaves them
                    assert grade.auto_score is None and grade.needs_manual_grade is True
                else:
                    assert grade.auto_score == cell["score"]
                    assert grade.needs_manual_grade == (cell["needs_manual"] or cell["score"] is None)
                assert grade.max_score == cells_of(row.module)[name]
            want = sum((c["score"] or 0.0) for c in row.cells.values())
            assert submission.score == pytest.approx(want)
            assert submission.max_score == sum(cells_of(row.module).values())
            assert submission.needs_manual_grade == any(
                c is None or c["needs_manual"] or c["score"] is None
                for c in (row.cells.get(n) for n in cells_of(row.module)))
            comments = [c.name for nb in submission.notebooks for c in nb.comments]
            assert sorted(comments) == sorted(
                [s for g, sol, t in LAYOUT[row.module].values() for s in [*sol, *t]])
        assert gb.assignment_submissions("01_alpha")  # nbgrader's own queries work on it
        assert gb.average_assignment_score("02_beta") >= 0


def test_bulk_merge_equals_nbgraders_add_submission(tmp_path):
    rows = synthetic_rows(120, seed=3)
    db = template(tmp_path)
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    gbm.merge(db, ours, rows)
    orm_merge(db, theirs, rows)
    assert contents(ours) == contents(theirs)


def test_merge_keeps_the_last_row_of_a_learner_and_refuses_a_duplicate_in_the_template(tmp_path):
    db = template(tmp_path)
    first = res.Row("ann", "01_alpha", res.GRADED, cells={"g1": {"score": 0.0, "max_score": 2.0, "needs_manual": False}})
    last = res.Row("ann", "01_alpha", res.GRADED, cells={"g1": {"score": 2.0, "max_score": 2.0, "needs_manual": False}})
    assert gbm.merge(db, tmp_path / "a.db", [first, last]) == 1
    with Gradebook(f"sqlite:///{tmp_path / 'a.db'}", COURSE) as gb:
        assert gb.find_submission("01_alpha", "ann").score == 2.0
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{db}", COURSE) as gb:
        warnings.simplefilter("ignore")  # nbgrader's add_submission trips SQLAlchemy autoflush warnings
        gb.add_student("ann")
        gb.add_submission("01_alpha", "ann")
    with pytest.raises(ValueError, match="already has a submission"):
        gbm.merge(db, tmp_path / "b.db", [last])


def test_nbgrader_export_reads_the_merged_scores(tmp_path):
    """``nbgrader export`` (its CSV exporter, in a subprocess) gives every merged submission's score."""
    import csv

    from grader.nbgrader import nbgrader_env

    rows = synthetic_rows(60, seed=11)
    merged = tmp_path / "gradebook.db"
    gbm.merge(template(tmp_path), merged, rows)
    out = tmp_path / "grades.csv"
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--db=sqlite:///{merged}", f"--to={out}",
                           f"--CourseDirectory.course_id={COURSE}", f"--CourseDirectory.root={tmp_path}"],
                          cwd=tmp_path, env=nbgrader_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with open(out, newline="") as fh:
        exported = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}
    graded = [r for r in rows if r.cells and r.module in LAYOUT]
    for row in graded:
        line = exported[(row.student_id, row.module)]
        assert float(line["raw_score"]) == pytest.approx(sum((c["score"] or 0.0) for c in row.cells.values()))
        assert float(line["max_score"]) == sum(cells_of(row.module).values())
