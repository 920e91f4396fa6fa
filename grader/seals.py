"""Proof, checked outside the learner's kernel, that each hidden test ran and judged this notebook.

Hidden tests run in the learner's kernel, after the learner's own code. Code that rewrites later
cells (an IPython input transformer, a patched ``run_cell``) could make a test cell do nothing —
no error, full points — and code that appends to IPython's input history could make a hidden test
judge an answer that is not in the notebook. Two small nbgrader preprocessors, configured in
``nbgrader_config.py`` around ``Execute`` in ``Autograde.autograde_preprocessors``, close both:

* :class:`SealHiddenTests` (before ``Execute``) gives each hidden test a fresh random seal for this
  run; a passing hidden test publishes a record with the seal and a hash of the answer it judged;
* :class:`CheckSeals` (after ``Execute``, before ``SaveAutoGrades``) fails every test cell that has
  no error yet lacks its record, or whose judged answer is not the notebook's own ``%%answer`` cell,
  and removes the records so they appear neither in the autograded notebook nor in feedback.

Code that reads the seal out of the cell being rewritten and forges the record could still pass;
that needs a targeted attack on this module, and is where a judge in a separate process would go.
"""
from __future__ import annotations

import secrets
from typing import Any

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from driftlab.exercises import bank
from driftlab.protocol import ANSWER_MAGIC, SEAL_MIME, VERIFY_CALL, answer_digest, magic_body, verify_call

RESOURCE = "driftlab_seals"


def notebook_answer(cells: list[Any], before: int, exercise: str) -> str | None:
    """The body of the last ``%%answer exercise`` cell above cell ``before`` (what ran last)."""
    for cell in reversed(cells[:before]):
        if cell.cell_type != "code":
            continue
        parsed = magic_body(cell.source, ANSWER_MAGIC)
        if parsed and parsed[0] == exercise:
            return parsed[1]
    return None


class SealHiddenTests(NbGraderPreprocessor):
    """Pass a fresh seal to every hidden test of this run (``_dl_verify(token, seal=...)``)."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        seals: dict[int, dict[str, str]] = {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not utils.is_grade(cell):
                continue
            match = VERIFY_CALL.search(cell.source)
            if match is None:
                continue
            seal = secrets.token_hex(16)
            cell.source = cell.source[:match.start()] + verify_call(match.group("token"), seal) + cell.source[match.end():]
            seals[index] = {"seal": seal, "token": match.group("token")}
        resources[RESOURCE] = seals
        return nb, resources


class CheckSeals(NbGraderPreprocessor):
    """Fail a test cell whose hidden test left no valid record; drop every record afterwards."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        seals = resources.get(RESOURCE, {})
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            records = [o for o in cell.get("outputs", []) if SEAL_MIME in o.get("data", {})]
            cell.outputs = [o for o in cell.get("outputs", []) if SEAL_MIME not in o.get("data", {})]
            expected = seals.get(index)
            if expected is None or any(o.output_type == "error" for o in cell.outputs):
                continue
            entry = next(iter(bank.decode(expected["token"]).values()))
            problem = self._problem(nb.cells, index, entry, expected["seal"], records)
            if problem:
                self.log.warning("%s: %s", entry.id, problem)
                cell.outputs.append(new_output("error", ename="AssertionError", evalue=f"{entry.id}: {problem}",
                                               traceback=[f"AssertionError: {entry.id}: {problem}"]))
        return nb, resources

    @staticmethod
    def _problem(cells: list[Any], index: int, entry: Any, seal: str, records: list[Any]) -> str:
        record = next((dict(o["data"][SEAL_MIME]) for o in records
                       if dict(o["data"][SEAL_MIME]).get("seal") == seal), None)
        if record is None or record.get("exercise") != entry.id:
            return ("the autograder's test did not run to the end (was the notebook's grading "
                    "machinery changed?)")
        if entry.answered_in_cell:
            expected = answer_digest(notebook_answer(cells, index, entry.id))
            if record.get("answer") != expected:
                return "the answer that was tested is not the %%answer cell in this notebook"
        return ""
