"""The class report: ``report.html`` with plots embedded as SVG data (one self-contained file).

Per module: the score distribution; per exercise the share of learners with full points and a
discrimination index; per exercise how often each misconception occurred. Learners that could not
be graded and files that were not understood are listed, never folded into the statistics.

Discrimination index (Kelley 1939): rank graded learners by module score, take the top and the
bottom 27 % (at least one learner each), and subtract the share correct in the lower group from the
share in the upper group (−1 … 1; ≥ 0.3 is usually read as discriminating well). With fewer than
ten graded learners it is shown but flagged as unreliable.
"""
from __future__ import annotations

import base64
import html
import io
import math
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from driftlab.viz.palette import PALETTE

from .files import write_atomic
from .intake import HINT_NOTE
from .results import GRADED, Row, label

GROUP_SHARE = 0.27
RELIABLE_N = 10


def discrimination(rows: list[Row], exercise: str) -> float | None:
    """Upper-minus-lower 27 % share correct for one exercise among graded rows (None if < 2 rows)."""
    graded = sorted((r for r in rows if r.status == GRADED and exercise in r.exercises),
                    key=lambda r: (-(r.score or 0.0), r.student_id))
    if len(graded) < 2:
        return None
    k = max(1, int(round(GROUP_SHARE * len(graded))))
    upper, lower = graded[:k], graded[-k:]

    def share(group: list[Row]) -> float:
        return sum(r.exercises[exercise]["status"] == "correct" for r in group) / len(group)

    return share(upper) - share(lower)


def exercise_table(rows: list[Row]) -> list[dict[str, Any]]:
    """Per exercise of a module: points, difficulty, share correct, discrimination, misconceptions."""
    graded = [r for r in rows if r.status == GRADED]
    order: list[str] = []
    for r in graded:
        for ex in r.exercises:
            if ex not in order:
                order.append(ex)
    table = []
    for ex in order:
        entries = [r.exercises[ex] for r in graded if ex in r.exercises]
        statuses = Counter(e["status"] for e in entries)
        misconceptions = Counter(e["misconception"] or "(not identified)" for e in entries if e["status"] == "incorrect")
        table.append({
            "exercise": ex, "n": len(entries),
            "max_score": max((e["max_score"] for e in entries), default=0.0),
            "difficulty": next((e.get("difficulty") for e in entries if e.get("difficulty")), ""),
            "share_correct": statuses["correct"] / len(entries) if entries else math.nan,
            "unanswered": statuses["unanswered"], "incorrect": statuses["incorrect"],
            "discrimination": discrimination(graded, ex), "misconceptions": misconceptions,
        })
    return table


