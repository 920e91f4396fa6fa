"""The hidden test the build appends to each exercise's test cell (nbgrader removes it from the release)."""
from __future__ import annotations

from driftlab.exercises import bank
from driftlab.exercises.entries import Entry
from driftlab.protocol import BEGIN_HIDDEN, END_HIDDEN, VERIFY_NAME, verify_call

# Runs in the learner's kernel before each hidden test: drop import hooks defined by notebook code
# (classes or instances from ``__main__``), forget every driftlab module, and import the checker
# afresh from disk, so nothing the learner's cells replaced in those modules judges their answers.
PRELUDE = ('import sys as _dl_sys\n'
           '_dl_sys.meta_path[:] = [f for f in _dl_sys.meta_path if "__main__" not in '
           '(getattr(f, "__module__", ""), type(f).__module__)]\n'
           'for _dl_m in [m for m in list(_dl_sys.modules) if m.split(".")[0] == "driftlab"]:\n'
           '    del _dl_sys.modules[_dl_m]\n'
           f'from driftlab.exercises.verify import verify as {VERIFY_NAME}\n')


def hidden_test(entry: Entry) -> str:
    """The hidden region for ``entry`` (compiled with its hidden cases)."""
    return f"{BEGIN_HIDDEN}\n{PRELUDE}{verify_call(bank.encode({entry.id: entry}))}\n{END_HIDDEN}"
