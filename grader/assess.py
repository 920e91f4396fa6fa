"""Compile an exercise spec into a self-contained entry, and assess a learner's answer against it.

``compile_entry`` runs at build time (or in the instructor's kernel): it probes the correct answer and
every known mistake and keeps only hashes of what they did. ``assess`` runs in the learner's kernel
and in the hidden tests: it probes the learner's answer the same way and compares. Pure functions.
"""
from __future__ import annotations

import hashlib
import json
import textwrap
from dataclasses import asdict, dataclass
from typing import Any, Callable

from . import blanks as blanks_mod
from .probing import Outcome, call_function, close, evaluate_expression, probe_namespace, run_snippet
from .spec import ExerciseSpec

CORRECT, INCORRECT, UNANSWERED = "correct", "incorrect", "unanswered"


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


def digest(salt: str, text: str) -> str:
    """Salted hash that keeps answers out of the release (brute-forcing 4 options is accepted)."""
    return hashlib.sha256(f"{salt}\x00{text}".encode()).hexdigest()[:20]


def signature(outcomes: list[Outcome]) -> str:
    """A stable text form of what code did on every probe (values, or the error's type)."""
    parts = [o.value if o.error is None else {"error": o.error.split(":")[0]} for o in outcomes]
    return json.dumps(parts, sort_keys=True)


def _snippet_outcomes(entry: dict[str, Any], code: str) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for probe in entry["probes"]:
        if outcomes and outcomes[-1].error == "timeout":  # one endless loop is enough to know
            outcomes.append(Outcome(error="timeout"))
            continue
        outcomes.append(run_snippet(code, probe, tuple(entry["observe"]), entry["setup"], entry["timeout"]))
    return outcomes


def _fills_from_letters(entry: dict[str, Any], letters: dict[int, str]) -> dict[int, str]:
    return {b: entry["options"][str(b)][letters[b]] for b in letters}


def _resolve_letters(entry: dict[str, Any], fills: dict[int, str]) -> dict[int, str]:
    """A blank holding an option's letter (``A``…``D``) holds that option's code."""
    out = {}
    for b, text in fills.items():
        opts = entry["options"].get(str(b), {})
        key = text.strip().strip("'\"").upper()
        out[b] = opts[key] if len(key) == 1 and key in opts else text
    return out


def compile_entry(spec: ExerciseSpec, reference: Callable[..., Any] | None = None,
                  hidden: bool = False) -> dict[str, Any]:
    """Everything a check needs, with answers replaced by hashes of their behaviour.

    ``reference`` is the instructor's function for a function exercise. With ``hidden=True`` the
    hidden cases are included too (for the hidden tests, which the release never contains).
    """
    salt = f"driftlab:{spec.id}"
    entry: dict[str, Any] = {
        "id": spec.id, "kind": spec.kind, "title": spec.title, "difficulty": spec.difficulty,
        "points": spec.points, "graded": spec.graded, "attempts": spec.attempts,
        "hints": list(spec.hints), "solution": list(spec.solution), "note": spec.note,
        "source": spec.source, "prompt": spec.prompt, "template": spec.template,
        "options": {str(b): o for b, o in spec.options.items()}, "blanks": spec.blanks,
        "setup": spec.setup, "probes": list(spec.probes), "observe": list(spec.observe),
        "timeout": spec.timeout, "tolerance": spec.tolerance, "name": spec.name, "salt": salt,
        "mistakes": [{"id": m.id, "message": m.message} for m in spec.mistakes],
        "correct": [], "text_mistakes": {}, "behaviour_mistakes": {},
    }
    if spec.kind == "choice":
        entry["correct"] = [digest(salt, spec.answer[1])]
        for i, m in enumerate(spec.mistakes):
            for letter in (m.when or {}).values():
                entry["text_mistakes"][digest(salt, f"1|{letter}")] = i
    elif spec.kind == "blanks":
        right = _snippet_outcomes(entry, blanks_mod.fill(spec.template, _fills_from_letters(entry, spec.answer)))
        if any(o.error for o in right):
            raise ValueError(f"{spec.id}: the correct answer fails on a probe: {[o.error for o in right]}")
        entry["correct"] = [digest(salt, signature(right))]
        for i, m in enumerate(spec.mistakes):
            if m.code:  # a whole wrong snippet (a rewrite no single blank can express)
                sig = signature(_snippet_outcomes(entry, textwrap.dedent(m.code)))
                if digest(salt, sig) in entry["correct"]:
                    raise ValueError(f"{spec.id}: mistake {m.id!r} behaves exactly like the answer on every probe")
                entry["behaviour_mistakes"].setdefault(digest(salt, sig), i)
                continue
            if not m.when and not m.fill:
                continue
            fills = _fills_from_letters(entry, {**spec.answer, **(m.when or {})})
            fills.update(m.fill or {})
            code = blanks_mod.fill(spec.template, fills)
            changed = {**(m.when or {}), **(m.fill or {})}
            if len(changed) == 1:
                (b,) = changed
                entry["text_mistakes"][digest(salt, f"{b}|{' '.join(fills[b].split())}")] = i
            try:
                compile(code, "<mistake>", "exec")
            except SyntaxError:
                continue
            sig = signature(_snippet_outcomes(entry, code))
            if digest(salt, sig) in entry["correct"]:
                raise ValueError(f"{spec.id}: mistake {m.id!r} behaves exactly like the answer on every probe")
            entry["behaviour_mistakes"].setdefault(digest(salt, sig), i)
    else:  # function
        if reference is None:
            raise ValueError(f"{spec.id}: a function exercise needs the reference implementation")
        cases = list(spec.cases) + (list(spec.hidden_cases) if hidden else [])
        entry["cases"] = cases
        args = _case_args(entry)
        expected = [call_function(reference, a, spec.timeout) for a in args]
        for case, o in zip(cases, expected):
            if o.error:
                raise ValueError(f"{spec.id}: the reference fails on case {case}: {o.error}")
        entry["expected"] = [o.value for o in expected]
        entry["mistake_outputs"] = []
        for m in spec.mistakes:
            buggy = _define(m.code or "", spec.name, spec.setup)
            entry["mistake_outputs"].append([_plain(call_function(buggy, a, spec.timeout)) for a in args])
    return entry


