"""Monitoring actions the seed exercises call: ``alert(msg)``, ``log(msg)``, ``retrain_model()``.

A :class:`Recorder` keeps every action as a ``(kind, message)`` pair, so a check can tell
*whether* a learner's code alerted, logged or retrained (and how often), not only what it printed.
The module-level functions use one shared default recorder.
"""
from __future__ import annotations

__all__ = ["Recorder", "alert", "log", "retrain_model", "events", "clear_events", "default_recorder",
           "dropped", "needs_retraining"]


class Recorder:
    """An in-memory list of monitoring actions, each also printed as one short line."""

    def __init__(self, echo: bool = True) -> None:
        """Start empty; ``echo=False`` records silently (for checks that probe learner code)."""
        self.echo = echo
        self._events: list[tuple[str, str]] = []

    def _record(self, kind: str, message: str) -> None:
        """Append ``(kind, message)`` and print it as ``KIND: message``."""
        message = str(message)
        self._events.append((kind, message))
        if self.echo:
            print(f"{kind.upper()}: {message}")

    def alert(self, message: str = "Model performance may degrade") -> None:
        """Raise an alert (someone should look at the model)."""
        self._record("alert", message)

    def log(self, message: str) -> None:
        """Write a log line (recorded, no one is paged)."""
        self._record("log", message)

    def retrain_model(self, reason: str = "retraining triggered") -> None:
        """Record that retraining was triggered (the course's retraining loop does the real work)."""
        self._record("retrain", reason)

    @property
    def events(self) -> list[tuple[str, str]]:
        """A copy of the recorded ``(kind, message)`` pairs, oldest first."""
        return list(self._events)

    def count(self, kind: str) -> int:
        """How many actions of ``kind`` ("alert", "log", "retrain") were recorded."""
        return sum(1 for k, _ in self._events if k == kind)

    def clear(self) -> None:
        """Forget every recorded action."""
        self._events.clear()


default_recorder = Recorder()


def alert(message: str = "Model performance may degrade") -> None:
    """Raise an alert on the default recorder."""
    default_recorder.alert(message)


def log(message: str) -> None:
    """Log a message on the default recorder."""
    default_recorder.log(message)


def retrain_model(reason: str = "retraining triggered") -> None:
    """Record a retraining trigger on the default recorder."""
    default_recorder.retrain_model(reason)


def events() -> list[tuple[str, str]]:
    """The default recorder's ``(kind, message)`` pairs, oldest first."""
    return default_recorder.events


def clear_events() -> None:
    """Empty the default recorder (e.g. before a check runs learner code)."""
    default_recorder.clear()


def dropped(current: float, baseline: float) -> bool:
    """Did accuracy drop? Strictly below the baseline (seed task 2: ``current < baseline``)."""
    return bool(current < baseline)


def needs_retraining(accuracy: float, threshold: float) -> bool:
    """Retrain at *or below* the threshold (seed MCQ 4: ``accuracy <= 0.85``); equal counts."""
    return bool(accuracy <= threshold)
