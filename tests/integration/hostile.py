"""Synthetic and hostile submissions, built at test time from a module's release and solution notebooks.

Nothing here is stored: every notebook is derived from a module's release and instructor notebooks
by :mod:`grader.batch.synthetic` (right, wrong, untouched answers; re-exported here), so the corpus
follows the course as modules are rewritten. Used by ``tests/integration/test_grade_pipeline.py``.

Each hostile case comes with its expected outcome (see :data:`CASES` and :func:`build_corpus`).
:func:`write_tiny_module` writes a three-exercise module (no scientific imports) so that the whole
corpus grades in seconds; the cases are about grading, not about a module's content.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import nbformat

from driftlab.exercises.blanks import fill
from driftlab.protocol import ANSWER_SUFFIX, TEST_SUFFIX
from grader.batch.synthetic import (  # noqa: F401 - re-exported for the tests
    answer_cells as _answer_cells, answered, dump as _dump, expected_score, grade_id as _grade_id, graded_specs,
    max_score, release_notebook, right_answer, solution_notebook, wrong_answer)
from grader.nbgrader import ROOT


# ---------------------------------------------------------------------------------------------------
# hostile variants: each takes a notebook (already answered right or wrong) and returns file bytes


def _code(source: str) -> Any:
    return nbformat.v4.new_code_cell(source)


def _index(nb: Any, suffix: str, nth: int = 0) -> int:
    found = [i for i, c in enumerate(nb.cells) if (_grade_id(c) or "").endswith(suffix)]
    return found[nth]


def corrupt_json(nb: Any) -> bytes:
    raw = _dump(nb)
    return raw[: len(raw) // 2]


def empty_file(nb: Any) -> bytes:
    return b""


def old_format_v3(nb: Any) -> bytes:
    """The same notebook saved in nbformat 3 (IPython 2 era)."""
    old = nbformat.convert(copy.deepcopy(nb), 3)
    return nbformat.writes(old, version=3).encode()


def deleted_test_cell(nb: Any) -> bytes:
    nb = copy.deepcopy(nb)
    for i in reversed([i for i, c in enumerate(nb.cells) if (_grade_id(c) or "").endswith(TEST_SUFFIX)]):
        del nb.cells[i]
    return _dump(nb)


def edited_test_cell(nb: Any) -> bytes:
    """Every test cell replaced by a pass, with its points inflated (on a wrong notebook: a cheat)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if (_grade_id(cell) or "").endswith(TEST_SUFFIX):
            cell.source = "pass  # all good"
            cell.metadata["nbgrader"]["points"] = 100
    return _dump(nb)


def duplicated_answer_cell(nb: Any, wrong: Any) -> bytes:
    """Each answer cell duplicated: a wrong first try above the (kept) right one; the last run counts."""
    nb = copy.deepcopy(nb)
    wrong_cells = _answer_cells(wrong)
    for exercise, cell in list(_answer_cells(nb).items()):
        index = nb.cells.index(cell)
        dup = copy.deepcopy(wrong_cells[exercise])
        dup.id = ("dup-" + str(dup.get("id", exercise)))[:64]  # as Jupyter does when copying a cell
        nb.cells.insert(index, dup)
    return _dump(nb)


def changed_kernelspec(nb: Any) -> bytes:
    nb = copy.deepcopy(nb)
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    return _dump(nb)


MONKEYPATCH = '''\
import builtins, sys, types
import driftlab.exercises.verify, driftlab.exercises.entries, driftlab.exercises.notebook
def check(*args, **kwargs):
    print("✔ Correct")
driftlab.exercises.verify.run_cases = lambda *a, **k: None
for _cls in driftlab.exercises.entries.KINDS.values():
    _cls.assess = lambda self, *a, **k: driftlab.exercises.entries.Verdict(self.id, "correct")
driftlab.exercises.notebook.check = check
builtins.AssertionError = type("AssertionError", (Exception,), {})
'''

