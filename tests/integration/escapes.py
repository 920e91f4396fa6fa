"""Submissions that try to get out of their grading kernel (the sandbox's corpus; tests/hostile.py has the judge's).

Each attack is what a learner who has read this repository could put in a notebook: find and run the
instructor's solution, tamper with a gradebook, rewrite the installed package or drop a ``.pth`` file
into the virtualenv, overwrite classmates' notebooks, leave a daemon that edits ``grades.csv`` later,
fetch answers over the network, fork without end, take all memory, burn CPU while ignoring interrupts.
Every attack is written to *succeed* where nothing stops it (tests/integration/test_sandbox.py shows
the harmless ones succeeding with ``--sandbox off``), on top of wrong answers, so a sandboxed grading
must give it nothing. Built at test time from the tiny module (tests/integration/hostile.py).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from tests.integration import hostile

MARKER = "driftlab-escape-daemon"  # in the command line of every process an attack leaves behind

# A function answer that finds the course's instructor notebook above its working folder (or in the
# usual places) and runs the instructor's own cell.
READ_SOLUTIONS = '''\
def {name}(*args):
    import glob, json, os
    seen, found = set(), []
    for start in [os.getcwd(), "/work", "/tmp", "/root", "/home", "/srv", "/opt"]:
        path = start
        while path not in seen and path != "/":
            seen.add(path)
            for pattern in ("solutions/*/*.ipynb", "*/solutions/*/*.ipynb"):
                found += glob.glob(os.path.join(path, pattern))
            path = os.path.dirname(path)
    for notebook in found:
        try:
            cells = json.load(open(notebook))["cells"]
        except Exception:
            continue
        for cell in cells:
            source = "".join(cell["source"])
            if source.lstrip().startswith("def {name}("):
                namespace = {{}}
                exec(source, namespace)
                return namespace["{name}"](*args)
    return -1.0
'''

# A function answer that asks a server on this machine for the right output.
NETWORK = '''\
def {name}(*args):
    import json, urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:{port}/" + json.dumps(args).replace(" ", ""), timeout=3) as r:
            return json.loads(r.read())
    except Exception:
        return -1.0
'''

# Every gradebook.db above the working folder: every learner's every grade set to full marks.
GRADEBOOK = '''\
import os, sqlite3
_path, _found = os.getcwd(), []
while _path != "/":
    if os.path.exists(os.path.join(_path, "gradebook.db")):
        _found.append(os.path.join(_path, "gradebook.db"))
    _path = os.path.dirname(_path)
for _db in _found:
    try:
        with sqlite3.connect(_db) as _con:
            _con.execute("UPDATE grade SET manual_score = "
                         "(SELECT max_score FROM grade_cells WHERE grade_cells.id = grade.cell_id)")
    except Exception as _exc:
        print("gradebook:", _exc)
print("gradebooks found:", _found)
'''

# The installed package (editable: the repository itself) and the course config, appended to.
WRITE_PACKAGE = '''\
import os, driftlab
_root = os.path.dirname(os.path.dirname(driftlab.__file__))
for _rel in ["driftlab/exercises/verify.py", "driftlab/exercises/entries/function.py", "grader/judge.py",
             "nbgrader_config.py"]:
    try:
        with open(os.path.join(_root, _rel), "a") as _fh:
            _fh.write("\\n# escaped\\n")
        print("wrote", _rel)
    except OSError as _exc:
        print("could not write", _rel, _exc)
'''

# A .pth file runs at the start of every later Python of this virtualenv (the grader's included).
PTH = '''\
import os, site
for _dir in site.getsitepackages():
    try:
        with open(os.path.join(_dir, "zz_driftlab_escape.pth"), "w") as _fh:
            _fh.write("import os\\n")
        print("dropped a .pth into", _dir)
    except OSError as _exc:
        print("could not:", _exc)
'''

# Every other notebook found above the working folder (queued, submitted, autograded) emptied.
OTHER_LEARNERS = '''\
import glob, os
_path, _hit = os.getcwd(), []
while _path != "/":
    for _pattern in ("submitted/*/*/*.ipynb", "autograded/*/*/*.ipynb", "prepared/*/*.ipynb", ".work/prepared/*/*.ipynb"):
        for _nb in glob.glob(os.path.join(_path, _pattern)):
            if "y-other-learners" not in _nb:
                try:
                    with open(_nb, "w") as _fh:
                        _fh.write("{}")
                    _hit.append(_nb)
                except OSError:
                    pass
    _path = os.path.dirname(_path)
print("overwrote", len(_hit), "notebooks")
'''

# A daemon in its own session that waits for grades.csv above its folder and gives everyone full marks;
# and a plain `sleep` left behind.
DAEMON = '''\
import subprocess, sys
_code = """
import csv, os, sys, time
start = os.getcwd()
for _ in range(600):
    path = start
    while path != "/":
        target = os.path.join(path, "grades.csv")
        if os.path.exists(target):
            rows = list(csv.DictReader(open(target)))
            for row in rows:
                row["score"] = row["max_score"]
            with open(target, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        path = os.path.dirname(path)
    time.sleep(0.5)
"""
subprocess.Popen([sys.executable, "-c", _code, "{marker}"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.Popen(["sh", "-c", "sleep 600; : {marker}"], start_new_session=True)
print("daemons started")
'''

FORK_BOMB = '''\
import os
while True:
    os.fork()
'''

MEMORY = '''\
_blob = b"x" * (6 * 1024 ** 3)
'''

CPU = '''\
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
'''


@dataclass(frozen=True)
class Escape:
    """An escape attempt and what grading it must give (``score``: "max", "zero"; "" when not graded)."""

    student: str
    status: str
    score: str = ""
    reason: str = ""  # a phrase the "could not grade" reason must contain
    note: str = ""
    harmless: bool = False  # safe to run without the sandbox (the control run shows it succeeding)


ESCAPES: list[Escape] = [
    Escape("a-wrong", "graded", "zero", note="control, graded early: its grades are what a gradebook attack raises",
           harmless=True),
    Escape("e-read-solutions", "graded", "zero", note="the function runs the instructor's cell from solutions/",
           harmless=True),
    Escape("e-network", "graded", "zero", note="the function fetches the right outputs from a local server",
           harmless=True),
    Escape("e-gradebook", "graded", "zero", note="every gradebook.db above it: all grades set to full marks",
           harmless=True),
    Escape("y-other-learners", "graded", "zero", note="empties every other notebook it can find (graded after the e-*, before z-right)", harmless=True),
    Escape("e-write-package", "graded", "zero", note="appends to driftlab/grader files and nbgrader_config.py"),
    Escape("e-pth", "graded", "zero", note="drops a .pth into the virtualenv's site-packages"),
    Escape("e-daemon", "graded", "zero", note="leaves a daemon that rewrites grades.csv, and a sleep"),
    Escape("e-fork-bomb", "could not grade", reason="process limit", note="`while True: os.fork()`"),
    Escape("e-memory", "could not grade", reason="memory limit", note="6 GB of bytes"),
    Escape("e-cpu", "could not grade", reason="CPU-time limit", note="ignores SIGINT, loops forever"),
    Escape("z-right", "graded", "max", note="control, graded late: every answer right (an attack's victim)",
           harmless=True),
]

# Smaller limits for the corpus run, so that the limit cases end in seconds (appended to the course config).
LIMITS = {"memory_mb": 1024, "cpu_seconds": 6, "tasks": 96}


def build(dest: Path, module: str, root: Path, port: int, only: Callable[[Escape], bool] = lambda e: True) -> list[Escape]:
    """Write the escape attempts for ``module`` into ``dest`` as ``<student>__<module>.ipynb``."""
    dest.mkdir(parents=True, exist_ok=True)
    specs = hostile.graded_specs(module, root)
    right, wrong = hostile.answered(module, "right", root), hostile.answered(module, "wrong", root)

    def cell(source: str) -> Callable[[], Any]:
        return lambda: hostile._after_setup(wrong, source.replace("{marker}", MARKER))

    def function(template: str) -> Callable[[], Any]:
        return lambda: hostile._with_function(wrong, specs, template.replace("{port}", str(port)))

    makers: dict[str, Callable[[], Any]] = {
        "a-wrong": lambda: copy.deepcopy(wrong), "z-right": lambda: copy.deepcopy(right),
        "e-read-solutions": function(READ_SOLUTIONS), "e-network": function(NETWORK),
        "e-gradebook": cell(GRADEBOOK), "e-write-package": cell(WRITE_PACKAGE), "e-pth": cell(PTH),
        "y-other-learners": cell(OTHER_LEARNERS), "e-daemon": cell(DAEMON), "e-fork-bomb": cell(FORK_BOMB),
        "e-memory": cell(MEMORY), "e-cpu": cell(CPU),
    }
    chosen = [e for e in ESCAPES if only(e)]
    for escape in chosen:
        (dest / f"{escape.student}__{module}.ipynb").write_bytes(hostile._dump(makers[escape.student]()))
    return chosen
