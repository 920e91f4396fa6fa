"""What a course notebook imports: ``start``, the ``%%answer`` cell, ``check``, ``practice``, ``hint``, ``results``.

This is the only module of the exercise engine that talks to IPython; judging lives in
:mod:`driftlab.exercises.entries` and the look of feedback in :mod:`driftlab.exercises.cards`.
Nothing here raises into the learner's notebook: an unanswered or broken answer gets a message, so
"Run All" on an untouched notebook finishes without an error.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from driftlab.errors import NotStarted
from driftlab.exercises import bank as bank_mod
from driftlab.exercises import blanks
from driftlab.exercises.cards import hints_unlocked, render_html, render_text, result_record, results_html
from driftlab.exercises.entries import CORRECT, INCORRECT, UNANSWERED, BlanksEntry, Entry, Verdict
from driftlab.exercises.isolation import run_isolated
from driftlab.protocol import RESULT_MIME

__all__ = ["start", "check", "practice", "hint", "results", "session", "set_bank_source"]


def grading() -> bool:
    """True while nbgrader autogrades this notebook (it sets ``NBGRADER_EXECUTION``)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


@dataclass
class Session:
    """Per-kernel state: the module's exercises, the learner's answers and attempts."""

    module: str
    entries: dict[str, Entry]
    exam: bool = False
    answers: dict[str, str] = field(default_factory=dict)
    tried: dict[str, list[str]] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    def attempts_left(self, exercise: str) -> int:
        return max(0, self.entries[exercise].attempts - len(self.tried.get(exercise, [])))

    def solved_or_used_up(self, exercise: str) -> bool:
        """May the learner see this exercise's worked solution (solved, or out of attempts)?"""
        verdict = self.verdicts.get(exercise)
        return (verdict is not None and verdict.status == CORRECT) or self.attempts_left(exercise) == 0


_SESSION: Session | None = None
# Where ``start`` finds exercises when a notebook carries no bank: set by the instructor's kernel
# extension (grader.exercises.instructor), which compiles them from the instructor notebook itself.
_BANK_SOURCE: Callable[[str], dict[str, Entry]] | None = None


def set_bank_source(source: Callable[[str], dict[str, Entry]] | None) -> None:
    """Install the function that compiles a module's exercises when a notebook has no bank."""
    global _BANK_SOURCE
    _BANK_SOURCE = source


def session() -> Session:
    """The running session (``start`` must have been called)."""
    if _SESSION is None:
        raise NotStarted("Run the notebook's first cell (it calls start()) before the exercises.")
    return _SESSION


