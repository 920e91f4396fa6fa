"""The trusted judge: nbgrader autograde steps that keep the keys out of the kernel and decide outside it.

Configured in ``nbgrader_config.py`` around nbgrader's ``Execute`` (so plain ``nbgrader autograde``
and ``driftlab grade`` grade the same way; threat model in docs/GRADING.md):

* :class:`StripKeys` (before ``Execute``) replaces the exercise bank in the notebook's first cell by
  its keyless form: the grading kernel never holds an answer, a hash of one, an expected output, a
  worked solution, a hint or a misconception text; and it moves the function exercises' hidden tests
  out of their test cells into one cell after every learner cell, which the judge removes again.
* :class:`JudgeTestCells` (after ``Execute``, in nbgrader's process) judges every exercise with the
  keys compiled from the course's instructor notebook: choice and blanks answers from the answer
  cell's text in the notebook (blanks run on their probes in a fresh interpreter, never in this
  process), function answers from the outputs the kernel reported for the cases. It then replaces
  each test cell's outputs by its verdict — a card, a result record and, unless correct, one error —
  so nothing the learner's code displayed in that cell can decide the score.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import nbformat
from nbformat.v4 import new_code_cell, new_output
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float

from driftlab.exercises import bank
from driftlab.exercises.blanks import strip_solution_marks
from driftlab.exercises.cards import render_html, render_text, result_record
from driftlab.exercises.cells import answer_cells, body as answer_body
from driftlab.exercises.entries import (CORRECT, INCORRECT, UNANSWERED, BlanksEntry, ChoiceEntry, Entry,
                                        FunctionEntry, Verdict)
from driftlab.exercises.probing import Outcome
from driftlab.protocol import (BANK_ARG, BEGIN_HIDDEN, HIDDEN_TESTS_CELL, OUTPUTS_MIME, RESULT_MIME, TEST_SUFFIX,
                               exercise_of)
from grader.build.hidden_tests import defer
from grader.duplicates import keep_lowest_copies
from grader.exercises.source import compile_notebook
from grader.sandbox import LimitExceeded, Sandbox
from grader.sandbox.streams import run_bounded
from grader.sandbox.messages import MAX_DEPTH, too_deep

RUNNER_OUTPUT = 4 << 20  # bytes of the blanks runner's report read at most (it is a few KB)
GENERIC = {"unknown", "raised-exception", "wrong-type", "timeout", "check-error", "not-run", "syntax-error"}
_KEYS: dict[tuple[str, str], dict[str, Entry]] = {}


def course_keys(source: Path) -> dict[str, Entry]:
    """The exercises of an instructor notebook with every key and hidden case (cached by content)."""
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    key = (str(source), sha)
    if key not in _KEYS:
        _KEYS[key] = compile_notebook(nbformat.read(source, as_version=4), hidden=True)
    return _KEYS[key]


def strip_bank(source: str) -> str:
    """A first cell's source with the bank in ``start(…, bank="…")`` made keyless."""
    match = BANK_ARG.search(source)
    if match is None:
        return source
    keyless = bank.encode({k: e.without_keys() for k, e in bank.decode(match.group("token")).items()})
    return source[:match.start("token")] + keyless + source[match.end("token"):]