# nbgrader gives full points to a test cell whose first execute_result is not a number: make every
# display() (check's card included) first push a value through the display hook.
DISPLAY_HOOK = '''\
import sys, IPython.display as _d
_real_display = _d.display
def _display(*args, **kwargs):
    sys.displayhook("ok")
    return _real_display(*args, **kwargs)
_d.display = _display
import driftlab.exercises.notebook as _n
_n._display = lambda bundle: (sys.displayhook("ok"), _real_display(bundle, raw=True))
'''

# The standard library is the learner's: a json.loads whose every "correct" answer matches anything.
PATCHED_STDLIB = '''\
import json
_loads = json.loads
class _Anything(str):
    def __eq__(self, other): return True
    def __hash__(self): return 0
def _lying_loads(text, *args, **kwargs):
    data = _loads(text, *args, **kwargs)
    if isinstance(data, dict):
        for entry in data.values():
            if isinstance(entry, dict) and "correct" in entry:
                entry["correct"] = _Anything("")
    return data
json.loads = _lying_loads
'''

# Builtins through an alias: every later import of driftlab's checker gets a forged module.
BUILTINS_ALIAS = '''\
import builtins as b, types
_real_import = b.__import__
def _forged_import(name, *args, **kwargs):
    module = _real_import(name, *args, **kwargs)
    if name.startswith("driftlab.exercises"):
        fake = types.SimpleNamespace(**vars(module))
        fake.run_cases = lambda token: None
        fake.check = lambda *a, **k: print("Correct")
        return fake
    return module
b.__import__ = _forged_import
'''

# A tracer that makes driftlab's kernel code skip ahead: in every driftlab frame it jumps over the
# line that would report or judge (the kind of jump that once made a kernel-side check pass).
SETTRACE = '''\
import sys, threading
def _tracer(frame, event, arg):
    if "driftlab" not in frame.f_code.co_filename:
        return None
    def _local(frame, event, arg):
        if event == "line":
            try:
                frame.f_lineno = frame.f_lineno + 1  # skip the statement about to run
            except (ValueError, RuntimeError):
                pass
        return _local
    return _local
sys.settrace(_tracer)
threading.settrace(_tracer)
'''


# A function answer that walks up the call stack to find the expected outputs it is compared with.
FRAME_WALK = '''\
def {name}(*args):
    import sys
    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            expected = getattr(value, "expected", None) or (value.get("expected") if isinstance(value, dict) else None)
            cases = getattr(value, "cases", None) or (value.get("cases") if isinstance(value, dict) else None)
            if expected and cases:
                return expected[0]
        frame = frame.f_back
    return -1.0
'''

# A function answer that decodes the notebook's own exercise bank at call time and returns the
# expected output it finds there (in the learner's kernel before grading it passes the visible cases).
DECODE_BANK = '''\
def {name}(*args):
    import base64, json, zlib, driftlab.exercises.notebook as n
    for entry in n.session().entries.values():
        if getattr(entry, "name", None) == "{name}" and entry.expected:
            for case, value in zip(entry.cases, entry.expected):
                if eval(case, {{}}) == args:
                    return value
    return -1.0
'''


def _with_function(nb: Any, specs: list[Any], template: str) -> Any:
    nb = copy.deepcopy(nb)
    cells = _answer_cells(nb)
    for spec in specs:
        if spec.kind == "function" and spec.id in cells:
            cells[spec.id].source = template.format(name=spec.name)
    return nb


def display_hook(nb: Any) -> bytes:
    return _dump(_after_setup(nb, DISPLAY_HOOK))


def patched_stdlib(nb: Any) -> bytes:
    return _dump(_after_setup(nb, PATCHED_STDLIB))


def builtins_alias(nb: Any) -> bytes:
    return _dump(_after_setup(nb, BUILTINS_ALIAS))


def settrace(nb: Any) -> bytes:
    return _dump(_after_setup(nb, SETTRACE))


def frame_walk(nb: Any, specs: list[Any]) -> bytes:
    return _dump(_with_function(nb, specs, FRAME_WALK))


def decode_bank(nb: Any, specs: list[Any]) -> bytes:
    return _dump(_with_function(nb, specs, DECODE_BANK))


