"""Reading exercises out of an instructor notebook: spec cells, answer cells and references.

Shared by the build (which compiles a module's bank from ``solutions/``) and by the instructor's
kernel extension (which compiles the same bank when a solutions notebook runs).
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any, Callable


from driftlab.errors import SpecError
from driftlab.exercises.entries import Entry, define
from driftlab.protocol import EXERCISE_MAGIC, magic_body
from grader.exercises.compile import compile_entry
from grader.exercises.spec import ExerciseSpec, parse_spec

SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION[^\n]*\n?", re.M | re.S)


def specs_in(nb: Any) -> list[tuple[int, ExerciseSpec]]:
    """Every ``%%exercise`` cell of a notebook, parsed, with its cell index.

    A malformed spec raises :class:`SpecError` naming the exercise (or the cell, when it has no id).
    """
    found, seen = [], set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        parsed = magic_body(cell.source, EXERCISE_MAGIC)
        if parsed is None:
            continue
        try:
            spec = parse_spec(parsed[1])
        except SpecError as exc:
            raise SpecError(f"cell {index}: {exc}") from None
        if spec.id in seen:
            raise SpecError(f"{spec.id}: defined twice in one notebook (cell {index})")
        seen.add(spec.id)
        found.append((index, spec))
    return found


def solution_code(source: str) -> str:
    """A solution cell's code with nbgrader's solution delimiters removed (the instructor's code)."""
    return SOLUTION_REGION.sub(lambda m: m.group(1), source)


def reference_function(nb: Any, spec: ExerciseSpec) -> Callable[..., Any]:
    """The instructor's implementation of a function exercise: the solution cell that defines it."""
    pattern = re.compile(rf"^def\s+{re.escape(spec.name)}\s*\(", re.M)
    for cell in nb.cells:
        if cell.cell_type == "code" and pattern.search(cell.source) and "### BEGIN SOLUTION" in cell.source:
            return define(textwrap.dedent(solution_code(cell.source)), spec.name, spec.setup)
    raise SpecError(f"{spec.id}: no solution cell defines `{spec.name}`")


def compile_notebook(nb: Any, hidden: bool = False) -> dict[str, Entry]:
    """``{exercise_id: entry}`` for every exercise of an instructor notebook."""
    entries = {}
    for index, spec in specs_in(nb):
        reference = reference_function(nb, spec) if spec.kind == "function" else None
        try:
            entries[spec.id] = compile_entry(spec, reference, hidden=hidden)
        except SpecError as exc:
            raise SpecError(f"cell {index}: {exc}") from None
    return entries


def find_source_notebook(module: str, folder: Path | None = None) -> Path | None:
    """The instructor notebook in ``folder`` (default: the kernel's cwd) that starts ``module``."""
    folder = folder or Path.cwd()
    for path in sorted(folder.glob("*.ipynb")):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if EXERCISE_MAGIC in text and module in text:
            return path
    return None
