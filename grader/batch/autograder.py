"""A long-lived nbgrader process that autogrades one submission at a time, on request.

    python -m grader.batch.autograder COURSE OUT [--timeout S] [--no-feedback] [--sandbox auto|bwrap|off]

The Dask worker (:mod:`grader.batch.engine`) starts one of these per task slot. Each reads one JSON
request per line on stdin — ``{"student", "module", "notebook"}`` — and for it

1. places the notebook as ``COURSE/submitted/STUDENT/MODULE/NAME.ipynb``,
2. runs nbgrader's own autograde converter for that one student (``NbGraderAPI.autograde``, what
   ``nbgrader autograde MODULE --student S --create --force`` runs, with the course's config),
3. reads the student's per-cell scores back from this worker's gradebook,
4. runs nbgrader's ``generate_feedback`` for that student and keeps the HTML if it holds no
   hidden test, and copies the autograded notebook to OUT,

then writes one JSON reply line to stdout. Running nbgrader in-process saves the ~2.5 s start of a
Python process that imports nbgrader for every ``nbgrader autograde`` / ``generate_feedback``
call, and asking per submission lets the parent balance the workers to the last notebook.
Everything else on stdout (nbgrader, kernels' stray prints) is sent to stderr, the worker's log.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from grader import nbgrader as R
from grader.sandbox.output import take_notes
from . import feedback as fb

LOG_LIMIT = 64 << 10  # characters of nbgrader's log per submission in a reply (its end: where a failure is)
NOTES_SHOWN = 3  # output notes of one submission spelled out in its grades row


def output_note(notes: list[str]) -> str | None:
    """One grades-row note for the output the grader did not keep (None: it kept everything)."""
    if not notes:
        return None
    more = f"; and {len(notes) - NOTES_SHOWN} more" if len(notes) > NOTES_SHOWN else ""
    return "output truncated: " + "; ".join(notes[:NOTES_SHOWN]) + more


def feedback_exporter() -> type:
    """nbconvert's ``HTMLExporter`` sharing one Jinja environment across instances.

    nbgrader builds a new exporter for every ``generate_feedback`` call, and each compiles the
    feedback templates again (~0.4 s). In this long-lived process the calls are sequential and the
    configuration never changes, so one environment (with its compiled-template cache) serves all.
    The filters bound per notebook (``highlight_code``, ``filter_data_type``) are re-registered by
    every ``from_notebook_node`` call, so the HTML is the same as nbgrader's.
    """
    from nbconvert.exporters import HTMLExporter

    class ReusedTemplatesHTMLExporter(HTMLExporter):
        _shared: dict = {}

        def _create_environment(self):
            key = (tuple(self.template_paths), self.template_name, self.template_file)
            if key not in self._shared:
                self._shared[key] = super()._create_environment()
            return self._shared[key]

    return ReusedTemplatesHTMLExporter


def load_api(course: Path, timeout: int | None, sandbox: str = "auto"):
    """An ``NbGraderAPI`` configured exactly as the ``nbgrader`` command is in ``course``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader

    os.chdir(course)  # nbgrader loads nbgrader_config.py from the working directory, as on the command line
    app = NbGrader()
    app.load_config_file()
    config = app.config
    config.CourseDirectory.root = str(course)
    if timeout:
        config.Execute.timeout = int(timeout)
    config.Sandbox.mode = sandbox
    config.GenerateFeedback.exporter_class = feedback_exporter()
    return NbGraderAPI(config=config)


def grade_one(api: Any, course: Path, out: Path, request: dict[str, str], feedback: bool) -> dict[str, Any]:
    """Autograde (and give feedback on) one submission; the reply for the parent."""
    from .workers import notebook_name, parse_failures

    student, module = request["student"], request["module"]
    name = notebook_name(course, module)
    R.submit(course, student, module, Path(request["notebook"]), name=name)
    started = time.monotonic()
    take_notes()  # nothing of an earlier submission
    result = api.autograde(module, student, force=True, create=True)
    log = result.get("log") or ""
    reply: dict[str, Any] = {"student": student, "module": module, "log": log[-LOG_LIMIT:],
                             "seconds": round(time.monotonic() - started, 2), "notes": [],
                             "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10}
    note = output_note(take_notes())
    if note:
        reply["notes"].append(note)
    if not result.get("success"):
        traceback_lines = (result.get("error") or "").strip().splitlines()
        reply["error"] = (parse_failures(log).get(student)
                          or (traceback_lines[-1] if traceback_lines else "nbgrader failed (see the log)"))
        return reply
    scores = R.cell_scores(course, module, student)
    reply["cells"] = None if scores is None else {g: c.as_dict() for g, c in scores.items()}
    autograded = course / "autograded" / student / module / name
    if autograded.exists():
        kept = out / "autograded" / student / module / name
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(autograded, kept)
        reply["autograded"] = str(kept)
    if feedback and reply.get("autograded"):
        made = api.generate_feedback(module, student, force=True)
        if not made.get("success"):
            last = (made.get("error") or "").strip().splitlines()[-1:] or ["unknown error"]
            reply["feedback_problem"] = f"nbgrader generate_feedback failed: {last[0][:200]}"
        else:
            path, problem = fb.collect(course, module, student, out / "feedback")
            reply["feedback"] = str(path) if path else None
            reply["feedback_problem"] = problem
    return reply


def watch_parent() -> None:
    """End this process (and with it its sandboxed kernels, ``--die-with-parent``) when its parent dies.

    The parent is a Dask worker process; if it is killed (SIGKILL, out of memory) nothing else would
    stop a grading that is under way, and the orphan would keep running learner code for nobody.
    """
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def serve(course: Path, out: Path, timeout: int | None, feedback: bool, sandbox: str = "auto") -> int:
    """Answer requests from stdin until it closes (or the parent process dies)."""
    watch_parent()
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # anything else printed goes to the log, never into the replies
    sys.stdout = sys.stderr
    api = load_api(course, timeout, sandbox)
    print(json.dumps({"ready": True}), file=replies)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply = grade_one(api, course, out, request, feedback)
        except Exception:  # noqa: BLE001 - one submission must never stop the worker
            reply = {"student": request.get("student"), "module": request.get("module"),
                     "error": "internal error: " + traceback.format_exc().strip().splitlines()[-1]}
        print(json.dumps(reply), file=replies)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--timeout", type=int, default=None)
    parser.add_argument("--no-feedback", action="store_true")
    parser.add_argument("--sandbox", choices=["auto", "bwrap", "off"], default="auto")
    args = parser.parse_args(argv)
    return serve(args.course.resolve(), args.out.resolve(), args.timeout, not args.no_feedback, args.sandbox)


if __name__ == "__main__":
    sys.exit(main())
