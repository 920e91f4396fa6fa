"""The build: instructor notebooks → learner release, hidden tests and banks, through nbgrader."""
from grader.build.release import build, differences, fresh_build

__all__ = ["build", "differences", "fresh_build"]
