"""What a course notebook imports: ``start``, the ``%%exercise``/``%%answer`` cells, ``check``, ``practice``.

This is the only module that talks to IPython; judging lives in :mod:`grader.assess` and the look of
feedback in :mod:`grader.feedback`. Nothing here raises into the learner's notebook: an unanswered or
broken answer gets a message, so "Run All" on an untouched notebook finishes without an error.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from . import bank as bank_mod
from . import blanks
from .assess import CORRECT, INCORRECT, UNANSWERED, Verdict, assess
from .feedback import RESULT_MIME, render_html, render_text, result_record, solution_html
from .spec import SpecError, parse_spec

__all__ = ["start", "check", "practice", "hint", "results", "session"]


def grading() -> bool:
    """True while nbgrader autogrades this notebook (it sets ``NBGRADER_EXECUTION``)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


@dataclass
class Session:
    """Per-kernel state: the module's exercises, the learner's answers and attempts."""

    module: str
    entries: dict[str, dict[str, Any]]
    exam: bool = False
    answers: dict[str, str] = field(default_factory=dict)
    tried: dict[str, list[str]] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    def attempts_left(self, exercise: str) -> int:
        return max(0, self.entries[exercise]["attempts"] - len(self.tried.get(exercise, [])))


_SESSION: Session | None = None


def session() -> Session:
    """The running session (``start`` must have been called)."""
    if _SESSION is None:
        raise RuntimeError("Run the notebook's first cell (it calls start()) before the exercises.")
    return _SESSION


