"""A status for every (learner, module): graded with a score, or could not grade with the reason.

nbgrader's own export writes 0.0 for a submission it could not grade — the same as a real zero.
Here a row is ``graded`` only when nbgrader ran the notebook and every test cell has an automatic
score (``auto_score`` not None, ``needs_manual_grade`` False); otherwise it is ``could not grade``
with the reason (corrupt file, kernel died, missing notebook …) and an empty score.

Per exercise, the row also keeps the verdict and the misconception, read from the result records
the judge (:mod:`grader.judge`) wrote into the autograded notebook's test cells — only there: the
judge replaces every test cell's outputs, so nothing the learner's kernel displayed can pose as a
verdict. The points always come from nbgrader's gradebook; the judge's flags (a test cell that
tried to decide its own result) go into the notes.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from driftlab.protocol import RESULT_MIME, TEST_SUFFIX, exercise_of

GRADED = "graded"
NOT_GRADED = "could not grade"
COLUMNS = ["student_id", "module", "score", "max_score", "status", "reason", "notes", "source", "pattern",
           "feedback", "name", "late"]
EXERCISE_COLUMNS = ["student_id", "name", "module", "exercise", "score", "max_score", "status", "misconception",
                    "misconception_text"]


@dataclass
class Row:
    """One line of grades.csv, plus per-exercise detail for the report."""

    student_id: str
    module: str
    status: str
    score: float | None = None
    max_score: float | None = None
    reason: str = ""
    notes: str = ""
    source: str = ""
    pattern: str = ""
    feedback: str = ""
    name: str = ""  # the learner's name where the LMS download gave it
    late: str = ""  # yes / no where the download says (Canvas), else empty (unknown)
    lms_id: str = ""  # the LMS's id of the learner (Canvas user id, Moodle participant id)
    sha256: str = ""
    key: str = ""
    exercises: dict[str, dict[str, Any]] = field(default_factory=dict)
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)  # nbgrader's per-cell scores

    def csv(self) -> dict[str, Any]:
        out = {c: getattr(self, c) for c in COLUMNS}
        for c in ("score", "max_score"):
            out[c] = "" if out[c] is None else f"{out[c]:g}"
        return out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Row":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def explain_failure(error: str) -> str:
    """A short reason, for the instructor, from the last line of nbgrader's traceback."""
    low = error.lower()
    if "deadkernel" in low or "kernel died" in low:
        return "kernel died (the notebook crashed or ended the Python process, e.g. os._exit or out of memory)"
    if "unresponsivekernel" in low or "could not interrupt" in low:
        return "timeout: the kernel did not respond and could not be interrupted"
    if "notjsonerror" in low or "does not appear to be json" in low:  # nbformat reading the submitted file
        return "corrupt file: not valid JSON"
    if "recursionerror" in low:  # JSON elsewhere (the intake read the file) is not the file's fault: say what
        return f"nbgrader could not grade it: something in the notebook is nested too deep ({error[:200]})"
    if "nosuchkernel" in low:
        return "the notebook asks for a kernel this machine does not have"
    match = re.match(r"KeyError: '(?P<cell>[\w.-]+)'", error)
    if match:
        return (f"the notebook lacks the cell {match.group('cell')!r} (deleted, or made from an older "
                "release of this module)")
    match = re.search(r"LimitExceeded: (?P<reason>.+)", error)
    if match:  # the sandbox stopped it (grader/sandbox): the reason names the limit
        return match.group("reason")
    if error.startswith("course module could not be generated"):
        return error
    if error.startswith(("timeout:", "internal error", "worker died")):
        return error
    return f"nbgrader could not grade it: {error[:300]}"


@dataclass
class Findings:
    """What an autograded notebook says about each exercise, besides nbgrader's points."""

    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # the judge's records, by exercise
    flags: list[str] = field(default_factory=list)  # the judge's flags, "exercise: what it saw"
    timeouts: int = 0


