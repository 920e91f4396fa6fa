"""``driftlab build``: ``solutions/`` → ``notebooks/`` through real ``nbgrader generate_assignment``.

With ``--check`` nothing is written: the command fails, naming each file, when the committed
release differs from a fresh build (CI runs it).
"""
from __future__ import annotations

import filecmp
import json
import shutil
import sys
import tempfile
from pathlib import Path

from driftlab.errors import BuildError
from grader.nbgrader import ROOT, course_modules, generate, make_course


def fresh_build(root: Path = ROOT, only: list[str] | None = None) -> Path:
    """Build the modules into a temporary course directory; returns its ``notebooks/``."""
    tmp = make_course(Path(tempfile.mkdtemp(prefix="driftlab-build-")), root, only)
    for assignment in only or course_modules(root):
        generate(tmp, assignment)
    return tmp / "notebooks"


def _canonical(path: Path) -> str:
    return json.dumps(json.loads(path.read_text(encoding="utf-8")), sort_keys=True, indent=1)


def _files(folder: Path) -> set[Path]:
    ignore = {".ipynb_checkpoints", "__pycache__"}
    if not folder.exists():
        return set()
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file() and not ignore & set(p.parts)}


def differences(built: Path, committed: Path) -> list[str]:
    """Files that differ between a fresh build and the committed release (missing, extra, changed)."""
    built_files, committed_files = _files(built), _files(committed)
    problems = [f"missing from notebooks/: {rel}" for rel in sorted(built_files - committed_files)]
    problems += [f"not produced by the build: notebooks/{rel}" for rel in sorted(committed_files - built_files)]
    for rel in sorted(built_files & committed_files):
        a, b = built / rel, committed / rel
        same = _canonical(a) == _canonical(b) if rel.suffix == ".ipynb" else filecmp.cmp(a, b, shallow=False)
        if not same:
            problems.append(f"differs from a fresh build: notebooks/{rel}")
    return problems


def _check(root: Path, built: Path, selected: list[str], only: list[str] | None) -> int:
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


def _install(root: Path, built: Path, selected: list[str]) -> int:
    target = root / "notebooks"
    for assignment in selected:
        if (target / assignment).exists():
            shutil.rmtree(target / assignment)
        shutil.copytree(built / assignment, target / assignment)
    print(f"built {', '.join(selected)} into {target}")
    return 0


def build(root: Path = ROOT, check: bool = False, only: list[str] | None = None) -> int:
    """Regenerate ``notebooks/``; with ``check``, only report differences. Returns the exit code."""
    selected = only or course_modules(root)
    try:
        built = fresh_build(root, selected)
    except BuildError as exc:
        from grader.build import one_line

        print(one_line(str(exc)), file=sys.stderr)
        return 1
    try:
        return _check(root, built, selected, only) if check else _install(root, built, selected)
    finally:
        shutil.rmtree(built.parent, ignore_errors=True)
