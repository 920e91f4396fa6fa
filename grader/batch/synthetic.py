"""Synthetic submissions of a module: its release notebook answered right, wrong or not at all.

Derived from ``notebooks/<module>/`` (what learners get) and ``solutions/<module>/`` (the
instructor's answers and the exercises' known mistakes), so they follow the course as modules are
rewritten. For trying the grader on a course without learners: the grading tests' hostile corpus
(``tests/hostile.py``) and the benchmark (``bench/grade.py``) are built from them.
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import nbformat

from driftlab.exercises.blanks import fill, strip_solution_marks
from driftlab.protocol import ANSWER_SUFFIX, exercise_of
from grader.exercises.source import solution_code, specs_in
from grader.nbgrader import ROOT


def solution_notebook(module: str, root: Path = ROOT) -> Path:
    """The instructor notebook of a module."""
    return sorted((root / "solutions" / module).glob("*.ipynb"))[0]


def release_notebook(module: str, root: Path = ROOT) -> Path:
    """The learner notebook of a module (as generated into ``notebooks/``)."""
    return root / "notebooks" / module / solution_notebook(module, root).name


def graded_specs(module: str, root: Path = ROOT) -> list[Any]:
    """The graded exercise specs of a module, in notebook order."""
    nb = nbformat.read(solution_notebook(module, root), as_version=4)
    return [spec for _, spec in specs_in(nb) if spec.graded]


def grade_id(cell: Any) -> str | None:
    """A cell's nbgrader grade id, if it has one."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def answer_cells(nb: Any) -> dict[str, Any]:
    """``{exercise id: answer cell}`` of a notebook."""
    return {exercise: cell for cell in nb.cells
            if (exercise := exercise_of(grade_id(cell) or "", ANSWER_SUFFIX))}


def right_answer(module: str, exercise: str, root: Path = ROOT) -> str:
    """The instructor's answer cell source, as a learner would type it (no solution marks)."""
    sol = nbformat.read(solution_notebook(module, root), as_version=4)
    source = answer_cells(sol)[exercise].source
    return strip_solution_marks(solution_code(source)).rstrip("\n")


def wrong_answer(spec: Any) -> str:
    """An answer that shows the spec's first known mistake (a distractor, or a buggy function)."""
    mistake = spec.mistakes[0]
    if spec.kind == "function":
        return textwrap.dedent(mistake.code).rstrip("\n")
    if spec.kind == "choice":
        return f"%%answer {spec.id}\n{mistake.when[1]}"
    fills = {b: spec.options[b][mistake.when.get(b, spec.answer[b])] for b in spec.blanks}
    return f"%%answer {spec.id}\n" + fill(spec.template.rstrip("\n"), fills)


def answered(module: str, mode: str | dict[str, str] = "right", root: Path = ROOT) -> Any:
    """The release notebook with each graded exercise answered right, wrong, or left untouched.

    ``mode`` is one of ``right`` / ``wrong`` / ``untouched`` for every exercise, or a dict
    ``{exercise_id: mode}`` (missing exercises stay untouched).
    """
    nb = nbformat.read(release_notebook(module, root), as_version=4)
    cells = answer_cells(nb)
    for spec in graded_specs(module, root):
        how = mode.get(spec.id, "untouched") if isinstance(mode, dict) else mode
        if spec.id not in cells or how == "untouched":
            continue
        cells[spec.id].source = right_answer(module, spec.id, root) if how == "right" else wrong_answer(spec)
    return nb


def expected_score(module: str, mode: str | dict[str, str], root: Path = ROOT) -> float:
    """Points a submission made by :func:`answered` must get."""
    total = 0.0
    for spec in graded_specs(module, root):
        how = mode.get(spec.id, "untouched") if isinstance(mode, dict) else mode
        total += spec.points if how == "right" else 0.0
    return total


def max_score(module: str, root: Path = ROOT) -> float:
    """Points of a module's graded exercises."""
    return sum(spec.points for spec in graded_specs(module, root))


def dump(nb: Any) -> bytes:
    """A notebook's file bytes."""
    return nbformat.writes(nb).encode()
