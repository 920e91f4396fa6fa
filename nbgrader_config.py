"""nbgrader configuration of the Drift Lab course (the repository root is the course directory)."""
import os
import sys

from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                    ComputeChecksums, IncludeHeaderFooter, InstantiateTests, LockCells,
                                    SaveCells)

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, IgnorePattern, LimitOutput, SaveAutoGrades
from nbgrader.preprocessors import OverwriteCells, OverwriteKernelspec

from grader.build.preprocessors import AppendHiddenTests, ClearBlanks, EmbedBank, SpecsToPrompts
from grader.judge import JudgeTestCells, KeepLowestCopy, StripKeys
from grader.sandbox.kernel import SandboxedExecute

c = get_config()  # noqa: F821 - provided by nbgrader

# Layout: instructor notebooks in solutions/, the learner release in notebooks/, one folder per module.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "driftlab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# The build: our exercise steps first (before nbgrader checksums and records cells), and
# ClearBlanks in place of ClearSolutions so fill-in-the-blank answer cells keep their code.
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter, EmbedBank, AppendHiddenTests, SpecsToPrompts, InstantiateTests, LockCells, ClearBlanks, ClearOutput,
    CheckCellMetadata, ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme,
    ComputeChecksums, CheckCellMetadata,
]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grading: slack for slow kernel starts; an endless loop costs one cell, not the batch.
c.Execute.timeout = 60
c.Execute.startup_timeout = 120
# A graded notebook's kernel is done when its last cell is: end it at once (nbclient's graceful shutdown costs
# ~0.4 s of wall time per submission and achieves nothing here; a sandboxed kernel's box is closed either way).
c.Execute.shutdown_kernel = "immediate"
# Warnings on stderr must not zero a correct answer (nbgrader scores any stderr as a failure).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"Warning"
# A copied answer or test cell: the lowest copy counts, as in driftlab grade and the kernel's check
# (nbgrader's DeduplicateIds keeps it too, but leaves metadata that nbgrader 0.9.6 then crashes on).
c.Autograde.sanitize_preprocessors = [ClearOutput, KeepLowestCopy, OverwriteKernelspec, OverwriteCells,
                                      CheckCellMetadata]
# nbgrader's autograde steps with the trusted judge around Execute (grader/judge.py, docs/GRADING.md):
# the kernel gets no key, and the judge, in this process, alone sets every test cell's result.
# Execute runs each kernel in the grading sandbox (grader/sandbox: bubblewrap, limits; docs/GRADING.md).
c.Autograde.autograde_preprocessors = [
    StripKeys, SandboxedExecute, IgnorePattern, JudgeTestCells, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
# The sandbox of every process that runs learner code at grading time (the kernel, the blanks runner):
# auto = bubblewrap where it works, else grading goes on with a loud warning; bwrap = required; off.
c.Sandbox.mode = "auto"
c.Sandbox.memory_mb = 3072  # all processes of one submission together (cgroup; else per process)
c.Sandbox.cpu_seconds = 900  # CPU time of each process
c.Sandbox.tasks = 256  # processes + threads at once
# What the grader keeps of a kernel's output, counted as it arrives (grader/sandbox/output.py); past a limit the
# rest is dropped with a note in the cell (so in the feedback) and in driftlab grade's notes column.
c.OutputLimits.message_mb = 16  # one message (ZeroMQ refuses a larger one before it is read)
c.OutputLimits.cell_text_kb = 1024  # printed text and error messages per cell
c.OutputLimits.cell_display_kb = 8192  # images, HTML, widgets per cell
c.OutputLimits.notebook_mb = 32  # all output of a notebook
# A kernel message the grader cannot read (not JSON, nested too deep, huge ints) is dropped with a note in
# its cell, never an exception out of Execute (grader/sandbox/messages.py; every kernel manager's Session).
c.Session.unpacker = "grader.sandbox.messages.unpack"
# `nbgrader validate` builds nbgrader's own Execute step (its preprocessors are not configurable): its
# kernels come into the sandbox as this process's default kernel provisioner (pyproject entry point).
if sys.argv[1:2] == ["validate"]:
    os.environ.setdefault("JUPYTER_DEFAULT_PROVISIONER_NAME", "driftlab-sandbox")
# Deleted test cells come back (edited ones always do).
c.OverwriteCells.add_missing_cells = True
# Feedback never shows hidden tests (nbgrader#917; the judge also keeps them out of the graded notebook), and
# opening it runs no script: learner outputs and markdown are sanitised (grader/batch/feedback.py, docs/GRADING.md).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "grader.batch.feedback.SanitizeFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
