"""The one adapter to nbgrader: generate, autograde, read scores back from a gradebook.

Thin wrappers over nbgrader's own command line (the commands an instructor types) and its
gradebook API, used by the build, the batch grader, the tests and the benchmarks. A course
directory is any folder holding this course's ``nbgrader_config.py`` with ``solutions/`` (and,
after generating, a gradebook).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from driftlab.errors import BuildError, GradingError

ROOT = Path(__file__).resolve().parent.parent


def course_modules(root: Path = ROOT) -> list[str]:
    """Assignment ids of a course: the folders of its ``solutions/``."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def course_config(course: Path) -> Config:
    """The course's ``nbgrader_config.py`` as nbgrader loads it (empty where the course has none)."""
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        return PyFileConfigLoader("nbgrader_config.py", str(course)).load_config()
    except ConfigFileNotFound:
        return Config()


def nbgrader_env() -> dict[str, str]:
    """Environment for nbgrader subprocesses: this venv's ``bin`` first (nbgrader runs ``alembic``)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("NBGRADER_EXECUTION", None)
    return env


def run_nbgrader(course: Path, *args: str, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` in ``course``; raises with nbgrader's output when ``check`` and it fails."""
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"]
    proc = subprocess.run(cmd, cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise GradingError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def make_course(target: Path, root: Path = ROOT, modules: list[str] | None = None) -> Path:
    """A scratch course directory: this course's config and instructor notebooks, nothing else."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "nbgrader_config.py", target / "nbgrader_config.py")
    for module in modules or course_modules(root):
        shutil.copytree(root / "solutions" / module, target / "solutions" / module, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return target


def generate(course: Path, module: str) -> None:
    """``nbgrader generate_assignment MODULE --force`` (fills the gradebook and ``notebooks/``).

    Raises :class:`BuildError` whose first line names the module and the cause (nbgrader's last
    error line, e.g. our preprocessors' ``SpecError: cell 12: detect-psi: …``), the log after it.
    """
    try:
        run_nbgrader(course, "generate_assignment", module, "--force", "--log-level=WARN")
    except GradingError as exc:
        text = str(exc)
        causes = [ln.strip() for ln in text.splitlines() if "Error: " in ln and not ln.strip().startswith("File ")]
        cause = causes[-1] if causes else text.splitlines()[0]
        raise BuildError(f"module {module} could not be built: {cause}\n{text}") from None


def submit(course: Path, student: str, module: str, notebook: Path, name: str | None = None) -> Path:
    """Place a notebook as ``submitted/STUDENT/MODULE/NAME.ipynb``."""
    dest = course / "submitted" / student / module
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / (name or notebook.name)
    shutil.copy(notebook, target)
    return target


def autograde(course: Path, module: str, student: str | None = None, timeout: float | None = None) -> subprocess.CompletedProcess:
    """``nbgrader autograde MODULE [--student S] --create --force``; does not raise on a bad submission."""
    args = ["autograde", module, "--create", "--force", "--log-level=WARN"]
    if student:
        args.append(f"--student={student}")
    return run_nbgrader(course, *args, check=False, timeout=timeout)


@dataclass(frozen=True)
class CellScore:
    """One graded cell of one submission (``score`` None where nothing was graded)."""

    grade_id: str
    score: float | None
    max_score: float
    needs_manual: bool = False

    def as_dict(self) -> dict:
        return {"score": self.score, "max_score": self.max_score, "needs_manual": self.needs_manual}


def cell_scores(course: Path, module: str, student: str) -> dict[str, CellScore] | None:
    """Per-test-cell scores of a submission from the gradebook, or None when it has no record."""
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    try:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            submission = gb.find_submission(module, student)
            for nb in submission.notebooks:
                for grade in nb.grades:
                    score = grade.manual_score if grade.manual_score is not None else grade.auto_score
                    out[grade.name] = CellScore(grade.name, score, float(grade.max_score),
                                                bool(grade.needs_manual_grade))
    except MissingEntry:
        return None
    return out


def total_score(course: Path, module: str, student: str) -> tuple[float, float]:
    """``(score, max_score)`` of a submission as nbgrader's gradebook has it."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(module, student)
        return submission.score, submission.max_score
