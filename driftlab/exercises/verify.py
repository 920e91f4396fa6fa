"""A function exercise's hidden test, the kernel's side: run the learner's function and report outputs.

The build (:mod:`grader.build.hidden_tests`) appends ``_dl_run("<token>")`` to a function exercise's
test cell; the token holds the cases to call it on (visible and hidden) and nothing else — no
expected output. Under autograde the judge (:mod:`grader.judge`) moves that call into one cell run after
every learner cell and leaves ``_dl_keep(exercise, name)`` in the test cell: :func:`keep` holds the
function as defined at its test cell, and :func:`run_cases`, at the very end, calls it on the cases in a
forked child with the exercise's budget and publishes what it returned. The judge, in nbgrader's
process, compares that with the keys and alone sets the cell's result. The kernel's report is a claim:
it can only earn points by claiming the outputs a correct function gives.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from driftlab.exercises import bank
from driftlab.exercises.entries import FunctionEntry
from driftlab.protocol import OUTPUTS_MIME

_KEPT: dict[str, Any] = {}  # exercise id -> the learner's function (or None) as it was at the test cell


def outputs_record(entry: FunctionEntry, func: Any) -> dict[str, Any]:
    """What the learner's ``func`` did on every case of ``entry``, as the judge reads it."""
    if func is None:
        return {"exercise": entry.id, "state": "missing"}
    if not callable(func):
        return {"exercise": entry.id, "state": "not-callable", "type": type(func).__name__}
    return {"exercise": entry.id, "state": "ran", "outcomes": [asdict(o) for o in entry.outputs(func)]}


def keep(exercise: str, name: str) -> None:
    """Hold the learner's ``name`` as it is now (at the test cell), to be run on the cases at the end."""
    from IPython import get_ipython

    ip = get_ipython()
    _KEPT[exercise] = ip.user_ns.get(name) if ip is not None else None


def run_cases(token: str) -> None:
    """Publish the outputs of the function kept at the test cell on the token's cases; never raises.

    Without a kept function (the call ran in place, or its test cell stopped before) the function is
    the learner's ``name`` as it is now.
    """
    from IPython import get_ipython
    from IPython.display import publish_display_data

    try:
        entry = next(iter(bank.decode(token).values()))
        if entry.id in _KEPT:
            func = _KEPT[entry.id]
        else:
            ip = get_ipython()
            func = ip.user_ns.get(entry.name) if ip is not None else None
        record = outputs_record(entry, func)
    except Exception as exc:  # noqa: BLE001 - the judge reports a missing or broken record
        record = {"state": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    publish_display_data({"text/plain": "", OUTPUTS_MIME: record})
