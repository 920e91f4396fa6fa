"""Fill in the blank: the filled code runs on probes; its behaviour is compared by hash."""
from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass, field
from typing import Any, ClassVar

from driftlab.exercises import blanks as blanks_mod
from driftlab.exercises.answers import INVISIBLE, normalise_code, read_letter, strip_comments, typing_problem
from driftlab.exercises.entries.base import (CORRECT, INCORRECT, RECORDED, UNANSWERED, UNREADABLE, Entry, Verdict,
                                             digest, register, run_all, signature)
from driftlab.exercises.probing import Outcome, run_snippet

@register
@dataclass(frozen=True, kw_only=True)
class BlanksEntry(Entry):
    """Fill in the blank: the filled code is run on probes and its behaviour compared by hash."""

    kind: ClassVar[str] = "blanks"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = Entry.KEY_FIELDS + ("correct", "text_mistakes", "behaviour_mistakes")

    template: str = ""
    options: dict[int, dict[str, str]] = field(default_factory=dict)
    setup: str = ""
    probes: tuple[dict[str, str], ...] = ()
    observe: tuple[str, ...] = ()
    timeout: float = 5.0  # seconds for all probes of one check together
    salt: str = ""
    correct: str = ""  # digest of the right behaviour's signature
    text_mistakes: dict[str, int] = field(default_factory=dict)  # digest of "BLANK|text" -> mistake index
    behaviour_mistakes: dict[str, int] = field(default_factory=dict)  # digest of a signature -> index
    snippet_mistakes: tuple[str, ...] = ()  # ids of whole-snippet (``code:``) mistakes, named by behaviour

    @classmethod
    def _decode(cls, values: dict[str, Any]) -> dict[str, Any]:
        values["options"] = {int(b): dict(o) for b, o in values.get("options", {}).items()}
        values["probes"] = tuple(dict(p) for p in values.get("probes", ()))
        values["observe"] = tuple(values.get("observe", ()))
        values["snippet_mistakes"] = tuple(values.get("snippet_mistakes", ()))
        return values

    @property
    def blanks(self) -> list[int]:
        """Blank numbers in order ([1], [2], …)."""
        return sorted(self.options)

    def fill_letters(self, letters: dict[int, str]) -> str:
        """The template with each blank holding the code of the chosen option letter."""
        return blanks_mod.fill(self.template, {b: self.options[b][letters[b]] for b in letters})

    def resolve_letters(self, fills: dict[int, str]) -> dict[int, str]:
        """A blank holding an option's letter (``A``, ``a``, ``(A)``, ``'A'``, ``Ａ``, Cyrillic ``А``), or its
        code spaced otherwise (``==None``), holds that option's code."""
        out = {}
        for b, text in fills.items():
            opts = self.options.get(b, {})
            letter = read_letter(text, tuple(opts)) or self._option_of(b, text)
            out[b] = opts[letter] if letter else text
        return out

    def as_meant(self, code: str) -> str:
        """The learner's code as meant (:func:`normalise_code`); an invisible character the template holds is kept."""
        return normalise_code(code, keep="".join(c for c in INVISIBLE if c in self.template))

    def runnable(self, code: str) -> str:
        """The learner's code as meant, with option letters typed into blanks replaced by the options' code."""
        code = self.as_meant(code)
        fills = blanks_mod.read_fills(self.template, strip_comments(code))
        return code if fills is None else blanks_mod.fill(self.template, self.resolve_letters(fills))

    def outcomes(self, code: str, isolated: bool = True) -> list[Outcome]:
        """What ``code`` did on every probe, run in a forked child within the check's budget."""
        calls = [lambda probe=probe: run_snippet(code, probe, self.observe, self.setup) for probe in self.probes]
        return run_all(calls, self.timeout, isolated)

    def read(self, answer: Any) -> tuple[str | None, dict[int, str] | None, Verdict | None]:
        """``(code to run, the fills read from it, None)``, or ``(None, None, verdict)`` when it cannot run."""
        if isinstance(answer, dict):  # letters chosen in a widget
            if any(not answer.get(b) for b in self.blanks):
                return None, None, self.verdict(UNANSWERED, None, "Fill every blank first.")
            letters = {int(k): v for k, v in answer.items()}
            return self.fill_letters(letters), {b: self.options[b][letters[b]] for b in letters}, None
        if answer is None:
            return None, None, self.verdict(UNANSWERED, None, "No answer recorded yet.")
        if not isinstance(answer, str):
            return None, None, self.verdict(UNREADABLE, "wrong-type", f"Expected code, got a {type(answer).__name__}.")
        answer = strip_comments(self.as_meant(answer))  # "[1]" in a comment is not a blank
        if not answer.strip():
            return None, None, self.verdict(UNANSWERED, None, "Not answered yet: replace the blanks and run the cell.")
        empty = blanks_mod.unfilled(answer, self.blanks)
        if empty:
            where = ", ".join(f"[{b}]" for b in empty)
            if len(empty) == len(self.blanks):
                return None, None, self.verdict(UNANSWERED, None,
                                                f"Not answered yet: replace {where} with your choice and run the cell.")
            return None, None, self.verdict(UNANSWERED, None, f"Almost: {where} is still empty.")
        fills = blanks_mod.read_fills(self.template, answer)
        code = answer
        if fills is not None:
            fills = self.resolve_letters(fills)
            code = blanks_mod.fill(self.template, fills)
        problem = self._typing_problem(fills, code)
        if problem:  # what a person means but Python cannot read as typed: refused, no attempt spent
            return None, None, self.verdict(UNREADABLE, "not-python-as-typed", problem)
        try:
            compile(code, "<your answer>", "exec")
        except SyntaxError as exc:
            hit = self._text_hit(fills)
            if hit is not None and self.has_keys:
                return None, None, self.mistake(hit, f"(Python also says: {exc.msg}.)")
            return None, None, self.verdict(UNREADABLE, "syntax-error",
                                            f"That is not valid Python (line {exc.lineno}: {exc.msg}). Check each blank.")
        return code, fills, None

    def _typing_problem(self, fills: dict[int, str] | None, code: str) -> str | None:
        """Why a fill (or, off the template, the whole code) is not the Python the learner meant, or None."""
        if fills is None:
            return typing_problem(code, whole_code=True)
        return next((p for b, text in fills.items() if (p := typing_problem(text, self.options.get(b, {}).values()))),
                    None)

    def attempt_key(self, answer: Any) -> str:
        """One key per choice: an option typed as its letter or as its code (however spaced) is one attempt."""
        code, fills, _ = self.read(answer)
        if fills is not None:
            return repr(sorted((b, self._option_of(b, text) or _canonical(text)) for b, text in fills.items()))
        return _canonical(code) if code else repr(answer)

    def _option_of(self, blank: int, text: str) -> str | None:
        """The letter of the option whose code ``text`` is (spacing aside), else None."""
        canonical = _canonical(text)
        return next((k for k, v in self.options.get(blank, {}).items() if _canonical(v) == canonical), None)

    def _text_hit(self, fills: dict[int, str] | None) -> int | None:
        if not fills:
            return None
        return next((hit for b in self.blanks
                     if (hit := self.text_mistakes.get(digest(self.salt, f"{b}|{fills.get(b, '')}"))) is not None), None)

    def _assess(self, answer: Any) -> Verdict:
        code, fills, early = self.read(answer)
        if early is not None:
            return early
        if not self.has_keys:
            return self.verdict(RECORDED, None, "Answer recorded.")
        return self.judge(fills, self.outcomes(code))

    def judge(self, fills: dict[int, str] | None, outcomes: list[Outcome]) -> Verdict:
        """The verdict for code that was run elsewhere (pure).

        A misconception is named only when the answer *is* that mistake: its blank holds the
        distractor's text, or — for code that no longer follows the template, and for whole-snippet
        mistakes — it behaves exactly like the mistake on every probe.
        """
        if not self.has_keys:
            return self.verdict(RECORDED, None, "Answer recorded.")
        sig = digest(self.salt, signature(outcomes))
        if sig == self.correct:
            return self.verdict(CORRECT, None, "Correct: your code does the right thing on every test input.")
        hit = self._text_hit(fills)
        if hit is None:
            by_behaviour = self.behaviour_mistakes.get(sig)
            if by_behaviour is not None and (fills is None or self.mistakes[by_behaviour].id in self.snippet_mistakes):
                hit = by_behaviour
        if hit is not None:
            return self.mistake(hit)
        errors = [o.error for o in outcomes if o.error]
        if errors:
            what = "ran too long (an endless loop?)" if errors[0] == "timeout" else f"raised {errors[0]}"
            return self.verdict(INCORRECT, "raised-exception", f"Your code {what} on one of the test inputs.")
        return self.verdict(INCORRECT, "unknown",
                            "Not yet: your code runs, but does not do the right thing on every test input. Try the hint.")


def _canonical(code: str) -> str:
    """Code as its tokens, one space apart (``==None`` and ``== None`` are the same code)."""
    try:
        return " ".join(t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.string.strip())
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return " ".join(code.split())