class StripKeys(NbGraderPreprocessor):
    """Before execution: the notebook's exercise bank loses every key (the kernel gets prompts only)."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        for cell in nb.cells:
            if cell.cell_type == "code" and BANK_ARG.search(cell.source):
                try:
                    cell.source = strip_bank(cell.source)
                except Exception:  # noqa: BLE001 - an unreadable bank: the kernel gets none
                    cell.source = BANK_ARG.sub('bank=""', cell.source)
        defer_hidden_tests(nb)
        return nb, resources


def defer_hidden_tests(nb: Any) -> None:
    """Move every test cell's hidden region into one cell appended after every learner cell (marked).

    The kernel meets the hidden cases only when no learner cell is left to run: whatever it does with
    them lands in that last cell, which the judge reads and removes before anything is saved. Each test
    cell keeps a call that holds the function as defined there (:func:`grader.build.hidden_tests.defer`).
    """
    regions: list[str] = []
    for cell in nb.cells:
        cell.setdefault("metadata", {}).pop(HIDDEN_TESTS_CELL, None)  # only the cell appended here is marked
        if cell.cell_type == "code" and utils.is_grade(cell) and BEGIN_HIDDEN in cell.source:
            cell.source, moved = defer(cell.source)
            regions += moved
    if regions:
        nb.cells.append(new_code_cell("\n".join(regions), metadata={HIDDEN_TESTS_CELL: True}))


def take_hidden_tests_cell(nb: Any) -> Any | None:
    """Remove and return the cell :func:`defer_hidden_tests` appended (the last, if marked), else None."""
    if nb.cells and nb.cells[-1].get("metadata", {}).get(HIDDEN_TESTS_CELL):
        return nb.cells.pop()
    return None


class KeepLowestCopy(NbGraderPreprocessor):
    """Sanitize step in place of nbgrader's ``DeduplicateIds``: of copied nbgrader cells the lowest counts
    (:func:`grader.duplicates.keep_lowest_copies`; ``DeduplicateIds`` leaves metadata nbgrader 0.9.6 crashes on)."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        for grade_id in keep_lowest_copies(nb):
            self.log.warning("Cell with id '%s' exists multiple times: the lowest copy is graded", grade_id)
        return nb, resources


def answer_text(cells: list[Any], exercise: str) -> str | None:
    """The learner's answer to ``exercise`` as written, or None when the notebook has no answer cell.

    The answer cell is the lowest cell anywhere in the notebook that carries the exercise's grade id or
    starts with ``%%answer exercise`` (:mod:`driftlab.exercises.cells`, the rule the kernel's check
    follows too); its ``%%answer`` line, if still there, is not part of the answer.
    """
    found = answer_cells(cells, exercise)
    return strip_solution_marks(answer_body(cells[found[-1]])) if found else None


def run_snippets(snippets: list[dict[str, Any]], timeout: float, sandbox: Sandbox,
                 limit: int = RUNNER_OUTPUT) -> list[list[Outcome]] | None:
    """Run blanks snippets on their probes in a fresh sandboxed interpreter (``driftlab.exercises.runner``).

    None when it could not report (timeout, crash, more than ``limit`` bytes of output, a report that is not
    one list of outcomes per snippet and probe); raises :class:`LimitExceeded` when the snippets hit a limit of
    the sandbox. Its stdin is a pipe written then closed, its stdout and stderr pipes read with a bound.
    """
    if not snippets:
        return []
    argv = [sys.executable, "-s", "-m", "driftlab.exercises.runner"]
    data = json.dumps(snippets).encode()
    if sandbox.active():
        ran, breach = sandbox.run(argv, data, timeout, limit)
        if breach:
            raise LimitExceeded(f"{breach} (in the fill-in-the-blank runner)")
    else:
        with tempfile.TemporaryDirectory(prefix="driftlab-judge-") as scratch:
            # A fresh interpreter with a minimal environment (this process's is the instructor's).
            env = {"PATH": os.environ.get("PATH", ""), "HOME": scratch, "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
                   **{k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}}
            ran = run_bounded(argv, data, timeout, limit, cwd=scratch, env=env, start_new_session=True)
    if ran.returncode != 0 or ran.overflowed:
        return None
    try:
        raw = json.loads(ran.stdout)
        if not isinstance(raw, list) or len(raw) != len(snippets):
            return None
        found = []
        for snippet, outcomes in zip(snippets, raw):
            if not isinstance(outcomes, list) or len(outcomes) != len(snippet["probes"]):
                return None
            found.append([Outcome(**o) for o in outcomes])
        return found
    except (ValueError, TypeError, RecursionError):
        return None