def _display(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def start(module: str, bank: str | None = None, exam: bool = False) -> None:
    """Begin a module: load its exercises and register the ``%%answer`` cell magic.

    Learner notebooks carry their exercises in ``bank``; an instructor notebook has none and its
    exercises come from the instructor's extension, compiled exactly as the build does.
    """
    global _SESSION
    if bank:
        entries = bank_mod.decode(bank)
    elif _BANK_SOURCE is not None:
        entries = _BANK_SOURCE(module)
    else:
        print(f"No exercises were found for {module!r}: this notebook carries no exercise bank.")
        entries = {}
    _SESSION = Session(module=module, entries=entries, exam=exam)
    _register_magics()


def _register_magics() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to register
        return
    ip = get_ipython()
    if ip is not None:
        ip.register_magic_function(_answer_magic, "cell", "answer")


def _answer_magic(line: str, cell: str) -> None:
    """``%%answer ID``: the learner's answer to a fill-in-the-blank or multiple-choice exercise."""
    exercise = line.strip()
    sess = session()
    entry = sess.entries.get(exercise)
    if entry is None:
        close = difflib.get_close_matches(exercise, list(sess.entries), n=1)
        hint_line = f"%%answer {close[0]}" if close else "%%answer <exercise id>"
        print(f"Not recorded: no exercise is called {exercise!r}. The first line of this cell should be "
              f"`{hint_line}` (as in the notebook you were given); fix it and run the cell again.")
        return
    code = blanks.strip_solution_marks(cell)  # instructor notebooks carry [n:answer] marks
    sess.answers[exercise] = code
    if not isinstance(entry, BlanksEntry):
        return
    if blanks.unfilled(code, entry.blanks):
        print("Replace each [n] with your choice (the option's code or its letter), then run this cell.")
        return
    runnable = entry.runnable(code)
    if _finishes(runnable, entry.timeout):
        _run_in_user_namespace(runnable)


def _finishes(code: str, budget: float) -> bool:
    """Does ``code`` end within ``budget`` seconds? Tried in a forked child first (a loop in C cannot
    be interrupted once it runs in the kernel itself); says so when it does not."""
    user_ns = _user_ns()

    def trial():
        try:
            exec(compile(code, "<your answer>", "exec"), user_ns)  # noqa: S102 - in the child: a copy of the kernel
        except BaseException:  # noqa: BLE001 - errors are reported by the real run below
            pass
        yield True

    try:
        run = run_isolated(trial, budget)
    except KeyboardInterrupt:
        print("Stopped.")
        return False
    if run.timed_out:
        print(f"Your code did not finish within {budget:g} s (an endless loop?), so it was stopped and not run. "
              "The check below says more.")
        return False
    return True


def _run_in_user_namespace(code: str) -> None:
    """Run the learner's filled-in code for real; report an error in one line, never a traceback."""
    from IPython import get_ipython

    from driftlab.exercises.probing import describe_error

    try:
        compiled = compile(code, "<your answer>", "exec")
    except SyntaxError as exc:
        print(f"Python cannot run this yet (line {exc.lineno}: {exc.msg}). The check below says why.")
        return
    try:
        exec(compiled, get_ipython().user_ns)  # noqa: S102 - the learner's own code, in their kernel
    except Exception as exc:
        print(f"Your code raised {describe_error(exc)}. The check below says more.")


def _user_ns() -> dict[str, Any]:
    from IPython import get_ipython

    ip = get_ipython()
    return ip.user_ns if ip is not None else {}


def check(exercise: str) -> None:
    """Judge the learner's current answer and show feedback; never raises."""
    try:
        sess = session()
        entry = sess.entries[exercise]
    except (RuntimeError, KeyError):
        print(f"Cannot check {exercise!r}: run the notebook's first cell, then the exercise's cells in order.")
        return
    answer = entry.answer_in(sess.answers, _user_ns())
    if answer is None and entry.answered_in_cell:
        verdict = entry.verdict(UNANSWERED, None, f"No answer recorded for this exercise yet: run its answer cell "
                                f"(the cell whose first line is `%%answer {exercise}`) and then this check.")
    else:
        try:
            verdict = entry.assess(answer)
        except KeyboardInterrupt:
            print("Check stopped before it finished; run it again when you are ready.")
            return
    if verdict.status == INCORRECT:  # only a judged, wrong choice costs an attempt; a respelling does not
        tried = sess.tried.setdefault(exercise, [])
        key = entry.attempt_key(answer)
        if key not in tried:
            tried.append(key)
    sess.verdicts[exercise] = verdict
    left = sess.attempts_left(exercise)
    show_solution = grading() or verdict.status == CORRECT or (verdict.status == INCORRECT and left == 0)
    attempt = len(sess.tried.get(exercise, [])) + (verdict.status == CORRECT)
    record = result_record(entry, verdict, attempt) if not sess.exam else {
        "exercise": exercise, "status": "recorded" if verdict.status != UNANSWERED else UNANSWERED,
        "misconception": None, "difficulty": entry.difficulty, "points": entry.points,
        "graded": entry.graded, "exam": True}
    _display({
        "text/html": render_html(entry, verdict, attempts_left=left, show_solution=show_solution, exam=sess.exam,
                                 hints=hints_unlocked(entry, len(sess.tried.get(exercise, [])))),
        "text/plain": render_text(entry, verdict, exam=sess.exam),
        RESULT_MIME: record,
    })


def hint(exercise: str) -> None:
    """Show an exercise's hints (not in the Test: it ships none)."""
    sess = session()
    if sess.exam:
        print("Hints are not available in the Test.")
        return
    entry = sess.entries.get(exercise)
    if entry is None:
        print(f"Unknown exercise {exercise!r}.")
        return
    shown = max(1, hints_unlocked(entry, len(sess.tried.get(exercise, []))))  # the first one on request
    more = len(entry.hints) - shown
    lines = "\n".join(f"- {h}" for h in entry.hints[:shown]) or "No hint for this one."
    if more > 0:
        lines += f"\n\n({more} more after your next wrong attempt{'s' if more > 1 else ''}.)"
    _display({"text/markdown": f"**Hint — {entry.title}**\n\n{lines}", "text/plain": lines})


def practice(exercise: str) -> None:
    """Show an ungraded practice question as a widget (instant feedback, attempts, hint, solution)."""
    from IPython.display import display

    from driftlab.exercises.practice import PracticeWidget

    try:
        entry = session().entries[exercise]
    except (RuntimeError, KeyError):
        print(f"Cannot show practice question {exercise!r}: run the notebook's first cell first.")
        return
    display(PracticeWidget(entry).box)


def results() -> None:
    """The final cell: in the Test, which answers are recorded; in a module, the score so far.

    Worked solutions appear only for exercises solved or out of attempts (the Test shows none: its
    score and explanations arrive with the graded feedback).
    """
    sess = session()
    user_ns = _user_ns()
    rows, total, got = [], 0.0, 0.0
    by_level: dict[str, list[float]] = {}
    for entry in (e for e in sess.entries.values() if e.graded):
        try:
            verdict = entry.assess(entry.answer_in(sess.answers, user_ns))
        except KeyboardInterrupt:
            print("Stopped.")
            return
        sess.verdicts[entry.id] = verdict
        earned = entry.points if verdict.status == CORRECT else 0.0
        total += entry.points
        got += earned
        level = by_level.setdefault(entry.difficulty, [0.0, 0.0])
        level[0] += earned
        level[1] += entry.points
        rows.append((entry, verdict, earned))
    shown = {e.id for e, _, _ in rows if not sess.exam and sess.solved_or_used_up(e.id)}
    answered = sum(v.status not in (UNANSWERED,) for _, v, _ in rows)
    _display({"text/html": results_html(rows, by_level, got, total, exam=sess.exam, solutions=shown),
              "text/plain": (f"{answered} of {len(rows)} answers recorded" if sess.exam else f"Score: {got:g} / {total:g}"),
              RESULT_MIME: {"exam": sess.module, "answered": answered, "questions": len(rows),
                            **({} if sess.exam else {"score": got, "max_score": total,
                                                      "by_difficulty": {k: {"score": v[0], "max": v[1]}
                                                                        for k, v in by_level.items()}}),
                            "answers": [v.as_result() for _, v, _ in rows]}})
