"""The trusted judge: nbgrader autograde steps that keep the keys out of the kernel and decide outside it.

Configured in ``nbgrader_config.py`` around nbgrader's ``Execute`` (so plain ``nbgrader autograde``
and ``driftlab grade`` grade the same way; threat model in docs/GRADING.md):

* :class:`StripKeys` (before ``Execute``) replaces the exercise bank in the notebook's first cell by
  its keyless form: the grading kernel never holds an answer, a hash of one, an expected output, a
  worked solution, a hint or a misconception text.
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
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float

from driftlab.exercises import bank
from driftlab.exercises.blanks import strip_solution_marks
from driftlab.exercises.cards import render_html, render_text, result_record
from driftlab.exercises.entries import (CORRECT, INCORRECT, UNANSWERED, BlanksEntry, ChoiceEntry, Entry,
                                        FunctionEntry, Verdict)
from driftlab.exercises.probing import Outcome
from driftlab.protocol import (ANSWER_MAGIC, ANSWER_SUFFIX, BANK_ARG, OUTPUTS_MIME, RESULT_MIME, TEST_SUFFIX,
                               exercise_of, magic_body)
from grader.exercises.source import compile_notebook
from grader.sandbox import LimitExceeded, Sandbox

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
        return nb, resources


def answer_text(cells: list[Any], before: int, exercise: str) -> str | None:
    """The learner's answer to ``exercise``: the last answer cell above the test cell, as written.

    The answer cell is the one nbgrader tracks by its grade id (or, failing that, a cell that starts
    with ``%%answer exercise``); its ``%%answer`` line, if still there, is not part of the answer.
    """
    chosen = None
    for cell in cells[:before]:
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        parsed = magic_body(cell.source, ANSWER_MAGIC)
        if grade_id == exercise + ANSWER_SUFFIX or (parsed and parsed[0] == exercise):
            chosen = cell
    if chosen is None:
        return None
    parsed = magic_body(chosen.source, ANSWER_MAGIC)
    return strip_solution_marks(parsed[1] if parsed else chosen.source)


def run_snippets(snippets: list[dict[str, Any]], timeout: float, sandbox: Sandbox) -> list[list[Outcome]] | None:
    """Run blanks snippets on their probes in a fresh sandboxed interpreter (``driftlab.exercises.runner``).

    None when it could not report (timeout, crash); raises :class:`LimitExceeded` when the snippets hit
    a limit of the sandbox.
    """
    if not snippets:
        return []
    argv = [sys.executable, "-s", "-m", "driftlab.exercises.runner"]
    if sandbox.active():
        proc, breach = sandbox.run(argv, json.dumps(snippets), timeout)
        if breach:
            raise LimitExceeded(f"{breach} (in the fill-in-the-blank runner)")
    else:
        with tempfile.TemporaryDirectory(prefix="driftlab-judge-") as scratch:
            # A fresh interpreter with a minimal environment (this process's is the instructor's).
            env = {"PATH": os.environ.get("PATH", ""), "HOME": scratch, "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
                   **{k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}}
            try:
                proc = subprocess.run(argv, cwd=scratch, env=env, input=json.dumps(snippets), capture_output=True,
                                      text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                proc = None
    try:
        raw = json.loads(proc.stdout) if proc is not None else None
        return None if raw is None else [[Outcome(**o) for o in outcomes] for outcomes in raw]
    except (ValueError, TypeError):
        return None


def _outputs_record(cell: Any, exercise: str) -> dict[str, Any] | None:
    """The kernel's report of a function's outputs in this test cell (anything malformed: None)."""
    for output in cell.get("outputs", []):
        data = output.get("data", {}) if isinstance(output, dict) else {}
        if not isinstance(data, dict) or OUTPUTS_MIME not in data:
            continue
        try:
            record = data[OUTPUTS_MIME]
            record = json.loads(record) if isinstance(record, str) else dict(record)
        except (TypeError, ValueError):
            continue
        if isinstance(record, dict) and record.get("exercise") == exercise:
            return record
    return None


def judge_function(entry: FunctionEntry, record: dict[str, Any] | None) -> Verdict:
    """The verdict on what the kernel reported for a function answer (a claim, checked against keys)."""
    if record is None:
        return entry.verdict(INCORRECT, "not-run", "The autograder's test of this function did not run to the end.")
    state = record.get("state")
    if state == "missing":
        return entry.verdict(UNANSWERED, None, f"Not answered: `{entry.name}` is not defined.")
    if state == "not-callable":
        return entry.verdict(INCORRECT, "wrong-type", f"`{entry.name}` should be a function.")
    try:
        outcomes = [Outcome(**{k: o[k] for k in ("value", "error", "not_implemented") if k in o})
                    for o in record.get("outcomes", [])]
        if any(not isinstance(o.error, (str, type(None))) or not isinstance(o.not_implemented, bool) for o in outcomes):
            outcomes = []
    except (TypeError, AttributeError, KeyError):
        outcomes = []
    return entry.judge(outcomes)


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
    if any(o.get("output_type") == "execute_result" for o in cell.get("outputs", [])):
        flags.append("the test cell showed a value of its own (nbgrader's partial-credit rule); the judge replaced it")
    if sum(OUTPUTS_MIME in o.get("data", {}) for o in cell.get("outputs", [])) > 1:
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
        tests = [(i, exercise_of(c.metadata.get("nbgrader", {}).get("grade_id", ""), TEST_SUFFIX))
                 for i, c in enumerate(nb.cells) if c.cell_type == "code" and utils.is_grade(c)]
        tests = [(i, ex) for i, ex in tests if ex in keys]
        verdicts: dict[int, Verdict] = {}
        pending: list[tuple[int, BlanksEntry, dict[int, str] | None]] = []
        snippets: list[dict[str, Any]] = []
        for index, exercise in tests:
            entry = keys[exercise]
            if isinstance(entry, FunctionEntry):
                verdicts[index] = judge_function(entry, _outputs_record(nb.cells[index], exercise))
                continue
            text = answer_text(nb.cells, index, exercise)
            if text is None:
                verdicts[index] = entry.verdict(UNANSWERED, None, "Not answered: the answer cell is missing.")
            elif isinstance(entry, ChoiceEntry):  # reading a letter runs no learner code: judge it here
                verdicts[index] = _graded(entry.assess(text))
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
                verdicts[index] = entry.judge(fills, ran[n])
        for index, exercise in tests:
            cell, entry, verdict = nb.cells[index], keys[exercise], verdicts[index]
            flags = _claims(cell)
            for flag in flags:
                self.log.warning("%s: %s", exercise, flag)
            cell.outputs = verdict_outputs(entry, verdict, flags)
        return nb, resources
