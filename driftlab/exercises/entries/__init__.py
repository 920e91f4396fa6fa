"""Compiled exercises as the learner's kernel sees them: one typed entry class per exercise kind.

The instructor's side (:mod:`grader.exercises.compile`) turns a spec into one of these entries;
the build ships them in the notebook's bank (:mod:`driftlab.exercises.bank`) and in each hidden
test. Here each kind judges an answer with :meth:`Entry.assess`, which never raises. What an entry
holds is only what a check needs: hashes of the right behaviour for choice and blanks, outputs for
function cases (instant feedback is formative; docs/GRADING.md says what that exposes).

Each kind separates *running* the learner's code (in a forked child with one budget, see
:mod:`driftlab.exercises.isolation`) from *judging* what it did (``judge``, pure): the judge in
nbgrader's process (:mod:`grader.judge`) runs code elsewhere and calls the same ``judge``. An entry
``without_keys()`` keeps only what a learner may see (the Test's bank; every bank at grading time):
its checks can only say "answer recorded".
"""
from driftlab.exercises.entries.base import (CORRECT, INCORRECT, KINDS, RECORDED, UNANSWERED, UNREADABLE, Entry,
                                             MistakeNote, Verdict, define, digest, run_all, signature)
from driftlab.exercises.entries.choice import ChoiceEntry
from driftlab.exercises.entries.fill_in import BlanksEntry
from driftlab.exercises.entries.function import FunctionEntry

__all__ = ["CORRECT", "INCORRECT", "UNANSWERED", "RECORDED", "UNREADABLE", "KINDS", "Entry", "ChoiceEntry",
           "BlanksEntry", "FunctionEntry", "MistakeNote", "Verdict", "define", "digest", "run_all", "signature"]
