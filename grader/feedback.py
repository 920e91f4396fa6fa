"""How a verdict looks: HTML and text for the learner, JSON for grading reports.

Right or wrong is shown by a word and a symbol as well as a colour (accessibility), and every check
leaves a ``application/vnd.driftlab.result+json`` output that reports read back.
"""
from __future__ import annotations

import html
from typing import Any

from .assess import CORRECT, UNANSWERED, Verdict

RESULT_MIME = "application/vnd.driftlab.result+json"
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
COLOURS = {CORRECT: "#009E73", "incorrect": "#D55E00", UNANSWERED: "#0072B2", "recorded": "#0072B2"}
SYMBOLS = {CORRECT: "✔", "incorrect": "✘", UNANSWERED: "…", "recorded": "✎"}
LABELS = {CORRECT: "Correct", "incorrect": "Not yet", UNANSWERED: "Not answered yet", "recorded": "Answer recorded"}


def md_to_html(text: str) -> str:
    """Small Markdown subset (code spans, bold, paragraphs) for feedback text; escapes the rest."""
    import re

    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    return "<br>".join(out.splitlines())


def render_html(entry: dict[str, Any], verdict: Verdict, *, attempts_left: int | None,
                show_solution: bool, exam: bool = False) -> str:
    """The learner-facing card for one check."""
    status = "recorded" if exam and verdict.status != UNANSWERED else verdict.status
    colour, symbol, label = COLOURS[status], SYMBOLS[status], LABELS[status]
    parts = [f'<div class="driftlab-check" role="status" aria-live="polite" '
             f'style="border-left:6px solid {colour};padding:6px 10px;margin:4px 0">',
             f'<strong style="color:{colour}">{symbol} {label}</strong> '
             f'<span>— {html.escape(entry["title"])} ({entry["difficulty"]})</span>']
    if not exam:
        if verdict.message:
            parts.append(f"<p>{md_to_html(verdict.message)}</p>")
        if verdict.detail:
            parts.append(f"<p>{md_to_html(verdict.detail)}</p>")
        if attempts_left is not None and verdict.status != CORRECT:
            parts.append(f"<p>Attempts left: {attempts_left}</p>")
        if entry["hints"] and verdict.status != CORRECT:
            hints = "".join(f"<li>{md_to_html(h)}</li>" for h in entry["hints"])
            parts.append(f"<details><summary>💡 Hint (click to show)</summary><ul>{hints}</ul></details>")
        if show_solution:
            parts.append(solution_html(entry))
    else:
        parts.append("<p>Your answer is saved. Results appear in the final cell.</p>" if verdict.status != UNANSWERED
                     else f"<p>{md_to_html(verdict.message)}</p>")
    parts.append("</div>")
    return "".join(parts)


def solution_html(entry: dict[str, Any], open_: bool = False) -> str:
    """The step-by-step worked solution (and what was fixed from the seed, if anything)."""
    steps = "".join(f"<li>{md_to_html(s)}</li>" for s in entry["solution"])
    note = f"<p><em>{md_to_html(entry['note'])}</em></p>" if entry.get("note") else ""
    attr = " open" if open_ else ""
    return f"<details{attr}><summary>📘 Worked solution</summary><ol>{steps}</ol>{note}</details>"


def render_text(entry: dict[str, Any], verdict: Verdict, *, exam: bool = False) -> str:
    """Plain-text fallback (terminals, nbconvert to text)."""
    status = "recorded" if exam and verdict.status != UNANSWERED else verdict.status
    text = f"{SYMBOLS[status]} {LABELS[status]} — {entry['title']}"
    if not exam and verdict.message:
        text += f"\n{verdict.message}"
    return text


def result_record(entry: dict[str, Any], verdict: Verdict, attempt: int) -> dict[str, Any]:
    """The machine-readable result left in the notebook for reports."""
    record = verdict.as_result()
    record.update({"difficulty": entry["difficulty"], "points": entry["points"], "graded": entry["graded"],
                   "attempt": attempt})
    return record