def _plain(o: Outcome) -> Any:
    return o.value if o.error is None else {"error": o.error.split(":")[0]}


def _define(code: str, name: str, setup: str) -> Callable[..., Any]:
    namespace = probe_namespace()
    if setup:
        exec(setup, namespace)  # noqa: S102 - instructor-authored spec
    exec(textwrap.dedent(code), namespace)  # noqa: S102 - instructor-authored spec
    return namespace[name]


def _case_args(entry: dict[str, Any]) -> list[Any]:
    namespace = probe_namespace()
    if entry["setup"]:
        exec(entry["setup"], namespace)  # noqa: S102 - instructor-authored spec
    return [evaluate_expression(case, namespace) for case in entry["cases"]]


def _mistake(entry: dict[str, Any], index: int, detail: str = "") -> Verdict:
    m = entry["mistakes"][index]
    return Verdict(entry["id"], INCORRECT, m["id"], m["message"], detail)


def assess(entry: dict[str, Any], answer: Any) -> Verdict:
    """Judge an answer (code text, a letter, letters per blank, or a function); never raises."""
    try:
        if entry["kind"] == "choice":
            return _assess_choice(entry, answer)
        if entry["kind"] == "blanks":
            return _assess_blanks(entry, answer)
        return _assess_function(entry, answer)
    except Exception as exc:  # a check must never show the learner a traceback
        return Verdict(entry["id"], INCORRECT, "check-error",
                       f"The check could not run your answer ({type(exc).__name__}: {exc}).")


def _assess_choice(entry: dict[str, Any], answer: Any) -> Verdict:
    if answer is None or (isinstance(answer, str) and (not answer.strip() or "[1]" in answer)):
        return Verdict(entry["id"], UNANSWERED, None, "Not answered yet.")
    if not isinstance(answer, str):
        return Verdict(entry["id"], INCORRECT, "wrong-type",
                       f"Answer with one letter as text, like \"A\"; got a {type(answer).__name__}.")
    letters = [t for t in answer.replace('"', " ").replace("'", " ").replace(",", " ").split()
               if len(t) == 1 and t.upper() in entry["options"]["1"]]
    if len(letters) != 1:
        valid = ", ".join(entry["options"]["1"])
        return Verdict(entry["id"], INCORRECT, "not-an-option", f"Answer with exactly one of {valid}.")
    letter = letters[0].upper()
    if digest(entry["salt"], letter) in entry["correct"]:
        return Verdict(entry["id"], CORRECT, None, f"Correct: {letter}.")
    index = entry["text_mistakes"].get(digest(entry["salt"], f"1|{letter}"))
    if index is not None:
        return _mistake(entry, index)
    return Verdict(entry["id"], INCORRECT, "unknown", f"{letter} is not the best answer. Read the hint.")