def _outputs_record(cell: Any, exercise: str) -> dict[str, Any] | None:
    """The kernel's report of a function's outputs in this test cell: None when there is none, a record
    with state ``unreadable`` when it cannot be read (nested too deep, not JSON) or ``conflicting`` when
    the cell reported different outputs more than once."""
    found: list[dict[str, Any]] = []
    for output in cell.get("outputs", []) if isinstance(cell, dict) else []:
        data = output.get("data", {}) if isinstance(output, dict) else {}
        if not isinstance(data, dict) or OUTPUTS_MIME not in data:
            continue
        try:
            record = data[OUTPUTS_MIME]
            record = json.loads(record) if isinstance(record, str) else dict(record)
            if too_deep(record, MAX_DEPTH):
                raise RecursionError
        except (TypeError, ValueError, RecursionError):
            found.append({"exercise": exercise, "state": "unreadable"})
            continue
        if isinstance(record, dict) and record.get("exercise") == exercise:
            found.append(record)
    if not found:
        return None
    return found[0] if all(r == found[0] for r in found) else {"exercise": exercise, "state": "conflicting"}


def _outcomes(raw: Any) -> list[Outcome] | None:
    """A report's outcomes as :class:`Outcome` objects; None when any one is not of the reported shape."""
    if not isinstance(raw, list):
        return None
    outcomes = []
    for o in raw:
        if not isinstance(o, dict) or too_deep(o.get("value"), MAX_DEPTH):
            return None
        error, not_implemented = o.get("error"), o.get("not_implemented", False)
        if not isinstance(error, (str, type(None))) or not isinstance(not_implemented, bool):
            return None
        outcomes.append(Outcome(o.get("value"), None if error is None else error[:300], not_implemented))
    return outcomes


def judge_function(entry: FunctionEntry, record: dict[str, Any] | None) -> Verdict:
    """The verdict on what the kernel reported for a function answer (a claim, checked against keys).

    Whatever the report holds, the answer is right only when its outcomes are the right ones; a report
    that cannot be read makes the exercise not right, with a reason, and never raises.
    """
    if not isinstance(record, dict):
        return entry.verdict(INCORRECT, "not-run", "The autograder's test of this function did not run to the end.")
    state = record.get("state")
    if state == "missing":
        return entry.verdict(UNANSWERED, None, f"Not answered: `{entry.name}` is not defined.")
    if state == "not-callable":
        return entry.verdict(INCORRECT, "wrong-type", f"`{entry.name}` should be a function.")
    if state == "conflicting":
        return entry.verdict(INCORRECT, "check-error", "The autograder's test of this function reported different "
                                                       "outputs more than once, so none of them is taken as right.")
    outcomes = _outcomes(record.get("outcomes"))
    if state != "ran" or outcomes is None:
        return entry.verdict(INCORRECT, "check-error", "The autograder could not read what the test of this "
                                                       "function reported (malformed, or nested too deep).")
    return _graded(_safely(entry, lambda: entry.judge(outcomes)))


def _safely(entry: Entry, judge: Callable[[], Verdict]) -> Verdict:
    """``judge()``, or — when judging raises on what the submission produced — a not-right verdict saying so."""
    try:
        return judge()
    except Exception as exc:  # noqa: BLE001 - a bad report costs this exercise, never the notebook
        return entry.verdict(INCORRECT, "check-error",
                             f"The autograder could not judge this answer ({type(exc).__name__}); it is not counted as right.")


def verdict_outputs(entry: Entry, verdict: Verdict, flags: list[str]) -> list[Any]:
    """What the judge writes into a test cell: the card (with the worked solution, for feedback), the
    result record reports read, and — unless the answer is right — one error, so nbgrader gives 0."""
    record = {**result_record(entry, verdict, attempt=0), "judge": True, "flags": flags}
    card = render_html(entry, verdict, attempts_left=None, show_solution=True, hints=0)
    outputs = [new_output("display_data", data={"text/html": card, "text/plain": render_text(entry, verdict),
                                                RESULT_MIME: record})]
    if verdict.status != CORRECT:
        if verdict.status == UNANSWERED:
            reason = "not answered"
        elif verdict.misconception in GENERIC or not verdict.misconception:
            reason = verdict.message
        else:
            reason = f"{verdict.misconception}: {verdict.message}"
        outputs.append(new_output("error", ename="NotCorrect", evalue=f"{entry.id}: {reason}",
                                  traceback=[f"{entry.id}: {reason}"]))
    return outputs


