"""Hostile-corpus cases: Right answers written as people write them (fullwidth, Cyrillic look-alikes, invisible
characters, a letter followed by prose, comments holding a placeholder): each must earn full marks.

Each case is registered into :mod:`tests.integration.hostile` (graded by plain nbgrader in test_judge.py
and by ``driftlab grade`` in test_grade_pipeline.py).
"""
from __future__ import annotations

import copy
from typing import Any, Callable

from driftlab.exercises.answers import LOOKALIKES
from driftlab.exercises.blanks import fill
from tests.integration import hostile

CYRILLIC = {latin: char for char, latin in LOOKALIKES.items() if "\u0400" <= char <= "\u04ff"}


def fullwidth(letter: str) -> str:
    """``B`` as an East-Asian input method types it (``Ｂ``)."""
    return chr(ord(letter) + 0xFEE0)


def respelled(choice: Callable[[str], str], blank: Callable[[str], str],
              code: Callable[[str], str] = lambda source: source) -> Callable[[dict[str, Any]], bytes]:
    """A maker: the right notebook with each choice answer written ``choice(letter)`` and each blank holding
    ``blank(letter)``; ``code`` then rewrites the blanks answer as a whole (comments, invisible characters)."""
    def make(context: dict[str, Any]) -> bytes:
        nb = copy.deepcopy(context["right"])
        cells = hostile._answer_cells(nb)
        for spec in context["specs"]:
            cell = cells.get(spec.id)
            if cell is None:
                continue
            if spec.kind == "choice":
                cell.source = f"%%answer {spec.id}\n{choice(spec.answer[1])}"
            elif spec.kind == "blanks":
                filled = fill(spec.template.rstrip("\n"), {b: blank(spec.answer[b]) for b in spec.options})
                cell.source = f"%%answer {spec.id}\n{code(filled)}"
        return hostile._dump(nb)
    return make


def _first_line(suffix: str) -> Callable[[str], str]:
    return lambda source: source.replace("\n", suffix + "\n", 1)


# Two spellings a case (the tiny module has one choice and one blank): four submissions cover every
# respelling of the issue in both pipelines; tests/unit/test_answers_fair.py covers each one alone.
CASES = [
    ("h-fair-keyboards", "choice 'Ｂ．' (an East-Asian input method), blank 'А' (a Cyrillic layout)",
     respelled(lambda k: fullwidth(k) + "．", lambda k: CYRILLIC.get(k, k))),
    ("h-fair-invisible", "choice Cyrillic 'В' and blank fullwidth 'Ａ', with a zero-width space and a BOM pasted in",
     respelled(lambda k: f"\ufeff{CYRILLIC.get(k, k)}\u200b", lambda k: f"\u200b{fullwidth(k)}", _first_line("\ufeff"))),
    ("h-fair-prose", "choice 'b because a p-value …' (the article 'a' is not option A), a placeholder in a blank's comment",
     respelled(lambda k: f"{k.lower()} because a p-value this small only says the samples differ", str,
               _first_line("  # my first try was [1]"))),
    ("h-fair-article", "choice 'B) A difference …  # my first try was [1] = A' (the article 'A' is not option A; "
     "a placeholder inside a comment)",
     respelled(lambda k: f"{k}) A difference, by some amount  # my first try was [1] = A", str)),
]
for student, note, maker in CASES:
    hostile.register(hostile.Case(student, "graded", "max", note=f"right answers written as people write them: {note}"),
                     maker)
