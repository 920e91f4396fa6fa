"""Output files written whole or not at all (a reader never sees half a grades.csv), and CSV cells that a
spreadsheet will not run as formulas."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path`` (atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a CSV cell no spreadsheet runs: text a learner controls (a name, a file name) that starts like
    a formula gets a leading apostrophe; numbers, negative ones included, are left as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def safe_row(values: Any) -> Any:
    """A CSV row (a list or a dict of cells) with every cell made :func:`spreadsheet_safe`."""
    if isinstance(values, dict):
        return {key: spreadsheet_safe(v) for key, v in values.items()}
    return [spreadsheet_safe(v) for v in values]
