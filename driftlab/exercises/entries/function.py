"""Write the function: called on cases; outputs compared with the reference's and each mistake's."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from driftlab.exercises.entries.base import (CORRECT, INCORRECT, RECORDED, UNANSWERED, UNREADABLE, Entry, Verdict,
                                             _brief, _show, register, run_all)
from driftlab.exercises.probing import Outcome, call_function, close, evaluate_expression, probe_namespace

@register
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
        if self._hidden(index):
            return f"`{self.name}` on one of the autograder's hidden cases"
        return f"`{self.name}{_show(self.cases[index])}`"

    def _hidden(self, index: int) -> bool:
        return 0 <= self.visible <= index

    def _value(self, index: int, value: Any) -> str:
        """What a message quotes of a returned value: on a hidden case only its type (a function may return
        its own arguments, and feedback must never show a hidden input)."""
        return f"a {type(value).__name__} value" if self._hidden(index) else _safe_brief(value)

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
            if o.error:  # on a hidden case only the exception's type: its text could quote the inputs
                error = o.error.split(":", 1)[0] if self._hidden(i) else o.error
                return self.verdict(INCORRECT, "raised-exception", f"{self._show(i)} raised {error}.")
            if not close(o.value, e, tol):
                if isinstance(e, (int, float)) and o.value in NOT_FINITE:
                    return self.verdict(INCORRECT, "unknown", f"{self._show(i)} returned {o.value}, not a finite number.")
                if type(o.value) is not type(e) and not (isinstance(e, float) and isinstance(o.value, int)):
                    return self.verdict(INCORRECT, "wrong-type",
                                        f"{self._show(i)} returned {self._value(i, o.value)}; expected a {type(e).__name__}.")
                return self.verdict(INCORRECT, "unknown",
                                    f"{self._show(i)} returned {self._value(i, o.value)}, which is not right.")
        return self.verdict(INCORRECT, "unknown", "Not yet.")


NOT_FINITE = ("nan", "inf", "-inf")  # how :func:`~driftlab.exercises.probing.canonical` writes them


def _safe_brief(value: Any) -> str:
    """A value's short repr for a message; a value that cannot be shown (nested too deep) is named by its type."""
    try:
        return _brief(value)
    except (RecursionError, ValueError, MemoryError):
        return f"a {type(value).__name__} that cannot be shown"
