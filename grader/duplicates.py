"""Copied nbgrader cells in a submission: the LOWEST copy keeps the cell's nbgrader metadata.

A learner who copies an answer (or test) cell submits two cells with one grade id. nbgrader's own
``DeduplicateIds`` keeps the last copy but leaves ``{}`` as the others' metadata, on which nbgrader
0.9.6's ``OverwriteCells`` crashes (``KeyError: 'grade_id'``). ``driftlab grade``'s intake calls
:func:`keep_lowest_copies`; plain ``nbgrader autograde`` runs it as :class:`grader.judge.KeepLowestCopy`
in place of ``DeduplicateIds``. Both grade the copy the kernel's check reads (:mod:`driftlab.exercises.cells`).
This module imports no nbgrader (intake runs in a process that never loads it).
"""
from __future__ import annotations

from typing import Any


def keep_lowest_copies(nb: Any) -> list[str]:
    """Drop the nbgrader metadata of every copy of a cell but the lowest (and of any without a grade id).

    Returns the grade ids that had copies, in notebook order. The copies stay in the notebook as
    ordinary cells (an ``%%answer`` copy still runs, above the copy that counts).
    """
    seen: set[str] = set()
    dropped: list[str] = []
    for cell in reversed(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if not grade_id or grade_id in seen:
            cell.metadata.pop("nbgrader", None)
            if grade_id and grade_id not in dropped:
                dropped.append(grade_id)
            continue
        seen.add(grade_id)
    return dropped[::-1]
