"""Hidden tests, the kernel's side: what nbgrader's autograde runs to decide an exercise's points.

The build (:mod:`grader.build.hidden_tests`) writes a call to :func:`verify` into each test cell's
hidden region, with the exercise's full entry (hidden cases included). It judges the answer as
recorded by IPython itself (the cell's raw input, or the function in the user namespace), and on
failure publishes a structured failure record and raises an ``AssertionError`` whose message names
the mistake but no hidden case.
"""
from __future__ import annotations

from typing import Any

from driftlab.exercises import bank
from driftlab.exercises.blanks import strip_solution_marks
from driftlab.exercises.entries import CORRECT, UNANSWERED, Entry
from driftlab.protocol import (ANSWER_MAGIC, FAILURE_MIME, SEAL_MIME, answer_digest, failure_record,
                               magic_body)

GENERIC = {"unknown", "raised-exception", "wrong-type", "timeout", "check-error"}


def recorded_answer(exercise: str) -> str | None:
    """The body of the last ``%%answer exercise`` cell IPython ran (its own input history)."""
    from IPython import get_ipython

    ip = get_ipython()
    if ip is None:
        return None
    for raw in reversed(ip.history_manager.input_hist_raw):
        parsed = magic_body(raw or "", ANSWER_MAGIC)
        if parsed and parsed[0] == exercise:
            return strip_solution_marks(parsed[1])
    return None


def _answer(entry: Entry) -> Any:
    from IPython import get_ipython

    ip = get_ipython()
    user_ns = ip.user_ns if ip is not None else {}
    return entry.answer_in({entry.id: recorded_answer(entry.id)} if entry.answered_in_cell else {}, user_ns)


def verify(token: str, seal: str | None = None) -> None:
    """Pass when the answer is right; otherwise fail the test cell with a short reason.

    Under autograde nbgrader passes a ``seal`` (:mod:`grader.seals`): a pass then publishes it with
    a hash of the judged answer, which nbgrader checks outside the kernel against the notebook.
    """
    entry = next(iter(bank.decode(token).values()))
    answer = _answer(entry)
    verdict = entry.assess(answer)
    if verdict.status == CORRECT:
        if seal is not None:
            _publish(SEAL_MIME, {"exercise": entry.id, "seal": seal,
                                 "answer": answer_digest(answer) if entry.answered_in_cell else None})
        return
    if verdict.status == UNANSWERED:
        reason = "not answered"
    elif verdict.misconception in GENERIC:
        reason = f"does not pass the autograder's tests ({verdict.misconception})"
    else:
        reason = f"{verdict.misconception}: {verdict.message}"
    _publish(FAILURE_MIME, failure_record(entry.id, verdict.status, verdict.misconception, reason))
    _fail(f"{entry.id}: {reason}")


def _publish(mime: str, record: dict[str, Any]) -> None:
    from IPython.display import publish_display_data

    publish_display_data({"text/plain": "", mime: record})


def _fail(message: str) -> None:
    """Raise with a one-line traceback, so the hidden test's source never shows in feedback."""
    try:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            ip.InteractiveTB.set_mode("Minimal")
            ip.showtraceback = _minimal_once(ip)
    except Exception:
        pass
    raise AssertionError(message)


def _minimal_once(ip: Any):
    """Show the next traceback in Minimal mode, then restore the learner's traceback mode."""
    original = type(ip).showtraceback

    def show(*args: Any, **kwargs: Any) -> None:
        try:
            original(ip, *args, **kwargs)
        finally:
            ip.InteractiveTB.set_mode("Context")
            del ip.showtraceback

    return show