def _graded(verdict: Verdict) -> Verdict:
    """At grading time an answer that cannot be read is simply not right (0 points, same message)."""
    if verdict.status in (CORRECT, INCORRECT, UNANSWERED):
        return verdict
    return Verdict(verdict.exercise, INCORRECT, verdict.misconception, verdict.message, verdict.detail)


def _claims(cell: Any) -> list[str]:
    """Signs that the learner's code tried to decide this cell itself (flagged for the instructor)."""
    flags = []
    outputs = [o for o in cell.get("outputs", []) if isinstance(o, dict)]
    if any(o.get("output_type") == "execute_result" for o in outputs):
        flags.append("the test cell showed a value of its own (nbgrader's partial-credit rule); the judge replaced it")
    if sum(isinstance(o.get("data"), dict) and OUTPUTS_MIME in o["data"] for o in outputs) > 1:
        flags.append("the test cell reported outputs more than once")
    return flags


class JudgeTestCells(NbGraderPreprocessor):
    """After execution: judge every exercise outside the kernel and set each test cell's outputs."""

    snippet_timeout = Float(120.0, help="Seconds the fresh interpreter may take for all blanks of a notebook").tag(config=True)

    def _source(self, resources: dict) -> Path:
        info = resources.get("nbgrader", {})
        course = CourseDirectory(config=self.config)
        return Path(course.root) / course.source_directory / info["assignment"] / f"{info['notebook']}.ipynb"

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        keys = course_keys(self._source(resources))
        hidden_tests = take_hidden_tests_cell(nb)  # the kernel's reports of function outputs; never saved
        tests = [(i, exercise_of(c.metadata.get("nbgrader", {}).get("grade_id", ""), TEST_SUFFIX))
                 for i, c in enumerate(nb.cells) if c.cell_type == "code" and utils.is_grade(c)]
        tests = [(i, ex) for i, ex in tests if ex in keys]
        verdicts: dict[int, Verdict] = {}
        pending: list[tuple[int, BlanksEntry, dict[int, str] | None]] = []
        snippets: list[dict[str, Any]] = []
        for index, exercise in tests:
            entry = keys[exercise]
            if isinstance(entry, FunctionEntry):
                verdicts[index] = judge_function(entry, _outputs_record(hidden_tests, exercise))
                continue
            text = answer_text(nb.cells, exercise)
            if text is None:
                verdicts[index] = entry.verdict(UNANSWERED, "no-answer-cell", f"Not answered: the notebook has no "
                                                f"answer cell for {exercise} (deleted?).")
            elif isinstance(entry, ChoiceEntry):  # reading a letter runs no learner code: judge it here
                verdicts[index] = _graded(_safely(entry, lambda: entry.assess(text)))
            else:
                code, fills, early = entry.read(text)
                if early is not None:
                    verdicts[index] = _graded(early)
                else:
                    pending.append((index, entry, fills))
                    snippets.append({"code": code, "probes": list(entry.probes), "observe": list(entry.observe),
                                     "setup": entry.setup, "timeout": entry.timeout})
        ran = run_snippets(snippets, self.snippet_timeout, Sandbox(parent=self)) if snippets else []
        for n, (index, entry, fills) in enumerate(pending):
            if ran is None or n >= len(ran):
                verdicts[index] = entry.verdict(INCORRECT, "not-run", "Your code could not be run on the test inputs.")
            else:
                verdicts[index] = _safely(entry, lambda: entry.judge(fills, ran[n]))
        for index, exercise in tests:
            cell, entry, verdict = nb.cells[index], keys[exercise], verdicts[index]
            flags = _claims(cell)
            for flag in flags:
                self.log.warning("%s: %s", exercise, flag)
            cell.outputs = verdict_outputs(entry, verdict, flags)
        return nb, resources