def _display(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def start(module: str, bank: str | None = None, exam: bool = False) -> None:
    """Begin a module: load its exercises and register the ``%%exercise`` and ``%%answer`` cells.

    Learner notebooks carry their exercises in ``bank``; an instructor notebook has none and its
    exercises are compiled from the notebook file itself, exactly as the build does.
    """
    global _SESSION
    if bank:
        entries = bank_mod.decode(bank)
    else:
        from .source import compile_notebook, find_source_notebook
        import nbformat

        path = find_source_notebook(module)
        entries = compile_notebook(nbformat.read(path, as_version=4)) if path else {}
    _SESSION = Session(module=module, entries=entries, exam=exam)
    _register_magics()


def _register_magics() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to register
        return
    ip = get_ipython()
    if ip is None:
        return
    ip.register_magic_function(_exercise_magic, "cell", "exercise")
    ip.register_magic_function(_answer_magic, "cell", "answer")


def _exercise_magic(line: str, cell: str) -> None:
    """``%%exercise``: an exercise's spec (instructor notebooks); shows the exercise as learners see it."""
    from .render import prompt_markdown

    try:
        spec = parse_spec(cell)
    except SpecError as exc:
        print(f"This exercise's specification is broken: {exc}")
        return
    _display({"text/markdown": prompt_markdown(spec), "text/plain": spec.title})


def _answer_magic(line: str, cell: str) -> None:
    """``%%answer ID``: the learner's answer to a fill-in-the-blank or multiple-choice exercise."""
    exercise = line.strip()
    sess = session()
    entry = sess.entries.get(exercise)
    if entry is None:
        print(f"Unknown exercise {exercise!r}: do not change the first line of this cell (%%answer {exercise}).")
        return
    code = blanks.strip_solution_marks(cell)  # instructor notebooks carry [n:answer] marks
    sess.answers[exercise] = code
    if entry["kind"] != "blanks":
        return
    if blanks.unfilled(code, entry["blanks"]):
        print("Replace each [n] with your choice (the option's code or its letter), then run this cell.")
        return
    fills = blanks.read_fills(entry["template"], code)
    runnable = code
    if fills is not None:
        from .assess import _resolve_letters

        runnable = blanks.fill(entry["template"], _resolve_letters(entry, fills))
    _run_in_user_namespace(runnable)


def _run_in_user_namespace(code: str) -> None:
    """Run the learner's filled-in code for real; report an error in one line, never a traceback."""
    from IPython import get_ipython

    from .probing import describe_error

    try:
        compiled = compile(code, "<your answer>", "exec")
    except SyntaxError as exc:
        print(f"Python cannot run this yet (line {exc.lineno}: {exc.msg}). The check below says why.")
        return
    try:
        exec(compiled, get_ipython().user_ns)  # noqa: S102 - the learner's own code, in their kernel
    except Exception as exc:
        print(f"Your code raised {describe_error(exc)}. The check below says more.")


def _answer_for(sess: Session, entry: dict[str, Any]) -> Any:
    if entry["kind"] == "function":
        from IPython import get_ipython

        ip = get_ipython()
        return ip.user_ns.get(entry["name"]) if ip is not None else None
    return sess.answers.get(entry["id"])


def _fingerprint(answer: Any) -> str:
    if callable(answer):
        code = getattr(answer, "__code__", None)
        raw = repr((code.co_code, code.co_consts)) if code else repr(answer)
    else:
        raw = repr(answer)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def check(exercise: str) -> None:
    """Judge the learner's current answer and show feedback; never raises."""
    try:
        sess = session()
        entry = sess.entries[exercise]
    except (RuntimeError, KeyError):
        print(f"Cannot check {exercise!r}: run the notebook's first cell, then the exercise's cells in order.")
        return
    verdict = assess(entry, _answer_for(sess, entry))
    _show_verdict(sess, entry, verdict)


def _show_verdict(sess: Session, entry: dict[str, Any], verdict: Verdict, answer_key: str | None = None) -> None:
    exercise = entry["id"]
    if verdict.status == INCORRECT:
        key = answer_key or _fingerprint(_answer_for(sess, entry))
        tried = sess.tried.setdefault(exercise, [])
        if key not in tried:
            tried.append(key)
    sess.verdicts[exercise] = verdict
    left = sess.attempts_left(exercise)
    show_solution = grading() or verdict.status == CORRECT or (verdict.status == INCORRECT and left == 0)
    attempt = len(sess.tried.get(exercise, [])) + (verdict.status == CORRECT)
    _display({
        "text/html": render_html(entry, verdict, attempts_left=left, show_solution=show_solution,
                                 exam=sess.exam),
        "text/plain": render_text(entry, verdict, exam=sess.exam),
        RESULT_MIME: result_record(entry, verdict, attempt) if not sess.exam else
        {"exercise": exercise, "status": "recorded" if verdict.status != UNANSWERED else UNANSWERED,
         "misconception": None, "difficulty": entry["difficulty"], "points": entry["points"],
         "graded": entry["graded"], "exam": True},
    })


def hint(exercise: str) -> None:
    """Show an exercise's hints."""
    entry = session().entries.get(exercise)
    if entry is None:
        print(f"Unknown exercise {exercise!r}.")
        return
    lines = "\n".join(f"- {h}" for h in entry["hints"]) or "No hint for this one."
    _display({"text/markdown": f"**Hint — {entry['title']}**\n\n{lines}", "text/plain": lines})


def practice(exercise: str) -> Any:
    """Show an ungraded practice question as a widget (instant feedback, attempts, hint, solution)."""
    from .widgets import PracticeWidget

    try:
        entry = session().entries[exercise]
    except (RuntimeError, KeyError):
        print(f"Cannot show practice question {exercise!r}: run the notebook's first cell first.")
        return None
    widget = PracticeWidget(entry)
    from IPython.display import display

    display(widget.box)
    return None


def results() -> None:
    """Exam mode's final cell: the score by difficulty and every question's worked explanation."""
    sess = session()
    graded = [e for e in sess.entries.values() if e["graded"]]
    rows, total, got = [], 0.0, 0.0
    by_level: dict[str, list[float]] = {}
    for entry in graded:
        verdict = assess(entry, _answer_for(sess, entry))
        sess.verdicts[entry["id"]] = verdict
        earned = entry["points"] if verdict.status == CORRECT else 0.0
        total += entry["points"]
        got += earned
        level = by_level.setdefault(entry["difficulty"], [0.0, 0.0])
        level[0] += earned
        level[1] += entry["points"]
        rows.append((entry, verdict, earned))
    from .render import results_html

    _display({"text/html": results_html(rows, by_level, got, total),
              "text/plain": f"Score: {got:g} / {total:g}",
              RESULT_MIME: {"exam": sess.module, "score": got, "max_score": total,
                            "by_difficulty": {k: {"score": v[0], "max": v[1]} for k, v in by_level.items()},
                            "answers": [v.as_result() for _, v, _ in rows]}})
