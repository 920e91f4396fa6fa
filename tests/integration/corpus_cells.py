"""Hostile-corpus cases: Answer cells duplicated, moved below their check or deleted: one rule on both sides.

Each case is registered into :mod:`tests.integration.hostile` (graded by plain nbgrader in test_judge.py
and by ``driftlab grade`` in test_grade_pipeline.py).
"""
from __future__ import annotations

import copy
from typing import Any

from driftlab.protocol import TEST_SUFFIX
from tests.integration import hostile


def _cell_answers(nb: Any) -> dict[str, Any]:
    """The ``%%answer`` cells (blanks and choice exercises) of a notebook, by exercise."""
    return {ex: c for ex, c in hostile._answer_cells(nb).items() if c.source.lstrip().startswith("%%answer")}


def moved_below(context: dict[str, Any]) -> bytes:
    """Right answers, each ``%%answer`` cell dragged below its check (a function must stand above its test)."""
    nb = copy.deepcopy(context["right"])
    for exercise, cell in _cell_answers(nb).items():
        nb.cells.remove(cell)
        nb.cells.insert(hostile._index(nb, exercise + TEST_SUFFIX) + 1, cell)
    return hostile._dump(nb)


def duplicated_wrong_last(context: dict[str, Any]) -> bytes:
    """Each answer cell copied: the right answer above, a WRONG copy (a Jupyter copy: its own cell id) below."""
    nb = copy.deepcopy(context["right"])
    wrong = hostile._answer_cells(context["wrong"])
    for exercise, cell in list(hostile._answer_cells(nb).items()):
        dup = copy.deepcopy(wrong[exercise])
        dup.id = ("dup-" + str(dup.get("id", exercise)))[:64]
        nb.cells.insert(nb.cells.index(cell) + 1, dup)
    return hostile._dump(nb)


def deleted(context: dict[str, Any]) -> bytes:
    """The ``%%answer`` cells deleted (the function answered wrong: only the unanswered reason can differ)."""
    nb = copy.deepcopy(context["wrong"])
    for cell in _cell_answers(nb).values():
        nb.cells.remove(cell)
    return hostile._dump(nb)


hostile.register(hostile.Case("h-cells-moved-below", "graded", "max",
                              note="right answers, each %%answer cell moved below its check: still the answer"),
                 moved_below)
hostile.register(hostile.Case("h-cells-duplicated-wrong-last", "graded", "zero",
                              note="a right copy above a wrong copy of each answer cell: the lowest copy counts"),
                 duplicated_wrong_last)
hostile.register(hostile.Case("h-cells-deleted", "graded", "zero",
                              note="%%answer cells deleted, the function wrong: 'no answer cell (deleted?)'"),
                 deleted)
