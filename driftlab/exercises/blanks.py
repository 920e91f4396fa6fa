"""Fill-in-the-blank templates: the seed's ``[1]``, ``[2]`` … blanks inside a line of code.

Solutions mark a filled blank inline as ``[1:answer]``; the release shows ``[1]``. These are pure
string functions shared by the build (which blanks a solution) and the checks (which read a fill).
"""
from __future__ import annotations

import re

from driftlab.exercises.answers import strip_comments

SOLUTION_MARK = re.compile(r"\[(\d+):((?:[^\[\]]|\[[^\[\]]*\])+?)\]")
BLANK = re.compile(r"\[(\d+)\]")


def blank_solution_marks(source: str) -> str:
    """Turn the solution's ``[n:answer]`` marks into the learner's empty blanks ``[n]``."""
    return SOLUTION_MARK.sub(lambda m: f"[{m.group(1)}]", source)


def strip_solution_marks(source: str) -> str:
    """Turn ``[n:answer]`` marks into their answers: the code the instructor's solution runs."""
    return SOLUTION_MARK.sub(lambda m: m.group(2), source)


def unfilled(code: str, blanks: list[int]) -> list[int]:
    """Blank numbers whose ``[n]`` still stands in the learner's code (a ``[n]`` in a comment is no blank)."""
    body = strip_comments(code)
    return [b for b in blanks if f"[{b}]" in body]


def fill(template: str, fills: dict[int, str]) -> str:
    """Put each blank's text into the template (a blank used twice is filled twice)."""
    return BLANK.sub(lambda m: fills.get(int(m.group(1)), m.group(0)), template)


def _normalise(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines() if line.strip())


def read_fills(template: str, code: str) -> dict[int, str] | None:
    """What the learner put in each blank, or None when the code no longer follows the template.

    Whitespace around a fill is ignored; a blank used twice must hold the same text both times.
    """
    pattern = ""
    seen: dict[int, str] = {}
    pos = 0
    tmpl = _normalise(template)
    for m in BLANK.finditer(tmpl):
        literal = tmpl[pos:m.start()]
        pattern += r"\s*".join(re.escape(part) for part in re.split(r"\s+", literal)) if literal.strip() else r"\s*"
        n = int(m.group(1))
        if n in seen:
            pattern += rf"\s*(?P=b{n})\s*"
        else:
            pattern += rf"\s*(?P<b{n}>.+?)\s*"
            seen[n] = ""
        pos = m.end()
    tail = tmpl[pos:]
    pattern += r"\s*".join(re.escape(part) for part in re.split(r"\s+", tail)) if tail.strip() else ""
    match = re.fullmatch(r"\s*" + pattern + r"\s*", _normalise(code), flags=re.DOTALL)
    if not match:
        return None
    return {n: " ".join(match.group(f"b{n}").split()) for n in seen}
