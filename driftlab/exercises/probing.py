"""Run a learner's code safely on probe inputs and describe what it did in plain, comparable data.

Everything a check compares goes through :func:`canonical`, which turns numpy and pandas values into
plain Python and anything unknown into a type tag: an object whose ``__eq__`` always returns True
therefore never compares equal to an expected value.
"""
from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from driftlab.errors import SpecError

FLOAT_DIGITS = 9
MAX_INT_BITS = 13_000  # ~3900 decimal digits: below Python's 4300-digit int<->str limit


def canonical(value: Any) -> Any:
    """Plain-Python, JSON-able form of a value; unknown types become ``'<type Name>'``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        number = int(value)
        if number.bit_length() > MAX_INT_BITS:  # past what int<->str (and so JSON) converts in Python 3.11
            return f"<int of about {int(number.bit_length() * 0.30103)} digits>"
        return number
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return round(f, FLOAT_DIGITS) + 0.0
    if isinstance(value, np.ndarray):
        return [canonical(v) for v in value.tolist()]
    if type(value).__name__ == "Series" and hasattr(value, "to_dict"):
        return canonical(value.to_dict())
    if isinstance(value, Mapping):
        return {str(canonical(k)): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=repr)
    return f"<type {type(value).__name__}>"


def close(got: Any, expected: Any, tol: float) -> bool:
    """Compare canonical values, floats within ``tol`` (relative or absolute); types must agree.

    Never raises on numbers: an int too large for a float (``10**400``) is only close to itself, NaN to nothing.
    """
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        try:
            return math.isclose(got, expected, rel_tol=tol, abs_tol=tol)
        except OverflowError:  # no float is within any tolerance of an int past 1.8e308: compare exactly
            return got == expected
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(close(g, e, tol) for g, e in zip(got, expected))
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(close(got[k], expected[k], tol) for k in expected)
    return type(got) is type(expected) and got == expected


@contextlib.contextmanager
def quiet():
    """Swallow the learner code's prints and warnings while it is probed (noise is not a verdict).

    Both Python's streams and the file descriptors under them: a C library or ``os.write(2, ...)``
    writes to fd 2 directly, and nbgrader scores a test cell with any stderr output zero.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), _fds_silenced():
            yield


@contextlib.contextmanager
def _fds_silenced(fds: tuple[int, ...] = (1, 2)):
    """Point file descriptors 1 and 2 at /dev/null for the duration (restored afterwards)."""
    saved: list[tuple[int, int]] = []
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        for fd in fds:
            try:
                saved.append((fd, os.dup(fd)))
                os.dup2(devnull, fd)
            except OSError:
                continue
        yield
    finally:
        for fd, kept in reversed(saved):
            os.dup2(kept, fd)
            os.close(kept)
        os.close(devnull)


@dataclass
class Outcome:
    """What one probe run produced: a canonical value, or the error it raised."""

    value: Any = None
    error: str | None = None  # "TypeError: ..." or "timeout"
    not_implemented: bool = False

    def plain(self) -> Any:
        """The value, or ``{"error": type}``: what two runs are compared by."""
        return self.value if self.error is None else {"error": self.error.split(":")[0]}


def describe_error(exc: BaseException) -> str:
    """A one-line, traceback-free description of an exception."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class Recorder:
    """Stands in for ``alert``/``log``/``retrain_model`` while a snippet is probed."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def bind(self, kind: str) -> Callable[..., None]:
        def record(*args: Any, **kwargs: Any) -> None:
            self.events.append(kind)  # what fired counts, not the wording of its message

        record.__name__ = kind
        return record


RECORDED = ("alert", "log", "retrain_model")


def probe_namespace() -> dict[str, Any]:
    """Names every probe expression and snippet may use."""
    import pandas as pd

    return {"np": np, "pd": pd, "rng": np.random.default_rng, "math": math}


def evaluate_expression(expr: str, namespace: dict[str, Any]) -> Any:
    """Evaluate an instructor-written probe expression (spec text, never learner input)."""
    return eval(expr, dict(namespace))  # noqa: S307 - instructor-authored spec


def run_snippet(code: str, bindings: dict[str, str], observe: tuple[str, ...], setup: str = "") -> Outcome:
    """Execute ``code`` with ``bindings`` bound; return the recorder events and observed names."""
    namespace = probe_namespace()
    recorder = Recorder()
    for kind in RECORDED:
        namespace[kind] = recorder.bind(kind)
    try:
        if setup:
            exec(setup, namespace)  # noqa: S102 - instructor-authored spec
        for name, expr in bindings.items():
            namespace[name] = evaluate_expression(expr, namespace)
    except Exception as exc:  # a broken spec is the instructor's bug: say so loudly
        raise SpecError(f"probe set-up failed: {describe_error(exc)}") from exc
    try:
        with quiet():
            exec(compile(code, "<your answer>", "exec"), namespace)  # noqa: S102
    except Exception as exc:
        return Outcome(error=describe_error(exc))
    observed: dict[str, Any] = {"events": recorder.events}
    for name in observe:
        observed[name] = canonical(namespace.get(name, "<not defined>"))
    return Outcome(value=observed)


def call_function(func: Callable[..., Any], args: Any) -> Outcome:
    """Call ``func(*args)`` on a deep copy of the arguments; never raises."""
    call_args = copy.deepcopy(args)
    if not isinstance(call_args, tuple):
        call_args = (call_args,)
    try:
        with quiet():
            result = func(*call_args)
    except NotImplementedError:
        return Outcome(not_implemented=True, error="NotImplementedError")
    except Exception as exc:
        return Outcome(error=describe_error(exc))
    return Outcome(value=canonical(result))
