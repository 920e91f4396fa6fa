"""Hidden tests: what nbgrader's autograde runs to decide the points of an exercise.

The build writes a call to :func:`verify` into each test cell's hidden region, with the exercise's
full entry (hidden cases included). It judges the answer as recorded by IPython itself (the cell's
raw input, or the function in the user namespace), not any state the learner's code could replace,
and on failure raises an ``AssertionError`` whose message names the mistake but no hidden case.
"""
from __future__ import annotations

from typing import Any

from . import bank
from .assess import CORRECT, assess
from .source import ANSWER_MAGIC, magic_body

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
            from .blanks import strip_solution_marks

            return strip_solution_marks(parsed[1])
    return None


def _answer(entry: dict[str, Any]) -> Any:
    if entry["kind"] == "function":
        from IPython import get_ipython

        return get_ipython().user_ns.get(entry["name"])
    return recorded_answer(entry["id"])


def verify(token: str, seal: str | None = None) -> None:
    """Pass when the answer is right; otherwise fail the test cell with a short reason.

    Under autograde nbgrader passes a ``seal`` (:mod:`grader.seals`): a pass then publishes it with
    a hash of the judged answer, which nbgrader checks outside the kernel against the notebook.
    """
    entry = next(iter(bank.decode(token).values()))
    answer = _answer(entry)
    verdict = assess(entry, answer)
    if verdict.status == CORRECT:
        if seal is not None:
            _publish_seal(entry, seal, answer)
        return
    if verdict.status == "unanswered":
        reason = "not answered"
    elif verdict.misconception in GENERIC:
        reason = "does not pass the autograder's tests (" + (verdict.misconception or "") + ")"
    else:
        reason = f"{verdict.misconception}: {verdict.message}"
    _fail(f"{entry['id']}: {reason}")


def _publish_seal(entry: dict[str, Any], seal: str, answer: Any) -> None:
    from IPython.display import publish_display_data

    from .seals import SEAL_MIME, answer_digest

    digest = answer_digest(answer) if entry["kind"] != "function" else None
    publish_display_data({"text/plain": "", SEAL_MIME: {"exercise": entry["id"], "seal": seal, "answer": digest}})


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


# Runs in the learner's kernel before each hidden test: drop import hooks defined by notebook code
# (classes or instances from ``__main__``), forget every grader module, and import the grader
# afresh from disk, so nothing the learner's cells replaced can judge their answers.
HIDDEN_PRELUDE = ('import sys as _dl_sys\n'
                  '_dl_sys.meta_path[:] = [f for f in _dl_sys.meta_path if "__main__" not in '
                  '(getattr(f, "__module__", ""), type(f).__module__)]\n'
                  'for _dl_m in [m for m in list(_dl_sys.modules) if m.split(".")[0] == "grader"]:\n'
                  '    del _dl_sys.modules[_dl_m]\n'
                  'from grader.verify import verify as _dl_verify\n')


def hidden_test(entry: dict[str, Any]) -> str:
    """The hidden region the build appends to an exercise's test cell."""
    token = bank.encode({entry["id"]: entry})
    return ("### BEGIN HIDDEN TESTS\n" + HIDDEN_PRELUDE + f'_dl_verify("{token}")\n' + "### END HIDDEN TESTS")


def _define_for_tests(code: str, name: str, setup: str = "") -> Any:
    """Define a mistake's buggy implementation the way the build does (for tests of the specs)."""
    from .assess import _define

    return _define(code, name, setup)
