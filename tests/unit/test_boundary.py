"""The trust boundary: what runs in a learner's kernel never reaches the instructor's side or an answer.

``driftlab`` (the learner's kernel) must not import ``grader`` (specs, build, judge, nbgrader,
batch), nor nbgrader itself; learner notebooks import ``driftlab`` only; and no public callable
of any ``driftlab`` module passes a graded function exercise (no reference answer to delegate to).
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import driftlab
from driftlab.exercises.entries import CORRECT, FunctionEntry
from driftlab.exercises.entries.base import run_all
from driftlab.exercises.probing import call_function, close
from tests.support import MODULES, ROOT, compiled, release_path

FORBIDDEN = ("grader", "nbgrader")


def _driftlab_files() -> list[Path]:
    return sorted((ROOT / "driftlab").rglob("*.py"))


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, top-level module)`` of every absolute import, and of ``importlib.import_module("x")``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def test_driftlab_source_never_imports_the_instructor_side():
    bad = [f"{path.relative_to(ROOT)}:{line}: imports {module}"
           for path in _driftlab_files() for line, module in _imports(ast.parse(path.read_text(encoding="utf-8")))
           if module in FORBIDDEN]
    assert not bad, "driftlab must not import grader or nbgrader:\n" + "\n".join(bad)


def test_importing_every_driftlab_module_loads_no_instructor_code():
    """At run time too (a dynamic import would slip past the source check)."""
    names = [m.name for m in pkgutil.walk_packages(driftlab.__path__, "driftlab.")]
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}:\n    importlib.import_module(name)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('grader', 'nbgrader'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT / "notebooks",
                         env={"MPLBACKEND": "Agg", "PATH": "",
                              **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}}, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def _code_lines(source: str) -> str:
    """A notebook cell's Python, without IPython magics (``%%answer`` bodies are not imports)."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _notebook_imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(_code_lines("".join(cell["source"])))
        except SyntaxError:  # a learner's blank: [1] is not Python yet
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
                modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


@pytest.mark.parametrize("module", MODULES)
def test_learner_notebooks_import_driftlab_only(module):
    found = _notebook_imports(release_path(module))
    assert any(m.startswith("driftlab") for m in found)
    assert not [m for m in found if m.split(".")[0] in FORBIDDEN]


def _public_callables() -> dict[str, object]:
    """Every public callable reachable as ``module.name`` from any driftlab module (a learner imports any)."""
    found: dict[str, object] = {}
    for info in pkgutil.walk_packages(driftlab.__path__, "driftlab."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.startswith("_") or not callable(value) or inspect.isclass(value) and issubclass(value, BaseException):
                continue
            found.setdefault(f"{info.name}.{name}", value)
    return found


def _function_exercises() -> list[FunctionEntry]:
    return [e for m in MODULES for e in compiled(m, hidden=True).values() if isinstance(e, FunctionEntry)]


def test_no_driftlab_callable_passes_a_graded_function_exercise():
    """Delegating to the course library (``def alert_level(*a): return lib.alert_level(*a)``) earns nothing.

    Each exercise first runs every callable that accepts its first case on that case, all in one forked
    child (fast); a callable that gives the expected first output, errs by running out of time, or cannot
    report, is then assessed in full, exactly as a learner's answer would be.
    """
    exercises = _function_exercises()
    assert {e.name for e in exercises} >= {"alert_level", "consecutive_breaches", "policy"}
    callables = _public_callables()
    passing = []
    for entry in exercises:
        first = entry.case_args()[0]
        args = first if isinstance(first, tuple) else (first,)
        candidates = []
        for where, func in callables.items():
            try:
                inspect.signature(func).bind(*args)
            except (TypeError, ValueError):
                continue  # cannot even be called like the exercise's function
            candidates.append((where, func))
        screened = run_all([lambda f=func: call_function(f, first) for _, func in candidates], budget=120)
        for (where, func), outcome in zip(candidates, screened):
            plausible = outcome.error in ("timeout",) or outcome.error and outcome.error.startswith("ProcessExit") \
                or (outcome.error is None and close(outcome.value, entry.expected[0], entry.tolerance))
            if plausible and entry.assess(func).status == CORRECT:
                passing.append(f"{where} passes {entry.id} ({entry.name})")
    assert not passing, "a reference answer is importable from a learner's kernel:\n" + "\n".join(passing)
