"""Markdown and HTML for exercise prompts and exam results (no kernel, no widgets: pure text)."""
from __future__ import annotations

import html
from typing import Any

from .feedback import COLOURS, SYMBOLS, md_to_html, solution_html
from .spec import ExerciseSpec

KIND_LABEL = {"blanks": "fill in the blank", "choice": "multiple choice", "function": "write the function"}


def prompt_markdown(spec: ExerciseSpec) -> str:
    """The exercise as a learner reads it: title, difficulty, points, prompt, template and options."""
    points = f"{spec.points:g} point" + ("" if spec.points == 1 else "s")
    graded = points if spec.graded else "practice, not graded"
    lines = [f"### {spec.title}", "",
             f"*{KIND_LABEL[spec.kind]} · {spec.difficulty} · {graded}*"
             + (f" · {spec.source}" if spec.source else ""), "", spec.prompt, ""]
    if spec.kind == "blanks":
        lines += ["```python", spec.template, "```", ""]
        for blank in spec.blanks:
            opts = " · ".join(f"**{k}** `{v}`" for k, v in spec.options[blank].items())
            lines.append(f"- Options for [{blank}]: {opts}")
        lines += ["", "Replace each `[n]` in the answer cell below with the option's code (or its letter), "
                  f"run it, then run the check. You have {spec.attempts} attempts before the worked solution opens."]
    elif spec.kind == "choice":
        lines += [f"- **{k}.** {v}" for k, v in spec.options[1].items()]
        if spec.graded:
            lines += ["", "Replace `[1]` in the answer cell below with the letter of your choice, run it, then run the check."]
    return "\n".join(lines).rstrip() + "\n"


def results_html(rows: list[tuple[dict[str, Any], Any, float]], by_level: dict[str, list[float]],
                 got: float, total: float) -> str:
    """The exam's final report: score by difficulty and each question's worked explanation."""
    order = [d for d in ("easy", "medium", "hard") if d in by_level]
    levels = "".join(f"<tr><td>{d}</td><td>{by_level[d][0]:g} / {by_level[d][1]:g}</td></tr>" for d in order)
    items = []
    for entry, verdict, earned in rows:
        status = verdict.status if verdict.status in COLOURS else "incorrect"
        colour, symbol = COLOURS[status], SYMBOLS[status]
        label = {"correct": "correct", "incorrect": "not correct", "unanswered": "not answered"}[status]
        why = f"<p>{md_to_html(verdict.message)}</p>" if verdict.status == "incorrect" else ""
        items.append(f'<li><strong style="color:{colour}">{symbol} {label}</strong> — '
                     f'{html.escape(entry["title"])} ({entry["difficulty"]}, {earned:g}/{entry["points"]:g})'
                     f"{why}{solution_html(entry, open_=False)}</li>")
    return (f'<div class="driftlab-results" role="region" aria-label="Test results">'
            f"<h3>Your score: {got:g} / {total:g}</h3>"
            f"<table><tr><th>difficulty</th><th>score</th></tr>{levels}</table>"
            f"<ol>{''.join(items)}</ol></div>")
