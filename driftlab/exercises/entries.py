"""Compiled exercises as the learner's kernel sees them: one typed entry class per exercise kind.

The instructor's side (:mod:`grader.exercises.compile`) turns a spec into one of these entries;
the build ships them in the notebook's bank (:mod:`driftlab.exercises.bank`) and in each hidden
test. Here each kind judges an answer with :meth:`Entry.assess`, which never raises. What an entry
holds is only what a check needs: hashes of the right behaviour for choice and blanks, outputs for
function cases (instant feedback is formative; docs/GRADING.md says what that exposes).

Each kind separates *running* the learner's code (in a forked child with one budget, see
:mod:`driftlab.exercises.isolation`) from *judging* what it did (``judge``, pure): the judge in
nbgrader's process (:mod:`grader.judge`) runs code elsewhere and calls the same ``judge``. An entry
``without_keys()`` keeps only what a learner may see (the Test's bank; every bank at grading time):
its checks can only say "answer recorded".
"""
from __future__ import annotations

import hashlib
import json
import textwrap
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Callable, ClassVar

from driftlab.errors import BankError
from driftlab.exercises import blanks as blanks_mod
from driftlab.exercises.answers import read_choice, read_letter
from driftlab.exercises.isolation import run_isolated
from driftlab.exercises.probing import (Outcome, call_function, close, evaluate_expression, probe_namespace,
                                        run_snippet)

