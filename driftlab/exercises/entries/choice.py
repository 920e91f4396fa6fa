"""Multiple choice: one letter, read as a person means it; right and wrong letters kept as hashes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from driftlab.exercises.answers import read_choice
from driftlab.exercises.entries.base import (CORRECT, INCORRECT, RECORDED, UNANSWERED, UNREADABLE, Entry, Verdict,
                                             digest, register)

@register
@dataclass(frozen=True, kw_only=True)
class ChoiceEntry(Entry):
    """Multiple choice: one letter; the right one and each distractor's mistake kept as hashes."""

    kind: ClassVar[str] = "choice"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = Entry.KEY_FIELDS + ("correct", "letter_mistakes")

    options: dict[str, str] = field(default_factory=dict)
    salt: str = ""
    correct: str = ""  # digest of the right letter
    letter_mistakes: dict[str, int] = field(default_factory=dict)  # digest of "1|LETTER" -> mistake index

    def attempt_key(self, answer: Any) -> str:
        reading = read_choice(answer, self.options) if isinstance(answer, str) else None
        return reading.letter if reading and reading.letter else repr(answer)

    def _assess(self, answer: Any) -> Verdict:
        if answer is not None and not isinstance(answer, str):
            return self.verdict(UNREADABLE, "wrong-type",
                                f"Answer with one letter as text, like \"A\"; got a {type(answer).__name__}.")
        reading = read_choice(answer, self.options)
        if reading.problem == "empty":
            return self.verdict(UNANSWERED, None, reading.message)
        if reading.letter is None:
            return self.verdict(UNREADABLE, reading.problem, reading.message)
        return self.judge(reading.letter)

    def judge(self, letter: str) -> Verdict:
        """The verdict for a letter already read (pure: the judge outside the kernel calls this too)."""
        if not self.has_keys:
            return self.verdict(RECORDED, None, f"Answer recorded: {letter}.")
        if digest(self.salt, letter) == self.correct:
            return self.verdict(CORRECT, None, f"Correct: {letter}.")
        index = self.letter_mistakes.get(digest(self.salt, f"1|{letter}"))
        if index is not None:
            return self.mistake(index)
        return self.verdict(INCORRECT, "unknown", f"{letter} is not the best answer. Read the hint.")
