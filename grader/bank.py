"""The exercise bank shipped inside a learner notebook: compiled entries, compressed and encoded.

Encoding is not encryption: it keeps answers, worked solutions and misconception texts out of plain
sight (answers themselves are only hashes). Deterministic, so a rebuild gives identical notebooks.
"""
from __future__ import annotations

import base64
import json
import zlib
from typing import Any

PREFIX = "dl1:"


def encode(entries: dict[str, dict[str, Any]]) -> str:
    """Compact, deterministic text form of ``{exercise_id: entry}``."""
    raw = json.dumps(entries, sort_keys=True, separators=(",", ":")).encode()
    return PREFIX + base64.b64encode(zlib.compress(raw, 9)).decode()


def decode(token: str) -> dict[str, dict[str, Any]]:
    """Inverse of :func:`encode`; raises ``ValueError`` on anything else."""
    if not isinstance(token, str) or not token.startswith(PREFIX):
        raise ValueError("not a Drift Lab exercise bank")
    try:
        return json.loads(zlib.decompress(base64.b64decode(token[len(PREFIX):])))
    except Exception as exc:
        raise ValueError(f"corrupt exercise bank ({type(exc).__name__})") from None
