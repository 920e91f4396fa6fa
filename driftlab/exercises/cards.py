"""How a verdict looks: HTML and text for the learner, JSON for grading reports.

Right or wrong is shown by a word and a symbol as well as a colour (accessibility), and every check
leaves a ``application/vnd.driftlab.result+json`` output that reports read back.
"""
from __future__ import annotations

import html
from typing import Any

from driftlab.exercises.entries import CORRECT, INCORRECT, RECORDED, UNANSWERED, UNREADABLE, Entry, Verdict
from driftlab.viz.palette import STATUS_COLOURS

COLOURS = STATUS_COLOURS
SYMBOLS = {CORRECT: "✔", INCORRECT: "✘", UNANSWERED: "…", RECORDED: "✎", UNREADABLE: "?"}
LABELS = {CORRECT: "Correct", INCORRECT: "Not yet", UNANSWERED: "Not answered yet", RECORDED: "Answer recorded",
          UNREADABLE: "Could not read your answer"}


def md_to_html(text: str) -> str:
    """Small Markdown subset (code spans, bold, paragraphs) for feedback text; escapes the rest."""
    import re

    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    return "<br>".join(out.splitlines())


def hints_unlocked(entry: Entry, wrong_attempts: int) -> int:
    """How many hints a learner sees: one more per wrong attempt (the first after the first try)."""
    return min(len(entry.hints), max(0, wrong_attempts))


def hints_html(entry: Entry, shown: int) -> str:
    """The hints unlocked so far, and how many are still to come."""
    items = "".join(f"<li>{md_to_html(h)}</li>" for h in entry.hints[:shown])
    more = len(entry.hints) - shown
    later = (f"<p>{more} more hint{'s' if more != 1 else ''} after your next wrong attempt"
             f"{'s' if more != 1 else ''}.</p>") if more else ""
    return f"<details><summary>💡 Hint{'s' if shown > 1 else ''} (click to show)</summary><ul>{items}</ul>{later}</details>"


def render_html(entry: Entry, verdict: Verdict, *, attempts_left: int | None,
                show_solution: bool, exam: bool = False, hints: int = 0, open_solution: bool = False) -> str:
    """The learner-facing card for one check (a ``check()`` cell's output, a practice widget's, the judge's)."""
    status = verdict.status if verdict.status in LABELS else INCORRECT
    colour, symbol, label = COLOURS[status], SYMBOLS[status], LABELS[status]
    parts = [f'<div class="driftlab-check" role="status" aria-live="polite" '
             f'style="border-left:6px solid {colour};padding:6px 10px;margin:4px 0">',
             f'<strong style="color:{colour}">{symbol} {label}</strong> '
             f'<span>— {html.escape(entry.title)} ({entry.difficulty})</span>']
    if verdict.message:
        parts.append(f"<p>{md_to_html(verdict.message)}</p>")
    if verdict.detail:
        parts.append(f"<p>{md_to_html(verdict.detail)}</p>")
    if exam and verdict.status == RECORDED:
        parts.append("<p>Your score and the worked explanations come with your graded feedback.</p>")
    if attempts_left is not None and verdict.status in (INCORRECT, UNREADABLE) and not exam:
        free = " (an answer that could not be read costs no attempt)" if verdict.status == UNREADABLE else ""
        parts.append(f"<p>Attempts left: {attempts_left}{free}</p>")
    if hints and entry.hints and verdict.status != CORRECT and not exam:
        parts.append(hints_html(entry, hints))
    if show_solution and entry.solution:
        parts.append(solution_html(entry, open_=open_solution))
    parts.append("</div>")
    return "".join(parts)


def solution_html(entry: Entry, open_: bool = False) -> str:
    """The step-by-step worked solution (and what was fixed from the seed, if anything)."""
    steps = "".join(f"<li>{md_to_html(s)}</li>" for s in entry.solution)
    note = f"<p><em>{md_to_html(entry.note)}</em></p>" if entry.note else ""
    attr = " open" if open_ else ""
    return f"<details{attr}><summary>📘 Worked solution</summary><ol>{steps}</ol>{note}</details>"


def render_text(entry: Entry, verdict: Verdict, *, exam: bool = False) -> str:
    """Plain-text fallback (terminals, nbconvert to text)."""
    status = verdict.status if verdict.status in LABELS else INCORRECT
    text = f"{SYMBOLS[status]} {LABELS[status]} — {entry.title}"
    if verdict.message:
        text += f"\n{verdict.message}"
    return text


def result_record(entry: Entry, verdict: Verdict, attempt: int) -> dict[str, Any]:
    """The machine-readable result left in the notebook for reports."""
    record = verdict.as_result()
    record.update({"difficulty": entry.difficulty, "points": entry.points, "graded": entry.graded,
                   "attempt": attempt})
    return record


def short_title(entry: Entry) -> str:
    """How a list names an exercise: the Test's "Q3" (its title before " — "), else the whole title."""
    return entry.title.split(" — ", 1)[0]


def recorded_text(rows: list[tuple[Entry, Verdict, float]]) -> str:
    """"8 of 10 answers recorded, 2 could not be read: Q3, Q6" (an answer that could not be read is not recorded)."""
    unread = [short_title(entry) for entry, verdict, _ in rows if verdict.status == UNREADABLE]
    answered = sum(verdict.status not in (UNANSWERED, UNREADABLE) for _, verdict, _ in rows)
    text = f"{answered} of {len(rows)} answers recorded"
    return text + (f", {len(unread)} could not be read: {', '.join(unread)}" if unread else "")


def results_html(rows: list[tuple[Entry, Verdict, float]], by_level: dict[str, list[float]],
                 got: float, total: float, *, exam: bool = False, solutions: set[str] = frozenset()) -> str:
    """The final cell: the score by difficulty (the Test: answers recorded) and the worked solutions allowed."""
    items = []
    for entry, verdict, earned in rows:
        status = verdict.status if verdict.status in LABELS else INCORRECT
        colour, symbol = COLOURS[status], SYMBOLS[status]
        score = "" if exam else f", {earned:g}/{entry.points:g}"
        why = f"<p>{md_to_html(verdict.message)}</p>" if status in (INCORRECT, UNREADABLE) else ""
        worked = solution_html(entry, open_=False) if entry.id in solutions and entry.solution else ""
        items.append(f'<li><strong style="color:{colour}">{symbol} {LABELS[status].lower()}</strong> — '
                     f'{html.escape(entry.title)} ({entry.difficulty}{score}){why}{worked}</li>')
    if exam:
        head = (f"<h3>{html.escape(recorded_text(rows))}</h3>"
                "<p>Your score and the worked explanations come with your graded feedback.</p>")
    else:
        order = [d for d in ("easy", "medium", "hard") if d in by_level]
        levels = "".join(f"<tr><td>{d}</td><td>{by_level[d][0]:g} / {by_level[d][1]:g}</td></tr>" for d in order)
        head = (f"<h3>Your score: {got:g} / {total:g}</h3>"
                f"<table><tr><th>difficulty</th><th>score</th></tr>{levels}</table>")
    label = "Test answers" if exam else "Results"
    return f'<div class="driftlab-results" role="region" aria-label="{label}">{head}<ol>{"".join(items)}</ol></div>'
