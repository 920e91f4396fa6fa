"""The exercise bank shipped inside a learner notebook: compiled entries, compressed and encoded.

Encoding is not encryption: it keeps misconception texts and worked solutions out of plain sight;
answers themselves are hashes or expected outputs (docs/GRADING.md says what a learner can recover).
Deterministic, so a rebuild gives identical notebooks.
"""
from __future__ import annotations

import base64
import json
import zlib

from driftlab.errors import BankError
from driftlab.exercises.entries import Entry

PREFIX = "dl1:"


def encode(entries: dict[str, Entry]) -> str:
    """Compact, deterministic text form of ``{exercise_id: entry}``."""
    raw = json.dumps({k: e.to_dict() for k, e in entries.items()}, sort_keys=True, separators=(",", ":")).encode()
    return PREFIX + base64.b64encode(zlib.compress(raw, 9)).decode()


def decode(token: str) -> dict[str, Entry]:
    """Inverse of :func:`encode`; raises :class:`BankError` on anything else."""
    if not isinstance(token, str) or not token.startswith(PREFIX):
        raise BankError("not a Drift Lab exercise bank")
    try:
        raw = json.loads(zlib.decompress(base64.b64decode(token[len(PREFIX):])))
        return {k: Entry.from_dict(v) for k, v in raw.items()}
    except Exception as exc:
        raise BankError(f"corrupt exercise bank ({type(exc).__name__})") from None
