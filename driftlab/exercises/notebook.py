"""What a course notebook imports: ``start``, the ``%%answer`` cell, ``check``, ``practice``, ``hint``, ``results``.

This is the only module of the exercise engine that talks to IPython; judging lives in
:mod:`driftlab.exercises.entries` and the look of feedback in :mod:`driftlab.exercises.cards`.
Nothing here raises into the learner's notebook: an unanswered or broken answer gets a message, so
"Run All" on an untouched notebook finishes without an error.
"""
from __future__ import annotations

import difflib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from driftlab.errors import NotStarted
from driftlab.exercises import bank as bank_mod
from driftlab.exercises import blanks
from driftlab.exercises.cards import hints_unlocked, render_html, render_text, result_record, results_html
from driftlab.exercises.cells import answer_cells
from driftlab.exercises.entries import CORRECT, INCORRECT, UNANSWERED, UNREADABLE, BlanksEntry, Entry, Verdict
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
    # Which cells answered: per exercise, {cell id: its answer} in the order the cells last ran (the id
    # the frontend sent with the cell, "" when it sent none), when each ran, where each check last ran,
    # the cells the frontend said were deleted, and the exercises whose every answer cell is gone.
    answered_by: dict[str, dict[str, str]] = field(default_factory=dict)
    ran_at: dict[str, float] = field(default_factory=dict)
    checked_in: dict[str, str] = field(default_factory=dict)
    deleted: dict[str, float] = field(default_factory=dict)
    forgotten: set[str] = field(default_factory=set)

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
        if _on_cell not in ip.events.callbacks.get("pre_run_cell", []):
            ip.events.register("pre_run_cell", _on_cell)


# ---------------------------------------------------------------------------------------------------
# Which cell is the answer (driftlab.exercises.cells: the lowest answer cell in the notebook, as the
# grader reads it). The kernel sees cells only as they run: JupyterLab (and Notebook 7) send each
# cell's id with the request, and the ids of the cells deleted since the last run; the saved notebook
# (its path: ``__session__``, set from jupyter_server's JPY_SESSION_NAME) says where cells stand.

MAX_SAVED_BYTES = 64 * 1024 * 1024  # a saved notebook larger than this is not read
_SAVED: tuple[tuple[str, int, int], "_Saved | None"] | None = None


@dataclass(frozen=True)
class _Saved:
    """The saved notebook: its cells, their ids and when it was written."""

    cells: list[dict[str, Any]]
    ids: list[str]
    mtime: float


def _request() -> dict[str, Any]:
    """The metadata of the request being run (JupyterLab: ``cellId``, ``deletedCells``); {} if none."""
    try:
        from IPython import get_ipython

        meta = get_ipython().get_parent().get("metadata")
    except Exception:  # noqa: BLE001 - no IPython, no parent, a frontend that sends none
        return {}
    return meta if isinstance(meta, dict) else {}


def _cell_id() -> str:
    """The id of the cell being run ("" when the frontend did not send one: nbclient, grading)."""
    cell_id = _request().get("cellId")
    return cell_id if isinstance(cell_id, str) else ""


def _saved_notebook() -> _Saved | None:
    """The notebook as last saved (None while grading, or when its path is unknown or unreadable)."""
    global _SAVED
    if grading():
        return None
    path = _user_ns().get("__session__") or os.environ.get("JPY_SESSION_NAME")
    try:
        stat = os.stat(path) if isinstance(path, str) and path.endswith(".ipynb") else None
    except OSError:
        stat = None
    if stat is None or stat.st_size > MAX_SAVED_BYTES:
        return None
    key = (path, stat.st_mtime_ns, stat.st_size)
    if _SAVED is None or _SAVED[0] != key:
        try:
            with open(path, encoding="utf-8") as file:
                cells = json.load(file).get("cells")
            cells = [c for c in cells if isinstance(c, dict)]
            saved = _Saved(cells, [str(c.get("id", "")) for c in cells], stat.st_mtime)
        except Exception:  # noqa: BLE001 - half-written, not JSON, not a notebook: cannot tell
            saved = None
        _SAVED = (key, saved)
    return _SAVED[1]


