"""The build: ``solutions/`` → ``notebooks/`` through nbgrader's own ``generate_assignment``.

Two preprocessors extend nbgrader where it cannot express this course's exercises:

* :class:`ExpandExercises` (first in the pipeline) turns each ``%%exercise`` spec cell into the
  learner's prompt (or practice widget), puts the compiled exercise bank into the ``start(...)`` call,
  and appends a generated hidden test to each exercise's test cell — before nbgrader checksums and
  records the cells, so autograde restores exactly these.
* :class:`ClearBlanks` replaces ``ClearSolutions``: an ``%%answer`` cell keeps its code and only its
  inline ``[n:answer]`` marks become ``[n]``; every other cell is cleared exactly as nbgrader does.
"""
from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor
from nbgrader import utils

from . import bank
from .blanks import blank_solution_marks
from .render import prompt_markdown
from .source import ANSWER_MAGIC, START_CALL, compile_notebook, magic_body, specs_in
from .verify import hidden_test

ROOT = Path(__file__).resolve().parent.parent
CHECK_CALL = re.compile(r"""\bcheck\(\s*(["'])(?P<id>[^"']+)\1\s*\)""")


def _locked(grade_id: str, cell_type: str) -> dict[str, Any]:
    return {"deletable": False, "editable": False,
            "nbgrader": {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3,
                         "solution": False, "task": False}}


class ExpandExercises(NbGraderPreprocessor):
    """Derive the learner's prompt, the instant-check bank and the hidden tests from the spec cells."""

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        specs = dict((spec.id, spec) for _, spec in specs_in(nb))
        if not specs:
            return nb, resources
        entries = compile_notebook(nb)
        hidden = compile_notebook(nb, hidden=True)
        token = bank.encode(entries)
        started = False
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            parsed = magic_body(cell.source, "%%exercise")
            if parsed is not None:
                spec = next(s for _, s in specs_in(nbformat.v4.new_notebook(cells=[cell])))
                if spec.graded:
                    new = nbformat.v4.new_markdown_cell(prompt_markdown(spec), metadata=_locked(f"{spec.id}-prompt", "markdown"))
                else:
                    new = nbformat.v4.new_code_cell(f'practice("{spec.id}")', metadata=_locked(f"{spec.id}-practice", "code"))
                new.id = cell.get("id", new.id)
                nb.cells[index] = new
                continue
            match = START_CALL.search(cell.source)
            if match and not started:
                cell.source = START_CALL.sub(lambda m: f'start("{m.group("module")}", bank="{token}"', cell.source, count=1)
                started = True
                continue
            call = CHECK_CALL.search(cell.source)
            if call and utils.is_grade(cell) and "BEGIN HIDDEN TESTS" not in cell.source:
                exercise = call.group("id")
                if exercise not in hidden:
                    raise ValueError(f"test cell checks unknown exercise {exercise!r}")
                cell.source = cell.source.rstrip("\n") + "\n" + hidden_test(hidden[exercise])
                cell.metadata["nbgrader"]["points"] = specs[exercise].points  # the spec is the one source
        if not started:
            raise ValueError("the notebook has exercises but no start(\"module\") call to carry them")
        return nb, resources


class ClearBlanks(ClearSolutions):
    """nbgrader's ClearSolutions, except that ``%%answer`` cells keep their code with blanks ``[n]``."""

    def preprocess_cell(self, cell: Any, resources: Any, cell_index: int) -> tuple[Any, Any]:
        if cell.cell_type == "code" and utils.is_solution(cell) and magic_body(cell.source, ANSWER_MAGIC):
            cell.source = blank_solution_marks(cell.source)
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)


# ---------------------------------------------------------------------------------------------------
# build and check


def modules(root: Path = ROOT) -> list[str]:
    """Assignment ids: the folders of ``solutions/``."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")  # nbgrader runs alembic
    env.pop("NBGRADER_EXECUTION", None)
    return env


def generate(course: Path, assignment: str) -> None:
    """Run real ``nbgrader generate_assignment`` in a course directory."""
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
           f"--CourseDirectory.root={course}", "--log-level=WARN"]
    proc = subprocess.run(cmd, cwd=course, env=_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{proc.stdout}\n{proc.stderr}")


def fresh_build(root: Path = ROOT, only: list[str] | None = None) -> Path:
    """Build every module into a temporary course directory; returns its ``notebooks/``."""
    tmp = Path(tempfile.mkdtemp(prefix="driftlab-build-"))
    shutil.copy(root / "nbgrader_config.py", tmp / "nbgrader_config.py")
    shutil.copytree(root / "solutions", tmp / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    for assignment in only or modules(root):
        generate(tmp, assignment)
    return tmp / "notebooks"


def _canonical(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps(nb, sort_keys=True, indent=1)


def differences(built: Path, committed: Path) -> list[str]:
    """Files that differ between a fresh build and the committed release (missing, extra, changed)."""
    problems = []
    ignore = {".ipynb_checkpoints", "__pycache__"}
    built_files = {p.relative_to(built) for p in built.rglob("*") if p.is_file() and not ignore & set(p.parts)}
    committed_files = {p.relative_to(committed) for p in committed.rglob("*")
                       if p.is_file() and not ignore & set(p.parts)} if committed.exists() else set()
    for rel in sorted(built_files - committed_files):
        problems.append(f"missing from notebooks/: {rel}")
    for rel in sorted(committed_files - built_files):
        problems.append(f"not produced by the build: notebooks/{rel}")
    for rel in sorted(built_files & committed_files):
        a, b = built / rel, committed / rel
        same = _canonical(a) == _canonical(b) if rel.suffix == ".ipynb" else filecmp.cmp(a, b, shallow=False)
        if not same:
            problems.append(f"differs from a fresh build: notebooks/{rel}")
    return problems


def build(root: Path = ROOT, check: bool = False, only: list[str] | None = None) -> int:
    """``driftlab build``: regenerate ``notebooks/``; with ``check``, only report differences."""
    selected = only or modules(root)
    built = fresh_build(root, selected)
    try:
        if check:
            problems = []
            for assignment in selected:
                problems += [p.replace("notebooks/", f"notebooks/{assignment}/", 1)
                             for p in differences(built / assignment, root / "notebooks" / assignment)]
            if not only:
                extra = sorted(p.name for p in (root / "notebooks").iterdir()
                               if p.is_dir() and p.name not in selected and not p.name.startswith("."))
                problems += [f"not produced by the build: notebooks/{name}/" for name in extra]
            for p in problems:
                print(p)
            if problems:
                print("notebooks/ is out of date: run `driftlab build` (or `make build`) and commit the result.")
                return 1
            print(f"notebooks/ equals a fresh build of solutions/ ({len(selected)} modules).")
            return 0
        target = root / "notebooks"
        for assignment in selected:
            if (target / assignment).exists():
                shutil.rmtree(target / assignment)
            shutil.copytree(built / assignment, target / assignment)
        print(f"built {', '.join(selected)} into {target}")
        return 0
    finally:
        shutil.rmtree(built.parent, ignore_errors=True)