def respelled_right(nb: Any, specs: list[Any]) -> bytes:
    """Right answers written as people write them: a choice as "b.  # because …", a blank as "(A)"."""
    nb = copy.deepcopy(nb)
    cells = _answer_cells(nb)
    for spec in specs:
        cell = cells.get(spec.id)
        if cell is None:
            continue
        if spec.kind == "choice":
            letter = spec.answer[1]
            cell.source = f"%%answer {spec.id}\n{letter.lower()}.  # because a single check can mislead, I chose {letter}"
        elif spec.kind == "blanks":
            letters = {b: f"({spec.answer[b]})" for b in spec.options}
            cell.source = f"%%answer {spec.id}\n" + fill(spec.template, letters)
    return _dump(nb)

IMPORT_HOOK = '''\
import sys, importlib.abc, importlib.machinery, types
class _Fake(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == "driftlab.exercises.verify":
            return importlib.machinery.ModuleSpec(name, self)
        return None
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        module.verify = lambda *a, **k: None
sys.meta_path.insert(0, _Fake())
'''


def _after_setup(nb: Any, source: str) -> Any:
    nb = copy.deepcopy(nb)
    setup = next(i for i, c in enumerate(nb.cells) if _grade_id(c) == "setup")
    nb.cells.insert(setup + 1, _code(source))
    return nb


def monkeypatch_checks(nb: Any) -> bytes:
    return _dump(_after_setup(nb, MONKEYPATCH))


def import_hook(nb: Any) -> bytes:
    return _dump(_after_setup(nb, IMPORT_HOOK))


ALWAYS_EQUAL = '''\
class AlwaysEqual(float):
    """Equal to everything, close to everything."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return False
    def __gt__(self, other): return False
    def __le__(self, other): return True
    def __ge__(self, other): return True
    def __abs__(self): return 0.0
    def __sub__(self, other): return AlwaysEqual(0.0)
    __rsub__ = __sub__
    def __bool__(self): return True
    def __hash__(self): return 0
'''


def always_equal(nb: Any, specs: list[Any]) -> bytes:
    """Answers that are objects equal to everything: functions return one, blanks hold one."""
    nb = _after_setup(nb, ALWAYS_EQUAL)
    cells = _answer_cells(nb)
    for spec in specs:
        cell = cells.get(spec.id)
        if cell is None:
            continue
        if spec.kind == "function":
            head = next(line for line in cell.source.splitlines() if line.startswith("def "))
            cell.source = f"{head}\n    return AlwaysEqual(0.0)"
        elif spec.kind == "blanks":
            cell.source = f"%%answer {spec.id}\n" + fill(spec.template.rstrip("\n"), {b: "AlwaysEqual(1.0)" for b in spec.blanks})
        else:
            cell.source = f"%%answer {spec.id}\nAlwaysEqual(1.0)"
    return _dump(nb)


NOISE = ('import os, sys, warnings\n'
         'print("DeprecationWarning: something is deprecated", file=sys.stderr)\n'
         'os.write(2, b"native library noise on file descriptor 2\\n")\n'
         'warnings.warn("this is only noise", UserWarning)\n'
         'print("some debugging output on stderr", file=sys.stderr)')


def stderr_noise(nb: Any, specs: list[Any]) -> bytes:
    """Warnings and debug prints on stderr around every answer and inside every function answer."""
    nb = copy.deepcopy(nb)
    functions = {s.id for s in specs if s.kind == "function"}
    for exercise, cell in list(_answer_cells(nb).items()):
        index = nb.cells.index(cell)
        nb.cells.insert(index + 1, _code(NOISE))
        nb.cells.insert(index, _code(NOISE))
        if exercise in functions:
            lines = cell.source.splitlines()
            head = next(i for i, line in enumerate(lines) if line.startswith("def "))
            noise = ['    import os, sys, warnings',
                     '    print("debug: called", file=sys.stderr)',
                     '    os.write(2, b"native library noise on file descriptor 2\\n")',
                     '    warnings.warn("deprecated input", DeprecationWarning)']
            cell.source = "\n".join(lines[: head + 1] + noise + lines[head + 1:])
    return _dump(nb)


