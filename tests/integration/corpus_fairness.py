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


CASES = [
    ("h-fair-fullwidth", "choice 'Ｂ．', blank 'Ａ' (an East-Asian input method)",
     respelled(lambda k: fullwidth(k) + "．", fullwidth)),
    ("h-fair-cyrillic", "choice 'В', blank 'А' (Cyrillic look-alikes from a Cyrillic layout)",
     respelled(lambda k: CYRILLIC.get(k, k), lambda k: CYRILLIC.get(k, k))),
    ("h-fair-invisible", "a zero-width space and a BOM pasted inside each answer cell",
     respelled(lambda k: f"\ufeff{k}\u200b", lambda k: f"\u200b{k}", _first_line("\ufeff"))),
    ("h-fair-prose", "choice 'b because a p-value …' (the article 'a' is not option A)",
     respelled(lambda k: f"{k.lower()} because a p-value this small only says the samples differ", str)),
    ("h-fair-article", "choice 'B) A difference …' (the capital article 'A' is not option A)",
     respelled(lambda k: f"{k}) A difference, by some amount", str)),
    ("h-fair-comment-placeholder", "'B  # my first try was [1] = A' (a placeholder inside a comment)",
     respelled(lambda k: f"{k}  # my first try was [1] = A", str, _first_line("  # my first try was [1]"))),
]
for student, note, maker in CASES:
    hostile.register(hostile.Case(student, "graded", "max", note=f"right answers written as people write them: {note}"),
                     maker)
