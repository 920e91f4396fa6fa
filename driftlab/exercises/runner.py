"""Run fill-in-the-blank snippets on their probes in a fresh interpreter, outside the learner's kernel.

    python -I -m driftlab.exercises.runner < snippets.json > outcomes.json

The judge (:mod:`grader.judge`) starts this once per submission: stdin holds a JSON list of
``{"code", "probes", "observe", "setup", "timeout"}`` (the learner's filled snippet and the probes'
inputs — no key); stdout gets one JSON list of outcomes per snippet. Each snippet runs in its own
forked child with its own budget, so one snippet can neither hang the others nor change what they
report. The runner reads its whole input, then makes itself non-dumpable (:func:`seal`): no snippet
can reach its descriptors (the report's pipe) through ``/proc``.
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict

from driftlab.exercises.entries import BlanksEntry


def outcomes(snippets: list[dict]) -> list[list[dict]]:
    """Every snippet's outcomes (one per probe) as plain dicts."""
    found = []
    for s in snippets:
        entry = BlanksEntry(id="snippet", title="", difficulty="", setup=s.get("setup", ""),
                            probes=tuple(s["probes"]), observe=tuple(s["observe"]), timeout=float(s["timeout"]))
        found.append([asdict(o) for o in entry.outcomes(s["code"])])
    return found


def seal() -> None:
    """Make this process non-dumpable (Linux): its snippets' children, same user, can then no longer open
    ``/proc/<runner>/fd/*`` (its stdout: the report) nor its memory; elsewhere nothing changes."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def main() -> int:
    snippets = json.load(sys.stdin)
    seal()
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but the result on the real stdout
    out.write(json.dumps(outcomes(snippets)))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