def history_injection(wrong: Any, right: Any) -> bytes:
    """Wrong answers, plus cells that append the right ``%%answer`` cells to IPython's input history."""
    nb = copy.deepcopy(wrong)
    for exercise, cell in _answer_cells(right).items():
        if not cell.source.lstrip().startswith("%%answer"):
            continue
        index = _index(nb, exercise + TEST_SUFFIX)
        nb.cells.insert(index, _code(f"get_ipython().history_manager.input_hist_raw.append({cell.source!r})"))
    return _dump(nb)


SKIP_TESTS = '''\
def _skip_grading(lines):
    """Rewrite every cell that holds a hidden test into `pass` before IPython runs it."""
    text = "".join(lines)
    return ["pass\\n"] if ("HIDDEN TESTS" in text or "verify" in text) else lines
get_ipython().input_transformers_cleanup.insert(0, _skip_grading)
'''


def skip_hidden_tests(nb: Any) -> bytes:
    """Wrong answers, plus an IPython input transformer that turns the hidden tests into ``pass``."""
    return _dump(_after_setup(nb, SKIP_TESTS))


def infinite_loop(nb: Any) -> bytes:
    """A cell that never ends, after the first answer (the per-cell timeout must stop it)."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(_index(nb, ANSWER_SUFFIX) + 1, _code("while True:\n    pass"))
    return _dump(nb)


def kernel_exit(nb: Any) -> bytes:
    """A cell that kills the kernel (``os._exit``) after the first answer."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(_index(nb, ANSWER_SUFFIX) + 1, _code("import os\nos._exit(1)"))
    return _dump(nb)