CORRECT, INCORRECT, UNANSWERED = "correct", "incorrect", "unanswered"
RECORDED = "recorded"  # a keyless check: the answer is readable and saved; the judge decides later
UNREADABLE = "unreadable"  # refused without judging (ambiguous letter, not Python): costs no attempt


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: status, the misconception it showed, and what to tell the learner."""

    exercise: str
    status: str
    misconception: str | None = None
    message: str = ""
    detail: str = ""

    @property
    def correct(self) -> bool:
        return self.status == CORRECT

    def as_result(self) -> dict[str, Any]:
        """The machine-readable record left in the notebook for grading reports."""
        return asdict(self)


@dataclass(frozen=True)
class MistakeNote:
    """A known misconception as the learner meets it: its id and the message that explains it."""

    id: str
    message: str


def digest(salt: str, text: str) -> str:
    """Salted hash that keeps answers out of plain sight (brute-forcing 4 options is accepted)."""
    return hashlib.sha256(f"{salt}\x00{text}".encode()).hexdigest()[:20]


def signature(outcomes: list[Outcome]) -> str:
    """A stable text form of what code did on every probe (values, or the error's type)."""
    return json.dumps([o.plain() for o in outcomes], sort_keys=True)


def run_all(calls: list[Callable[[], Outcome]], budget: float, isolated: bool = True) -> list[Outcome]:
    """Each call's outcome, computed in a forked child within one ``budget``; the rest time out.

    ``isolated=False`` runs them here, for the instructor's own code (references and known mistakes
    at build time: trusted, and ~50 ms of fork per call saved).
    """
    if not isolated:
        return [call() for call in calls]
    run = run_isolated(lambda: (asdict(call()) for call in calls), budget)
    done = [Outcome(**item) for item in run.items[: len(calls)]]
    missing = Outcome(error="timeout") if run.timed_out or run.crashed is None else \
        Outcome(error=f"ProcessExit: {run.crashed}")
    return done + [missing] * (len(calls) - len(done))


@dataclass(frozen=True, kw_only=True)
class Entry:
    """What every kind shares: the texts a learner sees and the mistakes a check can name."""

    kind: ClassVar[str] = ""
    answered_in_cell: ClassVar[bool] = True  # the answer is an ``%%answer`` cell (else a function)

    id: str
    title: str
    difficulty: str
    prompt: str = ""
    points: float = 1.0
    graded: bool = True
    attempts: int = 3
    source: str = ""
    hints: tuple[str, ...] = ()
    solution: tuple[str, ...] = ()
    note: str = ""
    mistakes: tuple[MistakeNote, ...] = ()
    has_keys: bool = True

    #: fields that hold answer information (keys), emptied by :meth:`without_keys`
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("hints", "solution", "note", "mistakes")

    def without_keys(self) -> "Entry":
        """This entry with every key removed: what the Test ships and what a grading kernel gets."""
        empty = {name: type(getattr(self, name))() for name in self.KEY_FIELDS}
        return replace(self, has_keys=False, **empty)

    def attempt_key(self, answer: Any) -> str:
        """What makes two answers the same attempt (the same choice, not the same spelling)."""
        return repr(answer)

    # -- judging ----------------------------------------------------------------------------------
    def assess(self, answer: Any) -> Verdict:
        """Judge an answer; never raises (a check must never show the learner a traceback)."""
        try:
            return self._assess(answer)
        except Exception as exc:  # noqa: BLE001
            return self.verdict(INCORRECT, "check-error",
                                f"The check could not run your answer ({type(exc).__name__}: {exc}).")

    def _assess(self, answer: Any) -> Verdict:
        raise NotImplementedError

    def verdict(self, status: str, misconception: str | None = None, message: str = "", detail: str = "") -> Verdict:
        return Verdict(self.id, status, misconception, message, detail)

    def mistake(self, index: int, detail: str = "") -> Verdict:
        """The verdict naming known mistake number ``index``."""
        note = self.mistakes[index]
        return self.verdict(INCORRECT, note.id, note.message, detail)

    def mistake_message(self, mistake_id: str) -> str:
        """The message of the known mistake ``mistake_id``."""
        return next(m.message for m in self.mistakes if m.id == mistake_id)

    def answer_in(self, answers: dict[str, Any], user_ns: dict[str, Any]) -> Any:
        """The learner's answer: the recorded ``%%answer`` body (or, for functions, the namespace's)."""
        return answers.get(self.id)

    # -- serialisation (the bank is JSON) ---------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        data["kind"] = self.kind
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> "Entry":
        """The entry of the right kind for a dict made by :meth:`to_dict`."""
        cls = KINDS.get(data.get("kind", ""))
        if cls is None:
            raise BankError(f"unknown exercise kind {data.get('kind')!r}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["mistakes"] = tuple(MistakeNote(**m) for m in values.get("mistakes", ()))
        for name in ("hints", "solution"):
            values[name] = tuple(values.get(name, ()))
        return cls(**cls._decode(values))

    @classmethod
    def _decode(cls, values: dict[str, Any]) -> dict[str, Any]:
        return values


def _plain(value: Any) -> Any:
    """JSON form of a field: dataclasses to dicts, tuples to lists, int keys to strings."""
    if isinstance(value, MistakeNote):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


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
        """A blank holding an option's letter (``A``, ``a``, ``(A)``, ``'A'``) holds that option's code."""
        out = {}
        for b, text in fills.items():
            opts = self.options.get(b, {})
            letter = read_letter(text, tuple(opts))
            out[b] = opts[letter] if letter else text
        return out

    def runnable(self, code: str) -> str:
        """The learner's code with option letters typed into blanks replaced by the options' code."""
        fills = blanks_mod.read_fills(self.template, code)
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
        try:
            compile(code, "<your answer>", "exec")
        except SyntaxError as exc:
            hit = self._text_hit(fills)
            if hit is not None and self.has_keys:
                return None, None, self.mistake(hit, f"(Python also says: {exc.msg}.)")
            return None, None, self.verdict(UNREADABLE, "syntax-error",
                                            f"That is not valid Python (line {exc.lineno}: {exc.msg}). Check each blank.")
        return code, fills, None

    def attempt_key(self, answer: Any) -> str:
        code, fills, _ = self.read(answer)
        if fills is not None:
            return repr(sorted(fills.items()))
        return " ".join((code or repr(answer)).split())

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


@dataclass(frozen=True, kw_only=True)
class FunctionEntry(Entry):
    """Write the function: called on cases, outputs compared with the reference's and the mistakes'."""

    kind: ClassVar[str] = "function"
    answered_in_cell: ClassVar[bool] = False
    KEY_FIELDS: ClassVar[tuple[str, ...]] = Entry.KEY_FIELDS + ("expected", "mistake_outputs")

    name: str = ""
    setup: str = ""
    cases: tuple[str, ...] = ()
    visible: int = -1  # how many of ``cases`` a learner may see (the rest are hidden); -1: all
    tolerance: float = 1e-6
    timeout: float = 5.0  # seconds for all cases of one check together
    expected: tuple[Any, ...] = ()
    mistake_outputs: tuple[tuple[Any, ...], ...] = ()

    @classmethod
    def _decode(cls, values: dict[str, Any]) -> dict[str, Any]:
        values["cases"] = tuple(values.get("cases", ()))
        values["expected"] = tuple(values.get("expected", ()))
        values["mistake_outputs"] = tuple(tuple(o) for o in values.get("mistake_outputs", ()))
        return values

    def answer_in(self, answers: dict[str, Any], user_ns: dict[str, Any]) -> Any:
        return user_ns.get(self.name)

    def attempt_key(self, answer: Any) -> str:
        code = getattr(answer, "__code__", None)
        return repr((code.co_code, code.co_consts)) if code else repr(answer)

    def case_args(self) -> list[Any]:
        """The cases' argument values (evaluated from the spec's expressions)."""
        namespace = probe_namespace()
        if self.setup:
            exec(self.setup, namespace)  # noqa: S102 - instructor-authored spec
        return [evaluate_expression(case, namespace) for case in self.cases]

    def outputs(self, func: Callable[..., Any], isolated: bool = True) -> list[Outcome]:
        """``func`` called on every case, in a forked child within the check's budget."""
        args = self.case_args()
        return run_all([lambda a=a: call_function(func, a) for a in args], self.timeout, isolated)

    def _assess(self, func: Any) -> Verdict:
        name = self.name
        if func is None:
            return self.verdict(UNANSWERED, None, f"Not answered yet: write `{name}` and run its cell.")
        if not callable(func):
            return self.verdict(UNREADABLE, "wrong-type", f"`{name}` should be a function; it is a {type(func).__name__}.")
        if not self.has_keys:
            return self.verdict(RECORDED, None, "Answer recorded.")
        return self.judge(self.outputs(func))

    def _show(self, index: int) -> str:
        """How a message names case ``index``: its arguments if visible, never a hidden case's."""
        if 0 <= self.visible <= index:
            return f"`{self.name}` on one of the autograder's hidden cases"
        return f"`{self.name}{_show(self.cases[index])}`"

    def judge(self, got: list[Outcome]) -> Verdict:
        """The verdict for outputs produced elsewhere (pure; ``got`` has one outcome per case)."""
        name = self.name
        if len(got) != len(self.cases):
            return self.verdict(INCORRECT, "not-run", "The autograder's cases did not all run.")
        if any(o.not_implemented for o in got):
            return self.verdict(UNANSWERED, None, f"Not answered yet: `{name}` still raises NotImplementedError.")
        if not self.has_keys:
            return self.verdict(RECORDED, None, "Answer recorded.")
        tol = self.tolerance
        if all(o.error is None and close(o.value, e, tol) for o, e in zip(got, self.expected)):
            return self.verdict(CORRECT, None, f"Correct: `{name}` passes all {len(got)} checks.")
        values = [o.plain() for o in got]
        for index, outputs in enumerate(self.mistake_outputs):
            if all(close(v, e, tol) for v, e in zip(values, outputs)):
                return self.mistake(index)
        for i, (o, e) in enumerate(zip(got, self.expected)):
            if o.error == "timeout":
                return self.verdict(INCORRECT, "timeout",
                                    f"{self._show(i)} ran longer than {self.timeout:g} s (all cases together): "
                                    "is there an endless loop?")
            if o.error:
                return self.verdict(INCORRECT, "raised-exception", f"{self._show(i)} raised {o.error}.")
            if not close(o.value, e, tol):
                if type(o.value) is not type(e) and not (isinstance(e, float) and isinstance(o.value, int)):
                    return self.verdict(INCORRECT, "wrong-type",
                                        f"{self._show(i)} returned {_brief(o.value)}; expected a {type(e).__name__}.")
                return self.verdict(INCORRECT, "unknown", f"{self._show(i)} returned {_brief(o.value)}, which is not right.")
        return self.verdict(INCORRECT, "unknown", "Not yet.")


KINDS: dict[str, type[Entry]] = {cls.kind: cls for cls in (ChoiceEntry, BlanksEntry, FunctionEntry)}


def define(code: str, name: str, setup: str = "") -> Callable[..., Any]:
    """Define ``name`` from instructor-written code the way probes see it (buggy mistakes, references)."""
    namespace = probe_namespace()
    if setup:
        exec(setup, namespace)  # noqa: S102 - instructor-authored spec
    exec(textwrap.dedent(code), namespace)  # noqa: S102 - instructor-authored spec
    return namespace[name]


def _show(case: str) -> str:
    text = case if case.startswith("(") else f"({case})"
    return text if len(text) <= 80 else text[:77] + "…)"


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
