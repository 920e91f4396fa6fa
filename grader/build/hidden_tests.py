"""The hidden test the build appends to a function exercise's test cell (nbgrader hides it in the release).

It carries the cases to run (visible and hidden) and nothing that says what they should return:
the kernel reports the learner's outputs and the judge (:mod:`grader.judge`) decides. Choice and
blanks exercises get no hidden test: the judge reads their answer cell from the notebook itself.
"""
from __future__ import annotations

from driftlab.exercises import bank
from driftlab.exercises.entries import Entry, FunctionEntry
from driftlab.protocol import BEGIN_HIDDEN, END_HIDDEN, RUN_NAME, run_call


def hidden_test(entry: Entry) -> str | None:
    """The hidden region for ``entry`` (compiled with its hidden cases), or None when it needs none."""
    if not isinstance(entry, FunctionEntry):
        return None
    token = bank.encode({entry.id: entry.without_keys()})
    return (f"{BEGIN_HIDDEN}\nfrom driftlab.exercises.verify import run_cases as {RUN_NAME}\n"
            f"{run_call(token)}\n{END_HIDDEN}")