def huge_output(nb: Any) -> bytes:
    """A cell printing ~20 MB (in many writes) before the answers."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(_index(nb, ANSWER_SUFFIX), _code("for _ in range(2000):\n    print('x' * 10000)"))
    return _dump(nb)


@dataclass(frozen=True)
class Case:
    """A hostile submission and what grading it must give."""

    student: str
    status: str  # "graded" or "could not grade"
    score: str  # "max", "zero" or "any" (for "could not grade": ignored)
    reason: str = ""  # a word the reason must contain (could not grade)
    note: str = ""


CASES: list[Case] = [
    Case("h-right", "graded", "max", note="control: every answer right"),
    Case("h-wrong", "graded", "zero", note="control: every answer shows a known mistake"),
    Case("h-untouched", "graded", "zero", note="control: the release as given"),
    Case("h-corrupt-json", "could not grade", "any", "corrupt"),
    Case("h-empty-file", "could not grade", "any", "empty"),
    Case("h-old-format", "graded", "max", note="nbformat 3 is upgraded, then graded"),
    Case("h-deleted-tests", "graded", "max", note="right answers; nbgrader adds the test cells back"),
    Case("h-edited-tests", "graded", "zero", note="wrong answers, tests replaced by `pass` and 100 points"),
    Case("h-duplicated-answer", "graded", "max", note="a wrong copy above the right answer: the lowest copy counts"),
    Case("h-changed-kernelspec", "graded", "max", note="right answers, kernelspec 'ir'"),
    Case("h-monkeypatch", "graded", "zero", note="wrong answers + check/verify/assess/AssertionError replaced"),
    Case("h-import-hook", "graded", "zero", note="wrong answers + a sys.meta_path finder faking driftlab.exercises.verify"),
    Case("h-history-injection", "graded", "zero", note="wrong answers + right %%answer cells appended to IPython's history"),
    Case("h-skip-tests", "graded", "zero", note="wrong answers + an input transformer that makes hidden tests `pass`"),
    Case("h-always-equal", "graded", "zero", note="answers are objects equal to everything"),
    Case("h-stderr-noise", "graded", "max", note="right answers with warnings and stderr prints around and inside"),
    Case("h-infinite-loop", "graded", "max", note="right answers + `while True: pass` cell (timeout, run continues)"),
    Case("h-kernel-exit", "could not grade", "any", "kernel", note="os._exit(1) in a cell"),
    Case("h-huge-output", "graded", "max", note="right answers + ~20 MB printed"),
    Case("h-display-hook", "graded", "zero", note="wrong answers + display() pushes 'ok' through sys.displayhook "
         "first (nbgrader's partial-credit rule)"),
    Case("h-patched-stdlib", "graded", "zero", note="wrong answers + json.loads makes every key match"),
    Case("h-builtins-alias", "graded", "zero", note="wrong answers + builtins.__import__ (via an alias) forges the checker"),
    Case("h-settrace", "graded", "zero", note="wrong answers + sys.settrace tracer over driftlab's code"),
    Case("h-frame-walk", "graded", "zero", note="function answers walk the stack for the expected outputs"),
    Case("h-decode-bank", "graded", "zero", note="function answers decode the notebook's bank for expected outputs"),
    Case("h-respelled-right", "graded", "max", note="right answers written 'b.  # because …' and '(A)'"),
]
EXPECTED = {case.student: case for case in CASES}
#: cases added by the topic corpora (tests/integration/corpus_*.py): student -> maker(context) -> bytes, where
#: context holds ``right``, ``wrong``, ``untouched`` (answered notebooks), ``specs``, ``module`` and ``root``
EXTRA: dict[str, Callable[[dict[str, Any]], bytes]] = {}


def register(case: Case, maker: Callable[[dict[str, Any]], bytes]) -> None:
    """Add a case of a topic corpus to the hostile corpus (graded by both pipelines with the rest)."""
    if case.student in EXPECTED:
        raise ValueError(f"hostile case {case.student!r} registered twice")
    CASES.append(case)
    EXPECTED[case.student] = case
    EXTRA[case.student] = maker


def build_corpus(dest: Path, module: str, root: Path = ROOT) -> dict[str, Case]:
    """Write every hostile case for ``module`` into ``dest`` as flat ``<student>__<module>.ipynb``."""
    dest.mkdir(parents=True, exist_ok=True)
    specs = graded_specs(module, root)
    right, wrong, untouched = answered(module, "right", root), answered(module, "wrong", root), answered(module, "untouched", root)
    makers: dict[str, Callable[[], bytes]] = {
        "h-right": lambda: _dump(right),
        "h-wrong": lambda: _dump(wrong),
        "h-untouched": lambda: _dump(untouched),
        "h-corrupt-json": lambda: corrupt_json(right),
        "h-empty-file": lambda: empty_file(right),
        "h-old-format": lambda: old_format_v3(right),
        "h-deleted-tests": lambda: deleted_test_cell(right),
        "h-edited-tests": lambda: edited_test_cell(wrong),
        "h-duplicated-answer": lambda: duplicated_answer_cell(right, wrong),
        "h-changed-kernelspec": lambda: changed_kernelspec(right),
        "h-monkeypatch": lambda: monkeypatch_checks(wrong),
        "h-import-hook": lambda: import_hook(wrong),
        "h-history-injection": lambda: history_injection(wrong, right),
        "h-skip-tests": lambda: skip_hidden_tests(wrong),
        "h-always-equal": lambda: always_equal(untouched, specs),
        "h-stderr-noise": lambda: stderr_noise(right, specs),
        "h-infinite-loop": lambda: infinite_loop(right),
        "h-kernel-exit": lambda: kernel_exit(right),
        "h-huge-output": lambda: huge_output(right),
        "h-display-hook": lambda: display_hook(wrong),
        "h-patched-stdlib": lambda: patched_stdlib(wrong),
        "h-builtins-alias": lambda: builtins_alias(wrong),
        "h-settrace": lambda: settrace(wrong),
        "h-frame-walk": lambda: frame_walk(wrong, specs),
        "h-decode-bank": lambda: decode_bank(wrong, specs),
        "h-respelled-right": lambda: respelled_right(right, specs),
    }
    context = {"right": right, "wrong": wrong, "untouched": untouched, "specs": specs, "module": module, "root": root}
    for student, maker in EXTRA.items():
        makers[student] = lambda maker=maker: maker(copy.deepcopy(context))
    for case in CASES:
        (dest / f"{case.student}__{module}.ipynb").write_bytes(makers[case.student]())
    return dict(EXPECTED)


def write_notebook(nb: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------
# a tiny module (one exercise of each kind, no scientific imports) for fast grading tests

TINY = "99_tiny"
TINY_SPECS = {
    "tiny-blank": '''\
id: tiny-blank
kind: blanks
title: Raise the alert
difficulty: easy
points: 1
prompt: Alert when the data changed.
template: |
  if changed == [1]:
      alert('drift')
options: {A: "True", B: "False", C: "None", D: "0"}
answer: A
probes:
  - {changed: "True"}
  - {changed: "False"}
mistakes:
  - {id: false-not-true, when: B, message: "False alerts when nothing changed."}
  - {id: none-not-true, when: C, message: "None is never equal to a boolean."}
  - {id: zero-not-true, when: D, message: "0 equals False, not True."}
hints: ["Alert when it changed."]
solution: ["Compare with True."]
''',
    "tiny-choice": '''\
id: tiny-choice
kind: choice
title: p-values
difficulty: medium
points: 1
prompt: With a million rows, p = 1e-12 means...
options: {A: "a large drift", B: "the samples differ, by some amount", C: "a broken model", D: "nothing"}
answer: B
mistakes:
  - {id: p-is-effect-size, when: A, message: "A p-value is not an effect size."}
  - {id: drift-is-broken, when: C, message: "Drift does not mean broken."}
  - {id: p-means-nothing, when: D, message: "It does mean something."}
hints: ["Significant is not important."]
solution: ["B: significant, not necessarily large."]
''',
    "tiny-func": '''\
id: tiny-func
kind: function
title: Family-wise error
difficulty: hard
points: 2
prompt: "Complete `fwer(n, alpha)`: P(at least one of n independent tests at level alpha fires)."
name: fwer
cases: ["(20, 0.05)", "(1, 0.05)"]
hidden_cases: ["(0, 0.05)", "(3, 0.5)"]
tolerance: 1.0e-9
mistakes:
  - id: union-bound
    message: "n * alpha is the expected number of alarms."
    code: |
      def fwer(n, alpha):
          return n * alpha
  - id: single-rate
    message: "alpha is the rate of one test."
    code: |
      def fwer(n, alpha):
          return alpha
hints: ["1 - P(no alarm)."]
solution: ["1 - (1 - alpha) ** n"]
''',
}


def write_tiny_module(course: Path) -> Path:
    """Write ``solutions/99_tiny/99_tiny.ipynb`` (with grader.authoring) into a course folder."""
    from grader.exercises import authoring as A

    cells = [A.md("# Tiny module (tests only)"), A.setup(TINY)]
    cells += [A.code("changed = True"), A.exercise(TINY_SPECS["tiny-blank"]),
              A.answer("tiny-blank", "if changed == [1:True]:\n    alert('drift')"), A.test("tiny-blank")]
    cells += [A.exercise(TINY_SPECS["tiny-choice"]), A.answer("tiny-choice", "[1:B]"), A.test("tiny-choice")]
    cells += [A.exercise(TINY_SPECS["tiny-func"]),
              A.solution("tiny-func", "def fwer(n, alpha):\n    ### BEGIN SOLUTION\n    return 1 - (1 - alpha) ** n\n"
                                      "    ### END SOLUTION"),
              A.test("tiny-func", points=2)]
    return A.write(course / "solutions" / TINY / f"{TINY}.ipynb", cells)


def tiny_course(dest: Path, *modules: str) -> Path:
    """A scratch course folder: the course config, these modules' instructor notebooks and the tiny module."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    for module in modules:
        shutil.copytree(ROOT / "solutions" / module, dest / "solutions" / module)
    write_tiny_module(dest)
    return dest


# The topic corpora register their cases when this module is imported (they import it back).
from tests.integration import corpus_cells, corpus_fairness, corpus_feedback, corpus_output  # noqa: E402,F401