def _record(value: Any) -> dict[str, Any] | None:
    """A MIME bundle's JSON record (a dict, or a JSON string in older notebooks), else None."""
    try:
        record = json.loads(value) if isinstance(value, str) else dict(value)
    except (TypeError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def notebook_findings(path: Path | None) -> Findings:
    """The judge's verdict records and flags (test cells only) and the timed-out cells of a notebook."""
    found = Findings()
    if path is None or not path.exists():
        return found
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        grade_id = ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id") or ""
        tested = exercise_of(grade_id, TEST_SUFFIX)
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "error" and "Timeout" in str(out.get("ename")):
                found.timeouts += 1
            data = out.get("data", {}) or {}
            record = _record(data[RESULT_MIME]) if tested and RESULT_MIME in data else None
            if record and record.get("judge") and record.get("exercise") == tested:
                found.verdicts[tested] = record
                found.flags += [f"{tested}: {flag}" for flag in record.get("flags") or []]
    return found


def exercise_detail(cells: dict[str, dict[str, Any]], findings: Findings) -> dict[str, dict[str, Any]]:
    """Per exercise: points (from the gradebook), verdict and misconception (from the judge's records)."""
    rank = {ex: i for i, ex in enumerate(findings.verdicts)}  # notebook order

    def exercise(grade_id: str) -> str:
        return exercise_of(grade_id, TEST_SUFFIX) or grade_id

    detail = {}
    for grade_id, cell in sorted(cells.items(), key=lambda item: (rank.get(exercise(item[0]), len(rank)), item[0])):
        ex = exercise(grade_id)
        score, max_score = cell["score"], cell["max_score"]
        record = findings.verdicts.get(ex, {})
        if score is not None and score >= max_score:
            status, misconception = "correct", None
        elif record.get("status") == "unanswered":  # the judge's reason, e.g. no-answer-cell (deleted?)
            status, misconception = "unanswered", record.get("misconception")
        else:
            status, misconception = "incorrect", record.get("misconception")
        detail[ex] = {"score": score, "max_score": max_score, "status": status, "misconception": misconception,
                      "from": "judge" if record else "none", "difficulty": record.get("difficulty")}
    return detail


def row_for(done: Any, submission: Any, sha: str, key: str, notes: list[str]) -> Row:
    """The grades.csv row of one submission that went through nbgrader."""
    if any(n.startswith("not sandboxed") for n in notes):  # the client said so already
        notes = notes + [n for n in getattr(done, "notes", None) or [] if not n.startswith("not sandboxed")]
    else:
        notes = notes + list(getattr(done, "notes", None) or [])
    row = Row(done.job.student, done.job.module, NOT_GRADED, source=submission.origin, pattern=submission.pattern,
              sha256=sha, key=key, notes="; ".join(notes))
    if done.error:
        row.reason = explain_failure(done.error)
        return row
    if done.cells is None:
        row.reason = "nbgrader left no record of this submission"
        return row
    row.cells = done.cells
    if not done.cells:
        row.reason = "the module has no graded cells"
        return row
    missing = sorted(g for g, c in done.cells.items() if c["score"] is None or c["needs_manual"])
    if missing:
        row.reason = "not graded automatically: " + ", ".join(missing) + " (needs manual grading)"
        return row
    if done.autograded is None:
        row.reason = "nbgrader produced no autograded notebook"
        return row
    findings = notebook_findings(done.autograded)
    row.status = GRADED
    row.score = float(sum(c["score"] for c in done.cells.values()))
    row.max_score = float(sum(c["max_score"] for c in done.cells.values()))
    row.exercises = exercise_detail(done.cells, findings)
    if findings.timeouts:
        notes = notes + [f"{findings.timeouts} cell(s) timed out"]
    if findings.flags:
        notes = notes + ["judge: " + "; ".join(findings.flags)]
    if done.feedback is not None:
        row.feedback = str(done.feedback)
    elif done.feedback_problem:
        notes = notes + [f"no feedback: {done.feedback_problem}"]
    row.notes = "; ".join(notes)
    return row


def write_csv(rows: list[Row], path: Path) -> None:
    """grades.csv, sorted by learner and module, written atomically."""
    import csv
    import io

    from .files import safe_row, write_atomic

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS)
    writer.writeheader()
    for row in sorted(rows, key=lambda r: (r.student_id, r.module)):
        writer.writerow(safe_row(row.csv()))
    write_atomic(path, text.getvalue())


def humanise(mistake_id: str) -> str:
    """A readable name for a mistake id without a message: ``union-bound`` -> ``Union bound``."""
    text = mistake_id.replace("-", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def first_sentence(message: str) -> str:
    """A misconception's message, cut after its first sentence (for tables)."""
    text = " ".join(message.split())
    match = re.search(r"(?<=[.!?])\s", text)
    return text[:match.start()] if match else text


def misconception_labels(modules: list[str], course: Path) -> dict[tuple[str, str], str]:
    """``{(module, mistake id): first sentence of its message}`` from the modules' exercise specs."""
    from grader.batch.synthetic import graded_specs

    labels: dict[tuple[str, str], str] = {}
    for module in modules:
        try:
            specs = graded_specs(module, course)
        except Exception:  # noqa: BLE001 - a module that cannot be read keeps its ids
            continue
        for spec in specs:
            for mistake in spec.mistakes:
                labels[(module, mistake.id)] = first_sentence(mistake.message)
    return labels


def label(labels: dict[tuple[str, str], str], module: str, mistake_id: str | None) -> str:
    """The readable name of a misconception (its message's first sentence, else the id humanised)."""
    if not mistake_id:
        return ""
    return labels.get((module, mistake_id)) or humanise(mistake_id)


def write_exercises_csv(rows: list[Row], path: Path, labels: dict[tuple[str, str], str] | None = None) -> None:
    """exercises.csv: one line per learner, module and exercise (long format), written atomically."""
    import csv
    import io

    from .files import safe_row, write_atomic

    labels = labels or {}
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=EXERCISE_COLUMNS)
    writer.writeheader()
    for row in sorted(rows, key=lambda r: (r.student_id, r.module)):
        for exercise, d in row.exercises.items():
            writer.writerow(safe_row({"student_id": row.student_id, "name": row.name, "module": row.module,
                             "exercise": exercise, "score": "" if d.get("score") is None else f"{d['score']:g}",
                             "max_score": f"{d.get('max_score') or 0:g}", "status": d.get("status", ""),
                             "misconception": d.get("misconception") or "",
                             "misconception_text": label(labels, row.module, d.get("misconception"))}))
    write_atomic(path, text.getvalue())
