"""The merged gradebook: one nbgrader ``gradebook.db`` in the output folder, built after grading.

Workers grade into separate gradebooks (nbgrader's SQLite gradebook is not safe for concurrent
autograde processes). Afterwards ``DIR/gradebook.db`` is rebuilt from the generated course's
gradebook (assignments, notebooks, grade cells) plus every submission that nbgrader autograded,
with the per-cell automatic scores the workers recorded, so nbgrader's own tools work on it, e.g.
``nbgrader export --db sqlite:///DIR/gradebook.db``. Submissions nbgrader never saw (empty or
corrupt files, missing notebooks) are not in it; ``grades.csv`` lists them.
"""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Iterable

from .results import Row


def course_id(db: Path) -> str:
    """The course id stored in a gradebook."""
    with sqlite3.connect(db) as con:
        row = con.execute("select id from course limit 1").fetchone()
    return row[0] if row else "default_course"


def merge(template_db: Path, target: Path, rows: Iterable[Row]) -> int:
    """Rebuild ``target`` from the template gradebook and the rows' cell scores; returns submissions added."""
    from nbgrader.api import Gradebook

    import warnings

    tmp = target.with_name(target.name + ".tmp")
    shutil.copy(template_db, tmp)
    added = 0
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{tmp}", course_id(tmp)) as gb:
        warnings.simplefilter("ignore")  # nbgrader's add_submission trips SQLAlchemy autoflush warnings
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
            added += 1
    tmp.replace(target)
    return added
