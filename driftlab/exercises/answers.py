"""Reading an answer as a person means it: a choice letter however it is written, a letter in a blank.

Pure text functions, with no key: the learner's kernel uses them to record and check an answer, the
judge (outside the kernel) to read the answer cell of a submitted notebook. ``B``, ``b``, ``B.``,
``(B)``, ``B)``, ``"B"``, ``B  # because …`` and the full text of option B all mean B; two different
letters are ambiguous and mean nothing.
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

_PUNCTUATION = "()[]{}.,:;!?\"'`*_"


@dataclass(frozen=True)
class Reading:
    """What an answer says: one option letter, or why it could not be read (never both)."""

    letter: str | None = None
    problem: str | None = None  # "empty", "ambiguous", "not-an-option"
    message: str = ""


def strip_comments(text: str) -> str:
    """``text`` without Python comments (a ``#`` inside quotes is kept); malformed code: cut at ``#``."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    lines = text.splitlines(keepends=True)
    for tok in reversed([t for t in tokens if t.type == tokenize.COMMENT]):
        row, col = tok.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + line[col + len(tok.string):]
    return "".join(lines)


def _words(text: str) -> list[str]:
    return " ".join(text.lower().strip(_PUNCTUATION + " ").split()).split()


def _normal(text: str) -> str:
    return " ".join(w.strip(_PUNCTUATION) for w in _words(text))


def read_choice(text: str | None, options: dict[str, str]) -> Reading:
    """The one option letter ``text`` names (see the module docstring), or why there is none."""
    letters = list(options)
    if text is None or not strip_comments(text).strip() or "[1]" in text:
        return Reading(problem="empty", message="Not answered yet.")
    body = strip_comments(text).strip()
    whole = _normal(body)
    named = [k for k, v in options.items() if whole and (whole == _normal(v) or whole == _normal(f"{k} {v}"))]
    if len(named) == 1:
        return Reading(letter=named[0])
    tokens = [t.strip(_PUNCTUATION) for t in re.split(r"[\s,;/]+", body)]
    upper = {t for t in tokens if len(t) == 1 and t in letters}
    lower = {t.upper() for t in tokens if len(t) == 1 and t.islower() and t.upper() in letters}
    found = upper or lower  # "B because a single check…": the capital letter is the answer, "a" is a word
    if len(found) == 1:
        return Reading(letter=next(iter(found)))
    valid = ", ".join(letters)
    if len(found) > 1:
        both = " and ".join(sorted(found))
        return Reading(problem="ambiguous", message=f"Your answer names {both}: give exactly one of {valid}.")
    return Reading(problem="not-an-option", message=f"Answer with one of {valid} (the letter of your choice).")


def read_letter(text: str, letters: list[str] | tuple[str, ...]) -> str | None:
    """The option letter a blank holds when the learner typed a letter (``A``, ``a``, ``(A)``, ``'A.'``)."""
    key = text.strip().strip(_PUNCTUATION + " ").upper()
    return key if len(key) == 1 and key in letters else None
