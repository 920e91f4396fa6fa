"""Helpers for writing instructor notebooks from Python (cells with the right nbgrader metadata).

Course authors may edit ``solutions/*.ipynb`` in JupyterLab with nbgrader's Create Assignment
toolbar instead; these functions only save typing and keep the metadata consistent.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

from driftlab.protocol import ANSWER_MAGIC, ANSWER_SUFFIX, EXERCISE_MAGIC, INSTRUCTOR_EXTENSION, TEST_SUFFIX

_SCHEMA = 3


def _nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
              points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                            "schema_version": _SCHEMA, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(text: str) -> Any:
    """A markdown cell (learn text)."""
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(text: str) -> Any:
    """An ordinary code cell (learn code the learner may change freely)."""
    return nbformat.v4.new_code_cell(text.strip("\n"))


def setup(module: str, extra: str = "", exam: bool = False) -> Any:
    """The locked first code cell: the instructor's extension, imports and ``start(module)``.

    The build drops the extension line and adds the bank to ``start`` in the learner's release.
    """
    start = f'start("{module}", exam=True)' if exam else f'start("{module}")'
    names = "start, check, results" if exam else "start, check, practice, hint, results"  # the Test has no hints
    body = (INSTRUCTOR_EXTENSION + f"\nfrom driftlab.exercises import {names}\n"
            + (extra.strip("\n") + "\n" if extra else "") + start)
    return nbformat.v4.new_code_cell(body, metadata=_nbgrader("setup", locked=True))


def exercise(yaml_text: str) -> Any:
    """A ``%%exercise`` spec cell (becomes the prompt or the practice widget in the release)."""
    return nbformat.v4.new_code_cell(f"{EXERCISE_MAGIC}\n" + yaml_text.strip("\n"))


def answer(exercise_id: str, body: str) -> Any:
    """A ``%%answer`` cell; blanks in the body are written ``[n:solution]``."""
    return nbformat.v4.new_code_cell(f"{ANSWER_MAGIC} {exercise_id}\n" + body.strip("\n"),
                                     metadata=_nbgrader(exercise_id + ANSWER_SUFFIX, solution=True))


def solution(exercise_id: str, body: str) -> Any:
    """An nbgrader solution cell (``### BEGIN SOLUTION`` … ``### END SOLUTION`` inside)."""
    return nbformat.v4.new_code_cell(body.strip("\n"), metadata=_nbgrader(exercise_id + ANSWER_SUFFIX, solution=True))


def test(exercise_id: str, points: float = 1) -> Any:
    """The locked, graded test cell: the visible check (the build appends the hidden test and sets
    the points from the spec)."""
    return nbformat.v4.new_code_cell(f'check("{exercise_id}")',
                                     metadata=_nbgrader(exercise_id + TEST_SUFFIX, grade=True, locked=True, points=points))


def write(path: str | Path, cells: list[Any]) -> Path:
    """Write a clean (output-free) notebook with a Python 3 kernelspec."""
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path
