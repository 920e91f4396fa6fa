"""Every string and record that crosses a process or file boundary, defined once.

The build writes these into notebooks, the learner's kernel prints them, nbgrader's process and the
batch grader read them back. Changing one here changes both ends.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

# Cell magics of the one exercise format.
EXERCISE_MAGIC = "%%exercise"
ANSWER_MAGIC = "%%answer"

# MIME types of the records a kernel leaves in a notebook's outputs.
RESULT_MIME = "application/vnd.driftlab.result+json"  # a check's verdict, for reports
SEAL_MIME = "application/vnd.driftlab.seal+json"  # a passing hidden test's proof (see grader.seals)
FAILURE_MIME = "application/vnd.driftlab.failure+json"  # a failing hidden test's structured reason

# nbgrader grade ids of an exercise's cells: "<exercise id><suffix>".
ANSWER_SUFFIX = "-answer"
TEST_SUFFIX = "-test"
PROMPT_SUFFIX = "-prompt"
PRACTICE_SUFFIX = "-practice"

# nbgrader's hidden-test delimiters (nbgrader writes and removes the region; we only append it).
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

# The hidden test's call, as the build writes it and the seal preprocessors rewrite it.
VERIFY_NAME = "_dl_verify"
VERIFY_CALL = re.compile(VERIFY_NAME + r'\("(?P<token>[^"]+)"(?:, seal="(?P<seal>[0-9a-f]+)")?\)')

# The first code cell's call that carries the module's bank.
START_CALL = re.compile(r"""start\(\s*(["'])(?P<module>[\w-]+)\1\s*(?:,\s*bank\s*=\s*(["']).*?\3)?""")
# The line an instructor notebook's first cell loads the instructor's extension with (dropped in the release).
INSTRUCTOR_EXTENSION = "%load_ext grader.exercises.instructor"

# The part of a hidden test's code that never appears in feedback (checked before it is handed out).
HIDDEN_MARKERS = (BEGIN_HIDDEN, END_HIDDEN, VERIFY_NAME, "_dl_sys")


def exercise_of(grade_id: str, suffix: str) -> str | None:
    """The exercise id of a grade id with ``suffix``, else None."""
    return grade_id[: -len(suffix)] if grade_id.endswith(suffix) else None


def verify_call(token: str, seal: str | None = None) -> str:
    """The hidden test's call: with a seal under autograde (grader.seals adds it)."""
    return f'{VERIFY_NAME}("{token}"' + (f', seal="{seal}"' if seal else "") + ")"


def magic_body(source: str, magic: str) -> tuple[str, str] | None:
    """``(argument, body)`` of a cell that starts with ``magic``, else None."""
    first, _, body = source.lstrip().partition("\n")
    if not first.startswith(magic + " ") and first.strip() != magic:
        return None
    return first[len(magic):].strip(), body


def answer_digest(source: str | None) -> str | None:
    """The hash a seal carries of the answer a hidden test judged (solution marks stripped)."""
    if source is None:
        return None
    from driftlab.exercises.blanks import strip_solution_marks

    return hashlib.sha256(strip_solution_marks(source).strip().encode()).hexdigest()


def failure_record(exercise: str, status: str, misconception: str | None, message: str) -> dict[str, Any]:
    """What a failing hidden test publishes before it raises: read by the batch grader's reports."""
    return {"exercise": exercise, "status": status, "misconception": misconception, "message": message}
