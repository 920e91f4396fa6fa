"""Which cell of a notebook is an exercise's answer: one rule for the learner's kernel and the judge.

An exercise's answer cell is a code cell that carries the exercise's nbgrader grade id
(``<id>-answer``) or starts with ``%%answer <id>``, wherever it stands; when several do (a copied
cell), the LOWEST one in the notebook is the answer (nbgrader's ``DeduplicateIds`` also keeps the
last copy). Cells are nbformat nodes or the plain dicts of a saved ``.ipynb`` file.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from driftlab.protocol import ANSWER_MAGIC, ANSWER_SUFFIX, magic_body


def source_of(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (a saved file may hold it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def answers(cell: Mapping[str, Any], exercise: str) -> bool:
    """Is ``cell`` an answer cell of ``exercise`` (its grade id, else its ``%%answer`` line)?"""
    if cell.get("cell_type") != "code":
        return False
    meta = cell.get("metadata") or {}
    nbgrader = meta.get("nbgrader") if isinstance(meta, Mapping) else None
    if isinstance(nbgrader, Mapping) and nbgrader.get("grade_id") == exercise + ANSWER_SUFFIX:
        return True
    parsed = magic_body(source_of(cell), ANSWER_MAGIC)
    return parsed is not None and parsed[0] == exercise


def answer_cells(cells: Sequence[Mapping[str, Any]], exercise: str) -> list[int]:
    """The indices of every answer cell of ``exercise``, in notebook order (the last one is the answer)."""
    return [i for i, cell in enumerate(cells) if answers(cell, exercise)]


def body(cell: Mapping[str, Any]) -> str:
    """What an answer cell answers: its source without the ``%%answer`` line."""
    source = source_of(cell)
    parsed = magic_body(source, ANSWER_MAGIC)
    return parsed[1] if parsed else source
