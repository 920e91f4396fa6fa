"""What ``driftlab grade`` refuses to do with an instructor's paths, and how it marks its own output.

* ``--out`` inside the submissions folder (the next run would grade its own output: a fake learner
  ``autograded`` …), or the submissions inside ``--out``: refused.
* ``--out`` at the course root: refused (the output's ``gradebook.db``, ``autograded/`` and
  ``feedback/`` are nbgrader's own folders there; the course gradebook is never touched).
* an existing, non-empty ``--out`` that is not a previous output of this command: refused unless
  ``--force``. A run marks its output folder with :data:`MANIFEST` (a small JSON file); a folder
  written before the marker existed is recognised by its ``results.json`` re-run cache.

Every refusal is a :class:`UsageError`: one line, exit code 2, nothing written.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from driftlab.errors import DriftLabError

MANIFEST = ".driftlab-grade.json"


class UsageError(DriftLabError):
    """The command line cannot be honoured as given (one-line message, exit code 2)."""


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def is_our_output(out: Path) -> bool:
    """True when ``out`` was written by ``driftlab grade`` (its manifest, or an older run's results.json)."""
    if (out / MANIFEST).is_file():
        return True
    try:
        return "cache" in json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def check_paths(submissions: Path, out: Path, course: Path, force: bool = False) -> None:
    """Raise :class:`UsageError` when writing to ``out`` could damage the input, the course or other files."""
    subs, out, course = submissions.resolve(), out.resolve(), course.resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder (it is created if missing)")
    if subs.is_dir() and _inside(out, subs):
        raise UsageError(f"--out {out} lies inside the submissions folder {subs}: the next run would grade its "
                         "own output; choose an output folder outside it")
    if _inside(subs, out):
        raise UsageError(f"the submissions {subs} lie inside --out {out}: choose an output folder that does not "
                         "contain them")
    if out == course or (out / "nbgrader_config.py").exists():
        raise UsageError(f"--out {out} is a course folder: driftlab grade never writes into a course's own "
                         "gradebook.db, autograded/ or feedback/; choose another folder (e.g. --out grading)")
    # .work/ alone is this command's scratch (e.g. a course generated ahead by a test or a benchmark)
    if out.is_dir() and any(p.name != ".work" for p in out.iterdir()) and not is_our_output(out) and not force:
        raise UsageError(f"--out {out} already holds files that are not a driftlab grade output (no {MANIFEST}); "
                         "choose a new or empty folder, or add --force to write into it anyway")


def claim(out: Path, course: Path, modules: list[str]) -> None:
    """Create ``out`` and mark it as this command's output (keeps the first run's creation time)."""
    from .files import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {"tool": "driftlab grade", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    data.update({"course": str(course), "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 "modules": sorted(set(data.get("modules", [])) | set(modules))})
    write_atomic(path, json.dumps(data, indent=1))


def parse_timeout(text: str) -> int:
    """``--timeout``: a positive number of seconds, or ``none`` (no per-cell limit: -1 for nbclient)."""
    word = text.strip().lower()
    if word in ("none", "no", "unlimited"):
        return -1
    try:
        value = int(word)
    except ValueError:
        raise UsageError(f"--timeout {text!r}: give whole seconds (e.g. 60), or 'none' for no limit") from None
    if value <= 0:
        raise UsageError(f"--timeout {text}: must be at least 1 second, or 'none' for no limit "
                         "(leave it out for the course's nbgrader_config.py value)")
    return value


def _at_least_one(option: str, text: str, what: str, unit: str) -> int:
    """A whole number >= 1 for ``option``, or a UsageError that says what to give."""
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{option} {text!r}: give {what}") from None
    if value < 1:
        raise UsageError(f"{option} {text}: must be at least 1{unit}")
    return value


def parse_worker_wait(text: str) -> int:
    """``--worker-wait``: whole seconds >= 1 to wait while the cluster has no worker."""
    return _at_least_one("--worker-wait", text, "whole seconds (e.g. 600)", " second")


def parse_jobs(text: str) -> int:
    """``--jobs``: worker processes of the local cluster, >= 1."""
    return _at_least_one("--jobs", text, "a whole number of worker processes (at least 1)", "")
