"""nbgrader preprocessors that extend ``generate_assignment`` where it cannot express our exercises.

Configured in ``nbgrader_config.py`` (``GenerateAssignment.preprocessors``), first in the pipeline,
before nbgrader checksums and records the cells, so autograde restores exactly what they wrote:

* :class:`EmbedBank` puts the compiled exercise bank into the ``start("module")`` call (keyless
  in exam mode: the Test ships no answer information) and drops the instructor's extension line;
* :class:`AppendHiddenTests` appends the generated hidden test to each function exercise's test
  cell (the cases to run, no expected output) and takes every test cell's points from the spec;
* :class:`SpecsToPrompts` turns each ``%%exercise`` spec cell into the learner's prompt (or
  practice widget);
* :class:`ClearBlanks` replaces ``ClearSolutions``: an ``%%answer`` cell keeps its code and only its
  inline ``[n:answer]`` marks become ``[n]``; every other cell is cleared exactly as nbgrader does.
"""
from __future__ import annotations

import re
from typing import Any

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor

from driftlab.errors import BuildError
from driftlab.exercises import bank
from driftlab.exercises.blanks import blank_solution_marks
from driftlab.exercises.entries import Entry
from driftlab.protocol import (ANSWER_MAGIC, BEGIN_HIDDEN, EXERCISE_MAGIC, INSTRUCTOR_EXTENSION, PRACTICE_SUFFIX,
                               PROMPT_SUFFIX, START_CALL, magic_body)
from grader.build.hidden_tests import hidden_test
from grader.exercises.prompt import prompt_markdown
from grader.exercises.source import compile_notebook, specs_in

CHECK_CALL = re.compile(r"""\bcheck\(\s*(["'])(?P<id>[^"']+)\1\s*\)""")
EXAM_ARG = re.compile(r"\bexam\s*=\s*True\b")
_ENTRIES = "driftlab_entries"  # resources key: this notebook's compiled entries, shared by the steps


def _locked(grade_id: str) -> dict[str, Any]:
    return {"deletable": False, "editable": False,
            "nbgrader": {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3,
                         "solution": False, "task": False}}


def _entries(nb: Any, resources: dict, hidden: bool) -> dict[str, Entry]:
    """The notebook's entries (with hidden cases or without), compiled once per notebook."""
    cache = resources.setdefault(_ENTRIES, {})
    if hidden not in cache:
        cache[hidden] = compile_notebook(nb, hidden=hidden)
    return cache[hidden]


class EmbedBank(NbGraderPreprocessor):
    """Carry the module's compiled exercises in its first ``start("module")`` call."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        entries = _entries(nb, resources, hidden=False)
        if not entries:
            return nb, resources
        for cell in nb.cells:
            if cell.cell_type == "code" and START_CALL.search(cell.source):
                if EXAM_ARG.search(cell.source):
                    entries = {k: e.without_keys() for k, e in entries.items()}
                token = bank.encode(entries)
                lines = [ln for ln in cell.source.splitlines() if ln.strip() != INSTRUCTOR_EXTENSION]
                cell.source = START_CALL.sub(lambda m: f'start("{m.group("module")}", bank="{token}"',
                                             "\n".join(lines), count=1)
                return nb, resources
        raise BuildError('the notebook has exercises but no start("module") call to carry them')


class AppendHiddenTests(NbGraderPreprocessor):
    """Append each exercise's hidden test to its test cell; the spec sets the cell's points."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        hidden = _entries(nb, resources, hidden=True)
        for index, cell in enumerate(nb.cells):
            call = CHECK_CALL.search(cell.source) if cell.cell_type == "code" else None
            if call is None or not utils.is_grade(cell) or BEGIN_HIDDEN in cell.source:
                continue
            exercise = call.group("id")
            if exercise not in hidden:
                raise BuildError(f"cell {index}: the test cell checks unknown exercise {exercise!r}")
            region = hidden_test(hidden[exercise])
            if region:
                cell.source = cell.source.rstrip("\n") + "\n" + region
            cell.metadata["nbgrader"]["points"] = hidden[exercise].points  # the spec is the one source
        return nb, resources


class SpecsToPrompts(NbGraderPreprocessor):
    """Replace each ``%%exercise`` cell by the learner's prompt (graded) or practice widget cell."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        for index, spec in specs_in(nb):
            old = nb.cells[index]
            if spec.graded:
                new = nbformat.v4.new_markdown_cell(prompt_markdown(spec), metadata=_locked(spec.id + PROMPT_SUFFIX))
            else:
                new = nbformat.v4.new_code_cell(f'practice("{spec.id}")', metadata=_locked(spec.id + PRACTICE_SUFFIX))
            new.id = old.get("id", new.id)
            nb.cells[index] = new
        return nb, resources


class ClearBlanks(ClearSolutions):
    """nbgrader's ClearSolutions, except that ``%%answer`` cells keep their code with blanks ``[n]``."""

    def preprocess_cell(self, cell: Any, resources: Any, cell_index: int) -> tuple[Any, Any]:
        if cell.cell_type == "code" and utils.is_solution(cell) and magic_body(cell.source, ANSWER_MAGIC):
            cell.source = blank_solution_marks(cell.source)
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)


__all__ = ["EmbedBank", "AppendHiddenTests", "SpecsToPrompts", "ClearBlanks", "EXERCISE_MAGIC"]