def _assess_blanks(entry: dict[str, Any], answer: Any) -> Verdict:
    if isinstance(answer, dict):  # letters chosen in a widget
        if any(not answer.get(b) for b in entry["blanks"]):
            return Verdict(entry["id"], UNANSWERED, None, "Fill every blank first.")
        code = blanks_mod.fill(entry["template"], _fills_from_letters(entry, {int(k): v for k, v in answer.items()}))
    elif isinstance(answer, str):
        code = answer
    else:
        return Verdict(entry["id"], INCORRECT, "wrong-type", f"Expected code, got a {type(answer).__name__}.")
    if not code.strip():
        return Verdict(entry["id"], UNANSWERED, None, "Not answered yet: replace the blanks and run the cell.")
    empty = blanks_mod.unfilled(code, entry["blanks"])
    if empty:
        if len(empty) == len(entry["blanks"]):
            return Verdict(entry["id"], UNANSWERED, None, "Not answered yet: replace " +
                           ", ".join(f"[{b}]" for b in empty) + " with your choice and run the cell.")
        return Verdict(entry["id"], UNANSWERED, None,
                       "Almost: " + ", ".join(f"[{b}]" for b in empty) + " is still empty.")
    text_hit = None
    fills = blanks_mod.read_fills(entry["template"], code)
    if fills is not None:
        fills = _resolve_letters(entry, fills)
        code = blanks_mod.fill(entry["template"], fills)
        for b in entry["blanks"]:
            hit = entry["text_mistakes"].get(digest(entry["salt"], f"{b}|{fills[b]}"))
            if hit is not None:
                text_hit = hit
                break
    try:
        compile(code, "<your answer>", "exec")
    except SyntaxError as exc:
        if text_hit is not None:
            return _mistake(entry, text_hit, f"(Python also says: {exc.msg}.)")
        return Verdict(entry["id"], INCORRECT, "syntax-error",
                       f"That is not valid Python (line {exc.lineno}: {exc.msg}). Check each blank.")
    outcomes = _snippet_outcomes(entry, code)
    sig = digest(entry["salt"], signature(outcomes))
    if sig in entry["correct"]:
        return Verdict(entry["id"], CORRECT, None, "Correct: your code does the right thing on every test input.")
    index = text_hit if text_hit is not None else entry["behaviour_mistakes"].get(sig)
    if index is not None:
        return _mistake(entry, index)
    errors = [o.error for o in outcomes if o.error]
    if errors:
        what = "ran too long (an endless loop?)" if errors[0] == "timeout" else f"raised {errors[0]}"
        return Verdict(entry["id"], INCORRECT, "raised-exception", f"Your code {what} on one of the test inputs.")
    return Verdict(entry["id"], INCORRECT, "unknown",
                   "Not yet: your code runs, but does not do the right thing on every test input. Try the hint.")


def _assess_function(entry: dict[str, Any], func: Any) -> Verdict:
    name = entry["name"]
    if func is None:
        return Verdict(entry["id"], UNANSWERED, None, f"Not answered yet: write `{name}` and run its cell.")
    if not callable(func):
        return Verdict(entry["id"], INCORRECT, "wrong-type",
                       f"`{name}` should be a function; it is a {type(func).__name__}.")
    args = _case_args(entry)
    tol = entry["tolerance"]
    got = []
    for i, (case, a) in enumerate(zip(entry["cases"], args)):
        o = call_function(func, a, entry["timeout"])
        if o.not_implemented:
            return Verdict(entry["id"], UNANSWERED, None, f"Not answered yet: `{name}` still raises NotImplementedError.")
        got.append(o)
    values = [_plain(o) for o in got]
    if all(o.error is None and close(o.value, e, tol) for o, e in zip(got, entry["expected"])):
        return Verdict(entry["id"], CORRECT, None, f"Correct: `{name}` passes all {len(got)} checks.")
    for index, outputs in enumerate(entry.get("mistake_outputs", [])):
        if all(close(v, e, tol) for v, e in zip(values, outputs)):
            return _mistake(entry, index)
    for case, o, e in zip(entry["cases"], got, entry["expected"]):
        if o.error == "timeout":
            return Verdict(entry["id"], INCORRECT, "timeout",
                           f"`{name}{_show(case)}` ran longer than {entry['timeout']:g} s: is there an endless loop?")
        if o.error:
            return Verdict(entry["id"], INCORRECT, "raised-exception", f"`{name}{_show(case)}` raised {o.error}.")
        if not close(o.value, e, tol):
            if type(o.value) is not type(e) and not (isinstance(e, float) and isinstance(o.value, int)):
                return Verdict(entry["id"], INCORRECT, "wrong-type",
                               f"`{name}{_show(case)}` returned {_brief(o.value)}; expected a {type(e).__name__}.")
            return Verdict(entry["id"], INCORRECT, "unknown",
                           f"`{name}{_show(case)}` returned {_brief(o.value)}, which is not right.")
    return Verdict(entry["id"], INCORRECT, "unknown", "Not yet.")


def _show(case: str) -> str:
    text = case if case.startswith("(") else f"({case})"
    return text if len(text) <= 80 else text[:77] + "…)"


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
