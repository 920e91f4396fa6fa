"""The instructor's kernel extension: run a ``solutions/`` notebook as its learners will see it.

An instructor notebook's first cell loads it (``%load_ext grader.exercises.instructor``; the build
drops that line from the release). It registers the ``%%exercise`` cell magic, which shows each
spec as the learner's prompt, and gives :func:`driftlab.exercises.notebook.start` the exercises
compiled from the notebook file itself, exactly as the build compiles them.
"""
from __future__ import annotations

from typing import Any

import nbformat

from driftlab.errors import SpecError
from driftlab.exercises import notebook
from driftlab.exercises.entries import Entry
from driftlab.protocol import EXERCISE_MAGIC
from grader.exercises.prompt import prompt_markdown
from grader.exercises.source import compile_notebook, find_source_notebook
from grader.exercises.spec import parse_spec


def exercises_of(module: str) -> dict[str, Entry]:
    """The exercises of the instructor notebook in the kernel's folder that starts ``module``."""
    path = find_source_notebook(module)
    return compile_notebook(nbformat.read(path, as_version=4)) if path else {}


def exercise_magic(line: str, cell: str) -> None:
    """``%%exercise``: an exercise's spec; shows the exercise as learners see it."""
    from IPython.display import display

    try:
        spec = parse_spec(cell)
    except SpecError as exc:
        print(f"This exercise's specification is broken: {exc}")
        return
    display({"text/markdown": prompt_markdown(spec), "text/plain": spec.title}, raw=True)


def load_ipython_extension(ip: Any) -> None:
    """IPython's hook for ``%load_ext``."""
    ip.register_magic_function(exercise_magic, "cell", EXERCISE_MAGIC.lstrip("%"))
    notebook.set_bank_source(exercises_of)


def unload_ipython_extension(ip: Any) -> None:
    notebook.set_bank_source(None)
