"""The part every exercise kind shares: statuses, verdicts, the entry base class, running learner code.

See :mod:`driftlab.exercises.entries` for the whole picture.
"""
from __future__ import annotations

import hashlib
import json
import textwrap
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Callable, ClassVar

from driftlab.errors import BankError
from driftlab.exercises.isolation import run_isolated
from driftlab.exercises.probing import Outcome, probe_namespace

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
        cls = KINDS.get(data.get("kind", ""))  # filled as each kind's module defines its class
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



#: exercise kind -> its entry class (each kind's module registers its class)
KINDS: dict[str, type[Entry]] = {}


def register(cls: type[Entry]) -> type[Entry]:
    """Class decorator: make ``cls`` the entry class of its ``kind``."""
    KINDS[cls.kind] = cls
    return cls


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
