"""Every exception the project defines, in one place (the instructor's side imports these too).

Each message names what is wrong and where (exercise id, cell, file), so that it can be shown to
a learner or an instructor as one line, without a traceback.
"""
from __future__ import annotations


class DriftLabError(Exception):
    """Base class: anything Drift Lab raises on purpose."""


class BankError(DriftLabError, ValueError):
    """A notebook's exercise bank (or a hidden test's entry) is missing, corrupt or of another version."""


class SpecError(DriftLabError, ValueError):
    """An exercise specification is malformed; the message names the exercise and the field."""


class BuildError(DriftLabError, RuntimeError):
    """A module could not be built into its learner release (the message names module and cause)."""


class GradingError(DriftLabError, RuntimeError):
    """nbgrader could not run a grading step on a course directory (the message carries its output)."""


class NotStarted(DriftLabError, RuntimeError):
    """An exercise helper ran before the notebook's first cell called ``start()``."""
