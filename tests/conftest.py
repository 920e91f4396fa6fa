"""Session fixtures shared by the tests (helpers live in nbtools.py, importable by name)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nbtools  # noqa: E402,F401 - sets PATH (alembic) and MPLBACKEND for every test

MODULES = nbtools.MODULES


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """A scratch nbgrader course with every module generated (gradebook filled), shared by tests."""
    from grader import nbgrader as R

    path = R.make_course(tmp_path_factory.mktemp("course"))
    for module in MODULES:
        R.generate(path, module)
    return path
