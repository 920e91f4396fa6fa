"""Session fixtures shared by the tests (helpers live in tests/support.py)."""
from __future__ import annotations


import pytest

from tests import support  # sets PATH (alembic) and MPLBACKEND for every test

MODULES = support.MODULES


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """A scratch nbgrader course with every module generated (gradebook filled), shared by tests."""
    from grader import nbgrader as R

    path = R.make_course(tmp_path_factory.mktemp("course"))
    for module in MODULES:
        R.generate(path, module)
    return path
