"""A function exercise's hidden test, the kernel's side: run the learner's function and report outputs.

The build (:mod:`grader.build.hidden_tests`) appends ``_dl_run("<token>")`` to a function exercise's
test cell; the token holds the cases to call it on (visible and hidden) and nothing else — no
expected output. Under autograde this runs in the learner's kernel, calls the function in a forked
child with the exercise's budget, and publishes what it returned; the judge, in nbgrader's process
(:mod:`grader.judge`), compares that with the keys and alone sets the cell's result. The kernel's
report is a claim: it can only earn points by claiming the outputs a correct function gives.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from driftlab.exercises import bank
from driftlab.exercises.entries import FunctionEntry
from driftlab.protocol import OUTPUTS_MIME


def outputs_record(entry: FunctionEntry, func: Any) -> dict[str, Any]:
    """What the learner's ``func`` did on every case of ``entry``, as the judge reads it."""
    if func is None:
        return {"exercise": entry.id, "state": "missing"}
    if not callable(func):
        return {"exercise": entry.id, "state": "not-callable", "type": type(func).__name__}
    return {"exercise": entry.id, "state": "ran", "outcomes": [asdict(o) for o in entry.outputs(func)]}


def run_cases(token: str) -> None:
    """Publish the outputs of the learner's function on the token's cases; never raises."""
    from IPython import get_ipython
    from IPython.display import publish_display_data

    try:
        entry = next(iter(bank.decode(token).values()))
        ip = get_ipython()
        record = outputs_record(entry, ip.user_ns.get(entry.name) if ip is not None else None)
    except Exception as exc:  # noqa: BLE001 - the judge reports a missing or broken record
        record = {"state": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    publish_display_data({"text/plain": "", OUTPUTS_MIME: record})
