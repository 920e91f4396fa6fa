"""What a submission can make the grader hold (issue 22, items 2, 3): one real sandboxed kernel.

The hostile corpus carries the rest (tests/integration/corpus_output.py: 300 MB floods, a descriptor probe, a
blank flooding the runner's pipes), graded on an instructor's terminal by plain nbgrader in test_judge.py and by
``driftlab grade`` in test_grade_pipeline.py; kernel-free checks are in tests/unit/test_sandbox.py.
"""
from __future__ import annotations

import logging

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.sandbox.kernel import SandboxedExecute

DIES = '''\
import os, sys
os.write(sys.stderr._original_stdstream_copy, b"kernel: giving up \\x1b[2J now\\n")  # the kernel's real stderr
os._exit(3)
'''


@pytest.mark.slow
def test_a_kernel_that_dies_says_why_in_the_log_and_its_escape_sequences_stay_inert(caplog, tmp_path):
    nb = new_notebook(cells=[new_code_cell("print('started')"), new_code_cell(DIES)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    with caplog.at_level(logging.WARNING), pytest.raises(Exception) as raised:
        SandboxedExecute(timeout=60, startup_timeout=120).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert "DeadKernel" in type(raised.value).__name__
    said = [r.getMessage() for r in caplog.records if "the kernel's output" in r.getMessage()]
    assert said and "kernel: giving up \\x1b[2J now" in said[0]  # its last words, the escape shown, not sent
    assert "\x1b" not in said[0]