def _gone(sess: Session, cell_id: str, saved: _Saved | None) -> bool:
    """Is this cell no longer in the notebook? Reported deleted (unless a notebook saved since holds it:
    cut and pasted), or missing from a notebook saved after it ran (a cell run since may just be unsaved)."""
    if not cell_id:
        return False
    held = saved is not None and cell_id in saved.ids
    if cell_id in sess.deleted:
        return not (held and saved.mtime > sess.deleted[cell_id])
    return saved is not None and not held and sess.ran_at.get(cell_id, saved.mtime) < saved.mtime


def _alive(sess: Session, exercise: str, saved: _Saved | None) -> dict[str, str]:
    """The cells (still in the notebook) that answered ``exercise``, in the order they last ran; an
    exercise whose every answer cell is gone has no answer any more (and the check says why)."""
    runs = sess.answered_by.get(exercise, {})
    alive = {cid: code for cid, code in runs.items() if not _gone(sess, cid, saved)}
    if alive:
        sess.answers[exercise] = list(alive.values())[-1]
        sess.forgotten.discard(exercise)
    elif runs:
        sess.answers.pop(exercise, None)
        sess.forgotten.add(exercise)
    return alive


def _on_cell(*_: Any) -> None:
    """Before every cell: note the cells the frontend reports deleted (a cell that runs is not)."""
    if _SESSION is None:
        return
    try:
        deleted = _request().get("deletedCells")
        if isinstance(deleted, list) and deleted:
            ids = {d for d in deleted if isinstance(d, str) and d}
            _SESSION.deleted.update(dict.fromkeys(ids, time.time()))
            for exercise, runs in _SESSION.answered_by.items():
                if ids & set(runs):
                    _alive(_SESSION, exercise, None)
        _SESSION.deleted.pop(_cell_id(), None)
    except Exception:  # noqa: BLE001 - never a traceback in the learner's cell
        pass


def _saved_for(sess: Session, here: str) -> _Saved | None:
    """The saved notebook, if it is this kernel's: it holds this cell or one that ran here."""
    saved = _saved_notebook()
    if saved is None or not any(cid in saved.ids for cid in [here, *sess.ran_at] if cid):
        return None
    return saved


def _position(saved: _Saved | None, cell_id: str) -> int | None:
    """Where a cell stands in the saved notebook (None: not there, or no saved notebook)."""
    if saved is None or not cell_id or cell_id not in saved.ids:
        return None
    return saved.ids.index(cell_id)


def _reading(sess: Session, exercise: str, here: str) -> list[str]:
    """Set the answer to ``exercise`` to the one the grader would read, of those run here; notes on its cells.

    Of the cells that answered and are still in the notebook, the lowest in the saved notebook counts,
    else (not all of them saved yet) the one run last.
    """
    saved = _saved_for(sess, here)
    runs = _alive(sess, exercise, saved)
    notes: list[str] = []
    check_at = _position(saved, here)
    if not runs:
        below = [i for i in answer_cells(saved.cells, exercise) if i > check_at] if check_at is not None else []
        if below:
            notes.append(f"The answer cell of {exercise} stands below this check, so it has not run when this check "
                         f"runs (Run All). Move it above this check; the grader reads it wherever it stands.")
        return notes
    chosen = list(runs)[-1]
    known = [cid for cid in runs if cid]
    in_file = [saved.ids[i] for i in answer_cells(saved.cells, exercise)] if saved else []
    cells = len(set(known) | set(in_file))
    if cells > 1:
        others = f"Delete the other{'s' if cells > 2 else ''}"
        lowest = in_file[-1] if in_file and all(cid in saved.ids for cid in known) else None
        if lowest in runs:
            chosen = lowest
            notes.append(f"{cells} cells answer {exercise}: this check reads the lowest one, as the grader does. {others}.")
        else:
            notes.append(f"{cells} cells answer {exercise}: this check read the one you ran last, the grader reads the "
                         f"lowest one in the notebook. {others}, save, and run the one you keep, then this check.")
    answer_at = _position(saved, chosen)
    if answer_at is not None and check_at is not None and answer_at > check_at:
        notes.append(f"The answer cell of {exercise} stands below this check: Run All checks before the answer is "
                     f"recorded. Move it above this check (the grader reads it wherever it stands).")
    sess.answers[exercise] = runs[chosen]
    return notes


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
    _record_cell(sess, exercise, code)
    if not isinstance(entry, BlanksEntry):
        return
    if blanks.unfilled(code, entry.blanks):
        print("Replace each [n] with your choice (the option's code or its letter), then run this cell.")
        return
    try:
        early = entry.read(code)[2]
    except Exception:  # noqa: BLE001 - the real run below reports what went wrong
        early = None
    if early is not None and early.status == UNREADABLE:  # e.g. a Cyrillic А: say why, run nothing
        print(f"Not run: {early.message}")
        return
    runnable = entry.runnable(code)
    if _finishes(runnable, entry.timeout):
        _run_in_user_namespace(runnable)


