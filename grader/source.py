"""Reading exercises out of an instructor notebook: spec cells, answer cells and references.

Shared by the build (which compiles a module's bank from ``solutions/``) and by the instructor's
kernel (which compiles the same bank on the fly when it runs a solutions notebook).
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any, Callable

import nbformat

from . import bank
from .assess import compile_entry
from .probing import probe_namespace
from .spec import ExerciseSpec, SpecError, parse_spec

EXERCISE_MAGIC = "%%exercise"
ANSWER_MAGIC = "%%answer"
START_CALL = re.compile(r"""start\(\s*(["'])(?P<module>[\w-]+)\1\s*(?:,\s*bank\s*=\s*(["']).*?\3)?""")
SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION[^\n]*\n?", re.M | re.S)


def magic_body(source: str, magic: str) -> tuple[str, str] | None:
    """``(argument, body)`` of a cell that starts with ``magic``, else None."""
    first, _, body = source.lstrip().partition("\n")
    if not first.startswith(magic + " ") and first.strip() != magic:
        return None
    return first[len(magic):].strip(), body


def specs_in(nb: Any) -> list[tuple[int, ExerciseSpec]]:
    """Every ``%%exercise`` cell of a notebook, parsed, with its cell index."""
    found, seen = [], set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        parsed = magic_body(cell.source, EXERCISE_MAGIC)
        if parsed is None:
            continue
        spec = parse_spec(parsed[1])
        if spec.id in seen:
            raise SpecError(f"{spec.id}: defined twice in one notebook")
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
            namespace = probe_namespace()
            if spec.setup:
                exec(spec.setup, namespace)  # noqa: S102 - instructor-authored
            exec(textwrap.dedent(solution_code(cell.source)), namespace)  # noqa: S102
            return namespace[spec.name]
    raise SpecError(f"{spec.id}: no solution cell defines `{spec.name}`")


def compile_notebook(nb: Any, hidden: bool = False) -> dict[str, dict[str, Any]]:
    """``{exercise_id: entry}`` for every exercise of an instructor notebook."""
    entries = {}
    for _, spec in specs_in(nb):
        reference = reference_function(nb, spec) if spec.kind == "function" else None
        entries[spec.id] = compile_entry(spec, reference, hidden=hidden)
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


def bank_for(path: Path) -> str:
    """The encoded bank of an instructor notebook file."""
    return bank.encode(compile_notebook(nbformat.read(path, as_version=4)))
