"""The hidden test the build appends to a function exercise's test cell (nbgrader hides it in the release).

It carries the cases to run (visible and hidden) and nothing that says what they should return:
the kernel reports the learner's outputs and the judge (:mod:`grader.judge`) decides. Choice and
blanks exercises get no hidden test: the judge reads their answer cell from the notebook itself.
At autograde :func:`defer` takes it out of the test cell again, to run after every learner cell.
"""
from __future__ import annotations

from driftlab.exercises import bank
from driftlab.exercises.entries import Entry, FunctionEntry
from driftlab.protocol import BEGIN_HIDDEN, END_HIDDEN, RUN_CALL, RUN_NAME, keep_call, run_call


def hidden_test(entry: Entry) -> str | None:
    """The hidden region for ``entry`` (compiled with its hidden cases), or None when it needs none."""
    if not isinstance(entry, FunctionEntry):
        return None
    token = bank.encode({entry.id: entry.without_keys()})
    return (f"{BEGIN_HIDDEN}\nfrom driftlab.exercises.verify import run_cases as {RUN_NAME}\n"
            f"{run_call(token)}\n{END_HIDDEN}")


def defer(source: str) -> tuple[str, list[str]]:
    """A test cell's source without its hidden regions (each from its BEGIN to its END line), and the regions.

    In place of a function's hidden test the source starts with the call that holds the function as it
    is at this cell (:func:`driftlab.protocol.keep_call`), so the function judged is still this one.
    """
    kept: list[str] = []
    regions: list[str] = []
    region: list[str] | None = None
    for line in source.splitlines():
        if region is None and BEGIN_HIDDEN in line:
            region = [line]
        elif region is not None:
            region.append(line)
            if END_HIDDEN in line:
                regions.append("\n".join(region))
                region = None
        else:
            kept.append(line)
    if region is not None:  # no END line: nbgrader would hide the rest of the cell, so it moves too
        regions.append("\n".join(region))
    keeps = []
    for text in regions:
        for match in RUN_CALL.finditer(text):
            try:
                entry = next(iter(bank.decode(match.group("token")).values()))
            except Exception:  # noqa: BLE001 - an unreadable token: its report will say so
                continue
            if isinstance(entry, FunctionEntry):
                keeps.append(keep_call(entry.id, entry.name))
    return "\n".join(keeps + kept), regions
