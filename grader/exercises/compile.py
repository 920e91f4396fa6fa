"""Compile an exercise spec into the typed entry a check judges with (instructor side only).

One compiler per kind: it runs the right answer and every known mistake on the spec's probes or
cases, keeps what a check needs (hashes of behaviour, or outputs) and refuses a spec whose mistake
cannot be told apart from the answer. Runs at build time and in the instructor's kernel.
"""
from __future__ import annotations

import textwrap
from dataclasses import replace
from typing import Any, Callable

from driftlab.errors import SpecError
from driftlab.exercises import blanks as blanks_mod
from driftlab.exercises.entries import (BlanksEntry, ChoiceEntry, Entry, FunctionEntry, MistakeNote, define,
                                        digest, signature)
from grader.exercises.spec import ExerciseSpec


def _common(spec: ExerciseSpec) -> dict[str, Any]:
    return {"id": spec.id, "title": spec.title, "difficulty": spec.difficulty, "prompt": spec.prompt,
            "points": spec.points, "graded": spec.graded, "attempts": spec.attempts, "source": spec.source,
            "hints": spec.hints, "solution": spec.solution, "note": spec.note,
            "mistakes": tuple(MistakeNote(m.id, m.message) for m in spec.mistakes)}


def _salt(spec: ExerciseSpec) -> str:
    return f"driftlab:{spec.id}"


def compile_choice(spec: ExerciseSpec, reference: Callable[..., Any] | None = None, hidden: bool = False) -> ChoiceEntry:
    """The right letter and each distractor's mistake, as salted hashes."""
    salt = _salt(spec)
    letter_mistakes = {digest(salt, f"1|{letter}"): i
                       for i, m in enumerate(spec.mistakes) for letter in (m.when or {}).values()}
    return ChoiceEntry(**_common(spec), options=dict(spec.options[1]), salt=salt,
                       correct=digest(salt, spec.answer[1]), letter_mistakes=letter_mistakes)


def compile_blanks(spec: ExerciseSpec, reference: Callable[..., Any] | None = None, hidden: bool = False) -> BlanksEntry:
    """The right behaviour on the probes, and each mistake's text and behaviour, as salted hashes."""
    salt = _salt(spec)
    draft = BlanksEntry(**_common(spec), template=spec.template, options=spec.options, setup=spec.setup,
                        probes=spec.probes, observe=spec.observe, timeout=spec.timeout, salt=salt)
    right = draft.outcomes(draft.fill_letters(spec.answer), isolated=False)  # instructor code: trusted
    if any(o.error for o in right):
        raise SpecError(f"{spec.id}: the correct answer fails on a probe: {[o.error for o in right]}")
    correct = digest(salt, signature(right))
    text_mistakes: dict[str, int] = {}
    behaviour_mistakes: dict[str, int] = {}

    def behaves(index: int, code: str) -> None:
        sig = digest(salt, signature(draft.outcomes(code, isolated=False)))
        if sig == correct:
            raise SpecError(f"{spec.id}: mistake {spec.mistakes[index].id!r} behaves exactly like the answer on every probe")
        behaviour_mistakes.setdefault(sig, index)

    for i, m in enumerate(spec.mistakes):
        if m.code:  # a whole wrong snippet (a rewrite no single blank can express)
            behaves(i, textwrap.dedent(m.code))
            continue
        if not m.when and not m.fill:
            continue
        letters = {**spec.answer, **(m.when or {})}
        fills = {b: spec.options[b][letters[b]] for b in letters}
        fills.update(m.fill or {})
        changed = {**(m.when or {}), **(m.fill or {})}
        if len(changed) == 1:
            (b,) = changed
            text_mistakes[digest(salt, f"{b}|{' '.join(fills[b].split())}")] = i
        code = blanks_mod.fill(spec.template, fills)
        try:
            compile(code, "<mistake>", "exec")
        except SyntaxError:
            continue
        behaves(i, code)
    snippets = tuple(m.id for m in spec.mistakes if m.code)
    return replace(draft, correct=correct, text_mistakes=text_mistakes, behaviour_mistakes=behaviour_mistakes,
                   snippet_mistakes=snippets)


def compile_function(spec: ExerciseSpec, reference: Callable[..., Any] | None = None,
                     hidden: bool = False) -> FunctionEntry:
    """The reference's outputs on the cases (hidden ones too with ``hidden``) and each mistake's."""
    if reference is None:
        raise SpecError(f"{spec.id}: a function exercise needs the reference implementation")
    cases = spec.cases + (spec.hidden_cases if hidden else ())
    draft = FunctionEntry(**_common(spec), name=spec.name, setup=spec.setup, cases=cases, visible=len(spec.cases),
                          tolerance=spec.tolerance, timeout=spec.timeout)
    expected = draft.outputs(reference, isolated=False)  # instructor code: trusted
    for case, o in zip(cases, expected):
        if o.error:
            raise SpecError(f"{spec.id}: the reference fails on case {case}: {o.error}")
    mistake_outputs = tuple(tuple(o.plain() for o in draft.outputs(define(m.code or "", spec.name, spec.setup),
                                                                  isolated=False))
                            for m in spec.mistakes)
    return replace(draft, expected=tuple(o.value for o in expected), mistake_outputs=mistake_outputs)


COMPILERS: dict[str, Callable[..., Entry]] = {"choice": compile_choice, "blanks": compile_blanks,
                                              "function": compile_function}


def compile_entry(spec: ExerciseSpec, reference: Callable[..., Any] | None = None, hidden: bool = False) -> Entry:
    """The entry of ``spec``'s kind; ``reference`` is the instructor's function for a function exercise.

    With ``hidden=True`` the hidden cases are included too (for the hidden tests, which the
    release never contains).
    """
    return COMPILERS[spec.kind](spec, reference, hidden)