def _record_cell(sess: Session, exercise: str, code: str) -> None:
    """Note which cell answered (the last run is last) and say at once what the grader would read differently."""
    here = _cell_id()
    runs = sess.answered_by.setdefault(exercise, {})
    runs.pop(here, None)
    runs[here] = code
    sess.ran_at[here] = time.time()
    sess.forgotten.discard(exercise)
    try:
        saved = _saved_for(sess, here)
        alive = _alive(sess, exercise, saved)
    except Exception:  # noqa: BLE001 - never a traceback in the learner's cell
        saved, alive = None, runs
    if here and any(cid and cid != here for cid in alive):
        print(f"Note: another cell answers {exercise} too. The grader reads the lowest one in the notebook; "
              f"delete the other.")
    checked, position = _position(saved, sess.checked_in.get(exercise, "")), _position(saved, here)
    if checked is not None and position is not None and checked < position:
        print(f"Note: the check of {exercise} stands above this cell. Run it again now; better, move this cell "
              f"above it (Run All runs that check before this answer; the grader reads this cell wherever it stands).")


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
    here = _cell_id()
    notes: list[str] = []
    if entry.answered_in_cell:
        try:
            notes = _reading(sess, exercise, here)
        except Exception:  # noqa: BLE001 - an odd saved file: judge the last run, say nothing more
            notes = []
        if here:
            sess.checked_in[exercise] = here
    answer = entry.answer_in(sess.answers, _user_ns())
    if answer is None and exercise in sess.forgotten:
        verdict = entry.verdict(UNANSWERED, None, f"The cell that answered {exercise} is no longer in the notebook, so "
                                f"its answer is forgotten (the grader would find none). Write your answer in a cell whose "
                                f"first line is `%%answer {exercise}`, above this check, and run it, then this check.")
    elif answer is None and entry.answered_in_cell:
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
    for note in notes:
        print(note)
    left = sess.attempts_left(exercise)
    show_solution = grading() or verdict.status == CORRECT or (verdict.status == INCORRECT and left == 0)
    attempt = len(sess.tried.get(exercise, [])) + (verdict.status == CORRECT)
    record = result_record(entry, verdict, attempt) if not sess.exam else {
        "exercise": exercise, "status": verdict.status if verdict.status in (UNANSWERED, UNREADABLE) else "recorded",
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
    from driftlab.exercises.cards import recorded_text

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
    unread = [v.exercise for _, v, _ in rows if v.status == UNREADABLE]  # not "recorded": nothing could be read
    answered = sum(v.status != UNANSWERED for _, v, _ in rows) - len(unread)
    _display({"text/html": results_html(rows, by_level, got, total, exam=sess.exam, solutions=shown),
              "text/plain": recorded_text(rows) if sess.exam else f"Score: {got:g} / {total:g}",
              RESULT_MIME: {"exam": sess.module, "answered": answered, "questions": len(rows), "unreadable": unread,
                            **({} if sess.exam else {"score": got, "max_score": total,
                                                      "by_difficulty": {k: {"score": v[0], "max": v[1]}
                                                                        for k, v in by_level.items()}}),
                            "answers": [v.as_result() for _, v, _ in rows]}})
