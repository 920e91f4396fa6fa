"""Exercise specifications: the one format every exercise of the course is written in.

An instructor writes each exercise once, as YAML in a ``%%exercise`` cell of a solutions notebook.
This module parses and validates that YAML into an :class:`ExerciseSpec`; nothing here runs code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from driftlab.errors import SpecError

KINDS = ("blanks", "choice", "function")
DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Mistake:
    """One known misconception: how to recognise it and what to tell the learner."""

    id: str
    message: str
    when: dict[int, str] | None = None  # blanks/choice: the option letter(s) that show it
    code: str | None = None  # function: a buggy implementation that shows it
    fill: dict[int, str] | None = None  # blanks: code typed into blank(s) that is not an option


@dataclass(frozen=True)
class ExerciseSpec:
    """A parsed exercise: prompt, answer, feedback and worked solution (see docs in README)."""

    id: str
    kind: str
    title: str
    difficulty: str
    prompt: str
    points: float = 1.0
    graded: bool = True
    source: str = ""
    hints: tuple[str, ...] = ()
    solution: tuple[str, ...] = ()
    note: str = ""
    attempts: int = 3
    mistakes: tuple[Mistake, ...] = ()
    # blanks and choice
    template: str = ""
    options: dict[int, dict[str, str]] = field(default_factory=dict)
    answer: dict[int, str] = field(default_factory=dict)
    # blanks and function: how behaviour is probed
    setup: str = ""
    probes: tuple[dict[str, str], ...] = ()
    observe: tuple[str, ...] = ()
    # function
    name: str = ""
    cases: tuple[str, ...] = ()
    hidden_cases: tuple[str, ...] = ()
    tolerance: float = 1e-6
    timeout: float = 5.0

    @property
    def blanks(self) -> list[int]:
        """Blank numbers in order ([1], [2], …); a choice question has the single blank 1."""
        return sorted(self.options)


def _as_blank_map(value: Any) -> dict[int, Any]:
    """Normalise ``{1: x}`` / ``x`` (single blank) into ``{1: x}``."""
    if isinstance(value, dict) and value and all(isinstance(k, int) for k in value):
        return dict(value)
    return {1: value}


def parse_spec(text: str) -> ExerciseSpec:
    """Parse one exercise's YAML; raise :class:`SpecError` with a precise message when malformed."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"exercise YAML does not parse: {exc}") from None
    if not isinstance(raw, dict):
        raise SpecError("an exercise spec must be a YAML mapping")
    ident = str(raw.get("id", "")).strip()
    if not ident:
        raise SpecError("exercise spec without an 'id'")

    def need(key: str) -> Any:
        if key not in raw or raw[key] in (None, ""):
            raise SpecError(f"{ident}: missing '{key}'")
        return raw[key]

    kind = need("kind")
    if kind not in KINDS:
        raise SpecError(f"{ident}: kind must be one of {KINDS}, not {kind!r}")
    difficulty = need("difficulty")
    if difficulty not in DIFFICULTIES:
        raise SpecError(f"{ident}: difficulty must be one of {DIFFICULTIES}, not {difficulty!r}")

    need("prompt")
    options: dict[int, dict[str, str]] = {}
    answer: dict[int, str] = {}
    if kind in ("blanks", "choice"):
        opts = need("options")
        if kind == "choice":
            opts = {1: opts}
        for blank, choices in _as_blank_map(opts).items():
            if not isinstance(choices, dict) or not choices:
                raise SpecError(f"{ident}: options for blank [{blank}] must map letters to text")
            options[int(blank)] = {str(k).upper(): str(v) for k, v in choices.items()}
        ans = need("answer")
        answer = {int(k): str(v).upper() for k, v in _as_blank_map(ans).items()}
        if set(answer) != set(options):
            raise SpecError(f"{ident}: 'answer' must give one letter for each blank {sorted(options)}")
        for blank, letter in answer.items():
            if letter not in options[blank]:
                raise SpecError(f"{ident}: answer {letter!r} for blank [{blank}] is not an option")
        if kind == "blanks":
            template = need("template")
            for blank in options:
                if f"[{blank}]" not in template:
                    raise SpecError(f"{ident}: template has no blank [{blank}]")

    mistakes = []
    for i, m in enumerate(raw.get("mistakes") or []):
        if not isinstance(m, dict) or "id" not in m or "message" not in m:
            raise SpecError(f"{ident}: mistake #{i + 1} needs an 'id' and a 'message'")
        when = None
        if "when" in m:
            when = {int(k): str(v).upper() for k, v in _as_blank_map(m["when"]).items()}
            for blank, letter in when.items():
                if blank not in options or letter not in options[blank]:
                    raise SpecError(f"{ident}: mistake {m['id']!r} names unknown option {letter!r} for blank [{blank}]")
        fill = None
        if "fill" in m:
            if kind != "blanks":
                raise SpecError(f"{ident}: mistake {m['id']!r}: 'fill' is for blanks exercises")
            fill = {int(k): str(v) for k, v in _as_blank_map(m["fill"]).items()}
            if not set(fill) <= set(options):
                raise SpecError(f"{ident}: mistake {m['id']!r} fills an unknown blank")
        if kind == "function" and not m.get("code"):
            raise SpecError(f"{ident}: mistake {m['id']!r} of a function exercise needs 'code' (a buggy implementation)")
        mistakes.append(Mistake(id=str(m["id"]), message=str(m["message"]).strip(), when=when, code=m.get("code"),
                                fill=fill))

    if kind == "function":
        need("name")
        if not raw.get("cases"):
            raise SpecError(f"{ident}: a function exercise needs visible 'cases'")
    if kind == "blanks" and not raw.get("probes"):
        raise SpecError(f"{ident}: a blanks exercise needs 'probes' (bindings to run the code with)")

    def strs(key: str) -> tuple[str, ...]:
        value = raw.get(key) or ()
        if isinstance(value, str):
            value = [value]
        return tuple(str(v).strip() for v in value)

    probes = tuple({str(k): str(v) for k, v in p.items()} for p in raw.get("probes") or ())
    return ExerciseSpec(
        id=ident,
        kind=kind,
        title=str(raw.get("title") or ident),
        difficulty=difficulty,
        prompt=str(need("prompt")).strip(),
        points=float(raw.get("points", 1)),
        graded=bool(raw.get("graded", True)),
        source=str(raw.get("source", "")),
        hints=strs("hints"),
        solution=strs("solution"),
        note=str(raw.get("note", "")).strip(),
        attempts=int(raw.get("attempts", 3)),
        mistakes=tuple(mistakes),
        template=str(raw.get("template", "")).rstrip("\n") if kind == "blanks" else "",
        options=options,
        answer=answer,
        setup=str(raw.get("setup", "")),
        probes=probes,
        observe=strs("observe"),
        name=str(raw.get("name", "")),
        cases=strs("cases"),
        hidden_cases=strs("hidden_cases"),
        tolerance=float(raw.get("tolerance", 1e-6)),
        timeout=float(raw.get("timeout", 5.0)),
    )
