"""nbgrader configuration of the Drift Lab course (the repository root is the course directory)."""
import os

from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                    ComputeChecksums, IncludeHeaderFooter, InstantiateTests, LockCells,
                                    SaveCells)

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, Execute, IgnorePattern, LimitOutput,
                                    SaveAutoGrades)

from grader.build.preprocessors import AppendHiddenTests, ClearBlanks, EmbedBank, SpecsToPrompts
from grader.judge import JudgeTestCells, StripKeys

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
# Warnings on stderr must not zero a correct answer (nbgrader scores any stderr as a failure).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"Warning"
# nbgrader's autograde steps with the trusted judge around Execute (grader/judge.py, docs/GRADING.md):
# the kernel gets no key, and the judge, in this process, alone sets every test cell's result.
c.Autograde.autograde_preprocessors = [
    StripKeys, Execute, IgnorePattern, JudgeTestCells, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
# Deleted test cells come back (edited ones always do).
c.OverwriteCells.add_missing_cells = True
# Feedback never shows hidden tests (nbgrader#917).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
