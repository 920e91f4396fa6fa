"""Every string and record that crosses a process or file boundary, defined once.

The build writes these into notebooks, the learner's kernel prints them, nbgrader's process and the
batch grader read them back. Changing one here changes both ends.
"""
from __future__ import annotations

import re

# Cell magics of the one exercise format.
EXERCISE_MAGIC = "%%exercise"
ANSWER_MAGIC = "%%answer"

# MIME types of the records a kernel leaves in a notebook's outputs.
RESULT_MIME = "application/vnd.driftlab.result+json"  # a verdict (the kernel's check, or the judge's)
OUTPUTS_MIME = "application/vnd.driftlab.outputs+json"  # what a function answer returned on the cases

# nbgrader grade ids of an exercise's cells: "<exercise id><suffix>".
ANSWER_SUFFIX = "-answer"
TEST_SUFFIX = "-test"
PROMPT_SUFFIX = "-prompt"
PRACTICE_SUFFIX = "-practice"

# nbgrader's hidden-test delimiters (nbgrader writes and removes the region; we only append it).
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

# A function exercise's hidden test: the kernel runs the learner's function on the cases in the token.
RUN_NAME = "_dl_run"
RUN_CALL = re.compile(RUN_NAME + r'\("(?P<token>[^"]+)"\)')
# At autograde the hidden tests run in one cell appended after every learner cell (marked in its metadata,
# removed by the judge); each function's test cell keeps only this call: it holds the function as defined there.
KEEP_NAME = "_dl_keep"
HIDDEN_TESTS_CELL = "driftlab_hidden_tests"

# The first code cell's call that carries the module's bank.
START_CALL = re.compile(r"""start\(\s*(["'])(?P<module>[\w-]+)\1\s*(?:,\s*bank\s*=\s*(["']).*?\3)?""")
BANK_ARG = re.compile(r"""bank\s*=\s*(["'])(?P<token>dl1:[^"']*)\1""")
# The line an instructor notebook's first cell loads the instructor's extension with (dropped in the release).
INSTRUCTOR_EXTENSION = "%load_ext grader.exercises.instructor"

# The part of a hidden test's code that never appears in feedback (checked before it is handed out).
HIDDEN_MARKERS = (BEGIN_HIDDEN, END_HIDDEN, RUN_NAME)


def exercise_of(grade_id: str, suffix: str) -> str | None:
    """The exercise id of a grade id with ``suffix``, else None."""
    return grade_id[: -len(suffix)] if grade_id.endswith(suffix) else None


def run_call(token: str) -> str:
    """The hidden test's call for a function exercise."""
    return f'{RUN_NAME}("{token}")'


def keep_call(exercise: str, name: str) -> str:
    """The line a function exercise's test cell runs at autograde in place of its hidden test."""
    return f'from driftlab.exercises.verify import keep as {KEEP_NAME}\n{KEEP_NAME}({exercise!r}, {name!r})'


def magic_body(source: str, magic: str) -> tuple[str, str] | None:
    """``(argument, body)`` of a cell that starts with ``magic``, else None."""
    first, _, body = source.lstrip("\ufeff\u200b \t\r\n").partition("\n")  # a pasted BOM or zero-width space first
    if not first.startswith(magic + " ") and first.strip() != magic:
        return None
    return first[len(magic):].strip(), body
