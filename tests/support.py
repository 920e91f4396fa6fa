"""The one test support module: the course's modules and paths, notebook execution with nbclient,
reading check results, and the reference answer of module 07's graded policy (kept out of driftlab)."""
from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")  # alembic
os.environ.setdefault("MPLBACKEND", "Agg")

from driftlab.exercises.blanks import strip_solution_marks  # noqa: E402
from driftlab.protocol import ANSWER_MAGIC, RESULT_MIME, magic_body  # noqa: E402
from grader.exercises.source import solution_code  # noqa: E402

MODULES = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def solution_path(module: str) -> Path:
    return next((ROOT / "solutions" / module).glob("*.ipynb"))


def release_path(module: str) -> Path:
    return ROOT / "notebooks" / module / solution_path(module).name


_EXECUTED: dict[tuple[str, str, float], object] = {}


def execute(path_or_nb, cwd: Path, env: dict | None = None, timeout: int = 180):
    """Run a notebook top to bottom in a fresh kernel (errors recorded, not raised).

    A notebook file run without extra environment is run once per test session (keyed by its path
    and modification time) and each caller gets its own copy: several tests read the same run.
    """
    import copy

    if isinstance(path_or_nb, (str, Path)) and not env:
        key = (str(Path(path_or_nb).resolve()), str(Path(cwd).resolve()), Path(path_or_nb).stat().st_mtime)
        if key not in _EXECUTED:
            _EXECUTED[key] = _execute(nbformat.read(path_or_nb, as_version=4), cwd, None, timeout)
        return copy.deepcopy(_EXECUTED[key])
    nb = nbformat.read(path_or_nb, as_version=4) if isinstance(path_or_nb, (str, Path)) else path_or_nb
    return _execute(nb, cwd, env, timeout)


def _execute(nb, cwd: Path, env: dict | None, timeout: int):
    from nbclient import NotebookClient

    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        client = NotebookClient(nb, timeout=timeout, startup_timeout=120, kernel_name="python3",
                                shutdown_kernel="immediate",  # a graceful shutdown costs ~0.6 CPU-s per notebook
                                allow_errors=True, resources={"metadata": {"path": str(cwd)}})
        client.execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def errors(nb) -> list[str]:
    """Error outputs of an executed notebook, as 'cell N: Name: value'."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"cell {i}: {out.ename}: {out.evalue}")
    return found


def results(nb) -> list[dict]:
    """The checks' machine-readable results left in an executed notebook."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if RESULT_MIME in data:
                value = data[RESULT_MIME]
                found.append(json.loads(value) if isinstance(value, str) else dict(value))
    return found


def compiled(module: str, hidden: bool = True) -> dict:
    """The exercise entries of a module's instructor notebook, as the build compiles them."""
    from grader.exercises.source import compile_notebook
    return compile_notebook(nbformat.read(solution_path(module), as_version=4), hidden=hidden)


def fill_release(release, solution, replace: dict[str, str] | None = None):
    """A copy of ``release`` answered like ``solution``; ``replace`` maps exercise id -> answer source
    (a letter or blanks code for ``%%answer`` cells, a whole function for function cells)."""
    replace = replace or {}
    answers = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if not grade_id.endswith("-answer"):
            continue
        exercise = grade_id[: -len("-answer")]
        source = answers[grade_id]
        parsed = magic_body(source, ANSWER_MAGIC)
        if exercise in replace:
            body = textwrap.dedent(replace[exercise]).strip("\n")
            cell.source = f"{ANSWER_MAGIC} {exercise}\n{body}" if parsed else body
        elif parsed:
            cell.source = strip_solution_marks(source)
        else:
            cell.source = solution_code(source)
    return nb


# The course's answer to module 07's graded ``policy(state)`` exercise. It lives here, not in
# ``driftlab``, so that nothing a learner's notebook can import hands them the answer; the 06 tests
# check that the instructor's solution cell agrees with it.
def reference_policy(state: dict) -> str:
    """The graded rules in order: quality gate, 30-day cooldown, realised then estimated accuracy at or below the threshold."""
    if not state["data_quality_ok"]:
        return "fix_pipeline"
    if state["days_since_retrain"] < 30:
        return "none"
    threshold = state["accuracy_threshold"]
    realised = state["realised_accuracy"]
    if realised is not None and realised <= threshold:
        return "retrain"
    if state["alert"] and state["predicted_accuracy"] <= threshold:
        return "retrain"
    return "none"


def executed_claims(module: str, dump: str) -> dict:
    """The module's instructor notebook executed with ``dump`` appended (a cell printing ``CLAIMS=<json>``): those
    numbers, plus everything it printed, its markdown (whitespace collapsed), the checks' results and its specs."""
    from grader.exercises.source import specs_in

    nb = nbformat.read(solution_path(module), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(dump))
    done = execute(nb, cwd=solution_path(module).parent)
    assert errors(done) == []
    text = next(o["text"] for o in done.cells[-1].outputs if o.get("name") == "stdout")
    data = json.loads(text.split("CLAIMS=", 1)[1])
    data["printed"] = "".join(o.get("text", "") for c in done.cells if c.cell_type == "code" for o in c.outputs)
    data["markdown"] = " ".join(" ".join(c.source for c in done.cells if c.cell_type == "markdown").split())
    data["checks"] = {r["exercise"]: r["status"] for r in results(done) if "exercise" in r}
    data["specs"] = {s.id: s for _, s in specs_in(nb)}
    return data