def _png(fig: Any) -> str:
    """The figure as an SVG data URI (text kept as text: smaller, sharper and ~3x faster than PNG)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "driftlab"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def _score_plot(module: str, rows: list[Row]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pal = PALETTE
    graded = [r for r in rows if r.status == GRADED]
    failed = len(rows) - len(graded)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    top = max((r.max_score or 0.0) for r in graded) if graded else 1.0
    scores = [r.score for r in graded]
    bins = [x - 0.5 for x in range(int(math.floor(top)) + 2)] if top <= 30 else 20
    ax.hist(scores, bins=bins, color=pal["blue"], edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("learners")
    ax.set_title(f"{module}: {len(graded)} graded, {failed} could not be graded", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _exercise_plot(module: str, table: list[dict[str, Any]]) -> str:
    import matplotlib.pyplot as plt

    pal = PALETTE
    names = [t["exercise"] for t in table]
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.5 + 0.45 * max(2, len(names))), sharey=True)
    y = list(range(len(names)))
    axes[0].barh(y, [t["share_correct"] for t in table], color=pal["bluish_green"])
    axes[0].set_xlim(0, 1)
    axes[0].set_xlabel("share with full points")
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    d = [t["discrimination"] if t["discrimination"] is not None else 0.0 for t in table]
    axes[1].barh(y, d, color=[pal["orange"] if v < 0.3 else pal["blue"] for v in d], hatch=None)
    axes[1].axvline(0.3, color=pal["black"], linestyle="--", linewidth=1)
    axes[1].set_xlim(-1, 1)
    axes[1].set_xlabel("discrimination index (upper − lower 27 %)")
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(module, fontsize=10)
    return _png(fig)


def _misconception_plot(module: str, table: list[dict[str, Any]], labels: dict | None = None) -> str | None:
    import matplotlib.pyplot as plt

    pal = PALETTE

    def name(m: str) -> str:
        text = label(labels or {}, module, m) if m != "(not identified)" else m
        return text if len(text) <= 60 else text[:57] + "…"

    bars = [(f"{t['exercise']} · {name(m)}", n) for t in table for m, n in t["misconceptions"].most_common()]
    if not bars:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.35 * len(bars)))
    y = list(range(len(bars)))
    ax.barh(y, [n for _, n in bars], color=pal["vermillion"])
    ax.set_yticks(y, [label for label, _ in bars])
    ax.invert_yaxis()
    ax.set_xlabel("learners")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{module}: misconceptions shown by wrong answers", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else pattern.format(value)


def _learner_table(rows: list[Row], modules: list[str]) -> list[str]:
    """One line per learner: name, late flag, and per module the score or why there is none."""
    esc = html.escape
    by_learner: dict[str, dict[str, Row]] = {}
    for r in rows:
        by_learner.setdefault(r.student_id, {})[r.module] = r
    parts = [f"<h2>Learners ({len(by_learner)})</h2><table><tr><th>learner</th><th>name</th><th>late</th>"
             + "".join(f"<th>{esc(m)}</th>" for m in modules) + "<th>total</th></tr>"]
    for student in sorted(by_learner):
        mine = by_learner[student]
        name = next((r.name for r in mine.values() if r.name), "")
        late = ", ".join(sorted(m for m, r in mine.items() if r.late == "yes")) or (
            "no" if any(r.late == "no" for r in mine.values()) else "")
        cells, total, top = [], 0.0, 0.0
        for m in modules:
            r = mine.get(m)
            if r is None:
                cells.append("<td></td>")
            elif r.status == GRADED:
                total, top = total + (r.score or 0.0), top + (r.max_score or 0.0)
                cells.append(f"<td>{r.score:g} / {r.max_score:g}</td>")
            else:
                cells.append(f"<td class='warn' title='{esc(r.reason)}'>could not grade</td>")
        parts.append(f"<tr><td>{esc(student)}</td><td>{esc(name)}</td><td>{esc(late)}</td>{''.join(cells)}"
                     f"<td>{total:g} / {top:g}</td></tr>")
    parts.append("</table>")
    return parts


def _hints(rows: list[Row]) -> list[str]:
    """Rows whose code matched a tampering pattern: hints for a look, worded as such (never verdicts)."""
    esc = html.escape
    found = [(r, note[len(HINT_NOTE):]) for r in rows for note in r.notes.split("; ") if note.startswith(HINT_NOTE)]
    parts = [f"<h2>Hints for review ({len(found)})</h2>"]
    if not found:
        return parts
    parts.append("<p>Code that contains a text pattern a learner rarely needs (a tracer, an import hook, a patched "
                 "module…). A hint is not a verdict: the patterns are easy to hide (<code>getattr</code>, a built "
                 "string, <code>importlib</code>), an honest learner can match one, and hints never change points: "
                 "the judge decides those outside the learner's kernel, whatever the kernel did.</p>"
                 "<table><tr><th>learner</th><th>module</th><th>score</th><th>patterns found</th></tr>")
    for r, hint in sorted(found, key=lambda f: (f[0].module, f[0].student_id)):
        score = f"{r.score:g} / {r.max_score:g}" if r.status == GRADED else "could not grade"
        parts.append(f"<tr><td>{esc(r.student_id)}</td><td>{esc(r.module)}</td><td>{score}</td><td>{esc(hint)}</td></tr>")
    parts.append("</table>")
    return parts


def render(rows: list[Row], unmatched: list[Any], path: Path, title: str = "Drift Lab — class report",
           warning: str | None = None, labels: dict | None = None) -> Path:
    """Write the report (atomically); ``warning`` is shown first, in bold (e.g. grading ran unsandboxed).

    ``labels`` maps ``(module, mistake id)`` to a readable name (:func:`grader.batch.results.misconception_labels`).
    """
    esc = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
             "th{background:#f3f3f3}.warn{color:#D55E00}img{max-width:100%}</style></head><body>",
             f"<h1>{esc(title)}</h1>",
             f"<p class='warn' role='alert'><strong>{esc(warning)}</strong></p>" if warning else "",
             f"<p>{len({r.student_id for r in rows})} learners · {len(rows)} (learner, module) rows · "
             f"generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. Scores come from nbgrader's gradebook "
             "(hidden tests); misconceptions from the checks' machine-readable results.</p>"]
    modules = sorted({r.module for r in rows})
    parts.append("<h2>Summary</h2><table><tr><th>module</th><th>graded</th><th>could not grade</th>"
                 "<th>mean</th><th>median</th><th>max points</th></tr>")
    for module in modules:
        mrows = [r for r in rows if r.module == module]
        scores = sorted(r.score for r in mrows if r.status == GRADED)
        mean = sum(scores) / len(scores) if scores else None
        median = (scores[(len(scores) - 1) // 2] + scores[len(scores) // 2]) / 2 if scores else None
        top = max((r.max_score or 0) for r in mrows if r.status == GRADED) if scores else None
        parts.append(f"<tr><td>{esc(module)}</td><td>{len(scores)}</td><td>{len(mrows) - len(scores)}</td>"
                     f"<td>{_fmt(mean)}</td><td>{_fmt(median)}</td><td>{_fmt(top, '{:g}')}</td></tr>")
    parts.append("</table>")
    for module in modules:
        mrows = [r for r in rows if r.module == module]
        graded = [r for r in mrows if r.status == GRADED]
        parts.append(f"<h2>{esc(module)}</h2>")
        if not graded:
            parts.append("<p class='warn'>No submission of this module could be graded.</p>")
            continue
        table = exercise_table(mrows)
        parts.append(f"<img alt='Score distribution of {esc(module)}' src='{_score_plot(module, mrows)}'>")
        parts.append(f"<img alt='Share correct and discrimination per exercise of {esc(module)}' "
                     f"src='{_exercise_plot(module, table)}'>")
        if len(graded) < RELIABLE_N:
            parts.append(f"<p class='warn'>Only {len(graded)} graded learners: the discrimination index is "
                         "unreliable below 10.</p>")
        mis = _misconception_plot(module, table, labels)
        if mis:
            parts.append(f"<img alt='Misconception counts of {esc(module)}' src='{mis}'>")
        parts.append("<table><tr><th>exercise</th><th>difficulty</th><th>points</th><th>share correct</th>"
                     "<th>discrimination</th><th>incorrect</th><th>unanswered</th><th>misconceptions (count)</th></tr>")
        for t in table:
            mc = "<br>".join(
                f"{esc(label(labels or {}, module, m))} <code>{esc(m)}</code> ({n})" if m != "(not identified)"
                else f"{esc(m)} ({n})" for m, n in t["misconceptions"].most_common()) or "—"
            parts.append(f"<tr><td>{esc(t['exercise'])}</td><td>{esc(str(t['difficulty'] or ''))}</td>"
                         f"<td>{t['max_score']:g}</td><td>{_fmt(t['share_correct'], '{:.0%}')}</td>"
                         f"<td>{_fmt(t['discrimination'])}</td><td>{t['incorrect']}</td><td>{t['unanswered']}</td>"
                         f"<td>{mc}</td></tr>")
        parts.append("</table>")
    parts += _learner_table(rows, modules)
    parts += _hints(rows)
    failed = [r for r in rows if r.status != GRADED]
    parts.append(f"<h2>Could not grade ({len(failed)})</h2>")
    if failed:
        parts.append("<table><tr><th>learner</th><th>module</th><th>reason</th><th>file</th></tr>")
        for r in sorted(failed, key=lambda r: (r.module, r.student_id)):
            parts.append(f"<tr><td>{esc(r.student_id)}</td><td>{esc(r.module)}</td><td>{esc(r.reason)}</td>"
                         f"<td>{esc(r.source)}</td></tr>")
        parts.append("</table>")
    parts.append(f"<h2>Files not graded ({len(unmatched)})</h2>")
    if unmatched:
        parts.append("<table><tr><th>file</th><th>why</th></tr>")
        for u in unmatched:
            parts.append(f"<tr><td>{esc(u.origin)}</td><td>{esc(u.reason)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return write_atomic(path, "\n".join(parts))
