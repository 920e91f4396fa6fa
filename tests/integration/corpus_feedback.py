"""Hostile-corpus cases: submissions that try to carry the hidden cases into their own outputs.

A learner who has read the grader's source knows a function's hidden test runs in their kernel. These
cells keep whatever the kernel runs (IPython's ``In``/``_ih``, the history, pre/post-run hooks, a thread
polling the input history, a display handle of an earlier cell, widgets) and print it wherever they can.
The right answers must still score full marks, and the hidden cases must appear nowhere in the autograded
notebook or the feedback (asserted in tests/integration/test_feedback_safe.py, test_judge.py and
test_grade_pipeline.py).

Each case is registered into :mod:`tests.integration.hostile` (graded by plain nbgrader in test_judge.py
and by ``driftlab grade`` in test_grade_pipeline.py).
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from driftlab.exercises import bank
from driftlab.protocol import BEGIN_HIDDEN, END_HIDDEN, RUN_CALL, RUN_NAME
from tests.integration import hostile

# Early in the notebook: hooks and a thread that print every cell the kernel runs from now on.
WATCH = '''\
import sys, threading, time
from IPython.display import HTML, display
import ipywidgets as _w
_ip = get_ipython()
_seen = display(HTML("earlier output"), display_id=True)  # a handle on this cell's output
_box = _w.Output()
_label = _w.HTML(value="widget")
display(_box, _label)
def _spread(text):
    print(text)
    print(text, file=sys.stderr)
    _seen.update(HTML("<pre>" + text + "</pre>"))  # rewrite the earlier output
    display(HTML(text), display_id=_seen.display_id)
    _label.value = text  # widget state
    with _box:  # an output widget's capture
        print(text)
_ip.events.register("pre_run_cell", lambda info: _spread(info.raw_cell))
_ip.events.register("post_run_cell", lambda result: _spread(result.info.raw_cell))
def _poll():
    seen = 0
    while True:
        time.sleep(0.02)
        while seen < len(_ih):
            print("thread saw:", _ih[seen]); seen += 1
threading.Thread(target=_poll, daemon=True).start()
'''

# After every test cell: print what the kernel ran, through every door IPython offers.
DUMP = '''\
print(In)
print(_ih)
print(list(get_ipython().history_manager.get_range(raw=True)))
print(get_ipython().history_manager.input_hist_raw)
_seen.update(HTML("<pre>" + "\\n".join(_ih) + "</pre>"))
'''


def hidden_case_leak(context: dict[str, Any]) -> bytes:
    """Right answers, plus cells that capture and print every cell the kernel runs (hooks, thread, history)."""
    nb = copy.deepcopy(context["right"])
    setup = next(i for i, c in enumerate(nb.cells) if hostile._grade_id(c) == "setup")
    nb.cells.insert(setup + 1, hostile._code(WATCH))
    nb.cells.append(hostile._code(DUMP))
    return hostile._dump(nb)


LEAK = "h-hidden-case-leak"
hostile.register(hostile.Case(LEAK, "graded", "max", note="right answers + hooks, a thread and history dumps that "
                              "print every cell the kernel runs (the hidden test's included)"), hidden_case_leak)


def hidden_texts(course: Path, module: str = hostile.TINY) -> list[str]:
    """What must never reach a learner: each function's hidden test (its source, its token, its call) and the
    hidden cases as written in the module's specs (read from the course's gradebook and instructor notebook)."""
    from nbgrader.api import Gradebook

    texts = [BEGIN_HIDDEN, END_HIDDEN, RUN_NAME]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for cell in gb.find_notebook(module, module).source_cells:
            if BEGIN_HIDDEN in (cell.source or ""):
                texts += [m.group("token") for m in RUN_CALL.finditer(cell.source)]
    for spec in hostile.graded_specs(module, course):
        texts += list(getattr(spec, "hidden_cases", None) or [])
    return texts


def leaked(text: str, course: Path, module: str = hostile.TINY) -> list[str]:
    """The hidden texts found in ``text``, and any bank token in it that decodes to a hidden case."""
    secrets = hidden_texts(course, module)
    found = [s for s in secrets if s in text]
    for token in set(re.findall(r"dl1:[A-Za-z0-9_=+/-]+", text)):
        try:
            entries = bank.decode(token)
        except Exception:  # noqa: BLE001 - a fragment, not a token
            continue
        found += [f"{token[:20]}… holds {case}" for e in entries.values() for case in getattr(e, "cases", ())
                  if case in secrets]
    return found
