"""Grades in the file an LMS imports into its gradebook: ``--lms canvas`` or ``--lms moodle``.

Canvas (Gradebook → Import, "Import grades in the Gradebook"): a CSV whose first columns are
``Student, ID, SIS User ID, SIS Login ID, Section`` — Canvas matches a row by ``ID`` (the Canvas user
id, read from the download's file name ``name[_LATE]_USERID_SUBMISSIONID_file``), the other
identity columns may stay empty — then one column per assignment, headed ``Name (ASSIGNMENT_ID)``
to update an existing assignment or by a new name to create one. ``--lms-column MODULE=HEADER``
gives that header (e.g. ``08_test="Final test (4711)"``); the default is the module id.

Moodle: the number in a submission download's folder name (``Full Name_ID_assignsubmission_file_``)
is the learner's *participant* id of that assignment, which is what the assignment's grading
worksheet ("Upload grading worksheet", offline grading) identifies a learner by, as ``Identifier`` =
``Participant ID``. The file has ``Identifier, Full name``, then the grade: one ``Grade`` column when
the batch holds one module (the worksheet's own layout), else one column per module (headed by the
module id or ``--lms-column``) to map in Moodle's "Import grades from CSV".

Never a silent 0: a learner+module that could not be graded is left empty in the import file and
listed in ``lms_not_graded.csv`` with the reason, as is every learner the LMS cannot identify (a
submission that did not come from that LMS's download).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .files import safe_row, write_atomic
from .results import GRADED, Row

CANVAS_FILE = "canvas_import.csv"
MOODLE_FILE = "moodle_import.csv"
NOT_GRADED_FILE = "lms_not_graded.csv"
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_IDENTITY = ["Identifier", "Full name"]
PATTERN = {"canvas": "canvas", "moodle": "moodle"}


def _score(row: Row) -> str:
    return f"{row.score:g}" if row.status == GRADED and row.score is not None else ""


def export(rows: list[Row], out: Path, lms: str, headers: dict[str, str] | None = None) -> tuple[Path, Path]:
    """Write the LMS's import file and ``lms_not_graded.csv``; returns both paths."""
    headers = dict(headers or {})
    modules = sorted({r.module for r in rows})
    learners: dict[str, dict] = {}
    problems: list[list[str]] = []
    for row in sorted(rows, key=lambda r: (r.student_id, r.module)):
        lms_id = row.lms_id
        if row.pattern != PATTERN[lms] or not lms_id:
            problems.append([row.student_id, row.name, lms_id, row.module, _score(row),
                             f"not from a {lms.capitalize()} download (pattern {row.pattern or 'unknown'}): "
                             f"no {lms.capitalize()} id to import it under"])
            continue
        entry = learners.setdefault(lms_id, {"name": row.name, "scores": {}})
        entry["name"] = entry["name"] or row.name
        entry["scores"][row.module] = _score(row)
        if row.status != GRADED:
            problems.append([row.student_id, row.name, lms_id, row.module, "",
                             f"could not grade: {row.reason} (left empty in the import file)"])
    text = io.StringIO()
    writer = csv.writer(text)
    if lms == "canvas":
        columns = [headers.get(m, m) for m in modules]
        writer.writerow(CANVAS_IDENTITY + columns)
        for lms_id, entry in sorted(learners.items(), key=lambda kv: (kv[1]["name"], kv[0])):
            writer.writerow(safe_row([entry["name"], lms_id, "", "", ""] + [entry["scores"].get(m, "") for m in modules]))
        target = out / CANVAS_FILE
    else:
        columns = ["Grade"] if len(modules) == 1 and not headers else [headers.get(m, m) for m in modules]
        writer.writerow(MOODLE_IDENTITY + columns)
        for lms_id, entry in sorted(learners.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
            writer.writerow(safe_row([f"Participant {lms_id}", entry["name"]] + [entry["scores"].get(m, "") for m in modules]))
        target = out / MOODLE_FILE
    write_atomic(target, text.getvalue())
    listing = io.StringIO()
    w = csv.writer(listing)
    w.writerow(["student_id", "name", "lms_id", "module", "score", "why not imported"])
    w.writerows(safe_row(p) for p in problems)
    write_atomic(out / NOT_GRADED_FILE, listing.getvalue())
    return target, out / NOT_GRADED_FILE


def parse_headers(values: list[str] | None, modules: list[str]) -> dict[str, str]:
    """``--lms-column MODULE=HEADER`` (repeatable) as a dict; raises ValueError naming a bad one."""
    headers = {}
    for value in values or []:
        module, sep, header = value.partition("=")
        if not sep or not header.strip():
            raise ValueError(f"--lms-column {value!r}: write MODULE=HEADER, e.g. 08_test='Final test (4711)'")
        if module not in modules:
            raise ValueError(f"--lms-column {value!r}: {module!r} is not a module of this course")
        headers[module] = header.strip()
    return headers
