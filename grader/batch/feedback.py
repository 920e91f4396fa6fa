"""Per-learner feedback HTML from real ``nbgrader generate_feedback``, checked for hidden-test text.

The course's ``nbgrader_config.py`` appends ``ClearHiddenTests`` to the feedback preprocessors
(nbgrader#917), and under autograde every check shows the learner's mistake and the worked
solution. As a second line of defence every feedback file is scanned for the hidden tests' markers
and code before it is copied to the output folder; a file that holds any is withheld.
"""
from __future__ import annotations

import shutil
from pathlib import Path


from driftlab.protocol import HIDDEN_MARKERS


def leaks(text: str) -> list[str]:
    """The hidden-test markers found in a text (empty when it is clean)."""
    return [m for m in HIDDEN_MARKERS if m in text]


def collect(course: Path, module: str, student: str, dest: Path) -> tuple[Path | None, str]:
    """Copy a student's feedback to ``dest/STUDENT/MODULE.html`` if it holds no hidden test."""
    found = sorted((course / "feedback" / student / module).glob("*.html"))
    if not found:
        return None, "nbgrader wrote no feedback file"
    text = found[0].read_text(encoding="utf-8", errors="replace")
    bad = leaks(text)
    if bad:
        return None, "feedback withheld: it contains hidden-test text (" + ", ".join(bad) + ")"
    target = dest / student / f"{module}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(found[0], target)
    return target, ""
