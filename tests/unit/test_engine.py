"""The exercise engine on its own: specs, blanks, assessment, hidden verification, practice widgets."""
from __future__ import annotations

import numpy as np
import pytest

from driftlab.exercises import bank
from driftlab.exercises.entries import CORRECT, INCORRECT, UNANSWERED
from driftlab.exercises.blanks import blank_solution_marks, read_fills, strip_solution_marks
from driftlab.exercises.probing import canonical, close
from driftlab.errors import SpecError
from grader.exercises.compile import compile_entry
from grader.exercises.spec import parse_spec

TASK1 = """
id: t-task1
kind: blanks
title: Task 1
difficulty: easy
prompt: Complete the code.
template: |
  if data_distribution_changes == [1]:
      alert('Model performance may degrade')
options: {A: "True", B: "False", C: "None", D: "0"}
answer: A
probes:
  - {data_distribution_changes: "True"}
  - {data_distribution_changes: "False"}
  - {data_distribution_changes: "np.True_"}
  - {data_distribution_changes: "np.False_"}
mistakes:
  - {id: false-instead-of-true, when: B, message: "Using False instead of True"}
  - {id: none-not-boolean, when: C, message: "Using None which is not a boolean"}
  - {id: zero-equals-false, when: D, message: "0 == False"}
hints: [h]
solution: [s]
"""

TASK2 = """
id: t-task2
kind: blanks
title: Task 2
difficulty: medium
prompt: Log a drop.
template: |
  if current_accuracy [1] baseline_accuracy:
      log('Accuracy dropped')
options: {A: ">=", B: "!=", C: "<", D: "=="}
answer: C
probes:
  - {current_accuracy: "0.80", baseline_accuracy: "0.85"}
  - {current_accuracy: "0.85", baseline_accuracy: "0.85"}
  - {current_accuracy: "0.90", baseline_accuracy: "0.85"}
mistakes:
  - {id: ge-means-improved, when: A, message: "Using >= which means accuracy improved or stayed same"}
  - {id: ne-any-change, when: B, message: "!= fires on improvements too"}
  - {id: eq-only-equality, when: D, message: "Using == which only detects equality"}
  - {id: le-equal-is-not-a-drop, fill: "<=", message: "<= also logs equal accuracy"}
"""

TASK3 = """
id: t-task3
kind: blanks
title: Task 3
difficulty: hard
prompt: Fix it.
template: |
  if detect_data_drift() [1]:
      retrain_model()
options: {A: "is False", B: "!=", C: "== None", D: "is True"}
answer: D
probes:
  - {detect_data_drift: "lambda: True"}
  - {detect_data_drift: "lambda: False"}
mistakes:
  - {id: is-false, when: A, message: "Using 'is False' which means no drift"}
  - {id: bare-ne, when: B, message: "!= alone is a syntax error"}
  - {id: eq-none, when: C, message: "Using '== None' which is incorrect for booleans"}
"""

PSI = """
id: t-psi
kind: function
title: PSI
difficulty: medium
prompt: psi
name: psi
timeout: 1
cases:
  - "(np.array([0.25, 0.25, 0.5]), np.array([0.2, 0.3, 0.5]))"
  - "(np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.4, 0.2]))"
mistakes:
  - id: kl
    message: KL, not PSI
    code: |
      def psi(r, c, eps=1e-4):
          r = np.clip(r, eps, None); c = np.clip(c, eps, None)
          return float(np.sum(c * np.log(c / r)))
"""


def reference_psi(r, c, eps=1e-4):
    r = np.clip(np.asarray(r, float), eps, None)
    c = np.clip(np.asarray(c, float), eps, None)
    return float(np.sum((c - r) * np.log(c / r)))


@pytest.fixture(scope="module")
def entries():
    out = {s: compile_entry(parse_spec(t)) for s, t in (("t1", TASK1), ("t2", TASK2), ("t3", TASK3))}
    out["psi"] = compile_entry(parse_spec(PSI), reference_psi)
    return out


def code(template_line_fill: str, which: str) -> str:
    return {
        "t1": f"if data_distribution_changes == {template_line_fill}:\n    alert('Model performance may degrade')",
        "t2": f"if current_accuracy {template_line_fill} baseline_accuracy:\n    log('Accuracy dropped')",
        "t3": f"if detect_data_drift() {template_line_fill}:\n    retrain_model()",
    }[which]


@pytest.mark.parametrize("which,fill,misconception", [
    ("t1", "False", "false-instead-of-true"), ("t1", "None", "none-not-boolean"), ("t1", "0", "zero-equals-false"),
    ("t1", "B", "false-instead-of-true"), ("t1", "D", "zero-equals-false"),
    ("t2", ">=", "ge-means-improved"), ("t2", "!=", "ne-any-change"), ("t2", "==", "eq-only-equality"),
    ("t2", "<=", "le-equal-is-not-a-drop"), ("t2", ">", "unknown"),
    ("t3", "is False", "is-false"), ("t3", "!=", "bare-ne"), ("t3", "== None", "eq-none"), ("t3", "A", "is-false"),
])
def test_each_distractor_has_its_own_message(entries, which, fill, misconception):
    verdict = entries[which].assess(code(fill, which))
    assert verdict.status == INCORRECT and verdict.misconception == misconception
    assert verdict.message


@pytest.mark.parametrize("which,answer", [
    ("t1", code("True", "t1")), ("t1", code("A", "t1")), ("t1", code("  True ", "t1")),
    ("t1", "if data_distribution_changes:\n    alert('Model performance may degrade')"),
    ("t1", "if bool(data_distribution_changes) is True:\n    alert('drift!')"),
    ("t2", code("<", "t2")), ("t2", "if baseline_accuracy > current_accuracy:\n    log('Accuracy dropped')"),
    ("t3", code("is True", "t3")), ("t3", code("== True", "t3")), ("t3", "if detect_data_drift():\n    retrain_model()"),
])
def test_equivalent_correct_answers_pass(entries, which, answer):
    assert entries[which].assess(answer).status == CORRECT


def test_boundary_tells_lt_from_le(entries):
    assert entries["t2"].assess(code("<", "t2")).correct
    assert not entries["t2"].assess(code("<=", "t2")).correct


def test_unanswered_and_bad_input_never_raise(entries):
    assert entries["t1"].assess(code("[1]", "t1")).status == UNANSWERED
    assert entries["t1"].assess(None).status == UNANSWERED  # nothing recorded: costs no attempt
    assert entries["t1"].assess(42).misconception == "wrong-type"
    assert entries["t1"].assess("if (:\n  pass").misconception == "syntax-error"
    assert entries["t1"].assess("raise ValueError('x')").misconception == "raised-exception"
    assert entries["t1"].assess("while True:\n    pass").misconception == "raised-exception"


def test_function_exercise(entries):
    e = entries["psi"]
    assert e.assess(reference_psi).correct
    assert e.assess(None).status == UNANSWERED

    def todo(r, c, eps=1e-4):
        raise NotImplementedError()

    assert e.assess(todo).status == UNANSWERED
    kl = lambda r, c, eps=1e-4: float(np.sum(np.clip(c, eps, None) * np.log(np.clip(c, eps, None) / np.clip(r, eps, None))))  # noqa: E731
    assert e.assess(kl).misconception == "kl"
    boom = lambda r, c, eps=1e-4: 1 / 0  # noqa: E731
    v = e.assess(boom)
    assert v.misconception == "raised-exception" and "ZeroDivisionError" in v.message and "Traceback" not in v.message
    assert e.assess("not a function").misconception == "wrong-type"
    assert e.assess(lambda r, c, eps=1e-4: "0.1").misconception == "wrong-type"

    def forever(r, c, eps=1e-4):
        while True:
            pass

    assert e.assess(forever).misconception == "timeout"


def test_an_object_equal_to_everything_does_not_pass(entries):
    class Always:
        def __eq__(self, other):
            return True

        def __float__(self):
            return 0.0

    assert not entries["psi"].assess(lambda r, c, eps=1e-4: Always()).correct
    assert not close(canonical(Always()), 0.5, 1e-6)


def test_no_plain_answer_in_the_bank(entries):
    token = bank.encode({"t1": entries["t1"]})
    assert "True" not in token and "Using False" not in token
    assert bank.decode(token)["t1"] == entries["t1"]
    with pytest.raises(ValueError):
        bank.decode("dl1:not-base64!")


def test_solution_marks():
    src = "if x [1:<=] y and z [2:in] w:"
    assert blank_solution_marks(src) == "if x [1] y and z [2] w:"
    assert strip_solution_marks(src) == "if x <= y and z in w:"
    assert read_fills("if a [1] b:\n    f()", "if a   <= b:\n    f()") == {1: "<="}
    assert read_fills("{ [1]: [2] for [1] in x }", "{ k: v for k in x }") == {1: "k", 2: "v"}
    assert read_fills("if a [1] b:", "while a < b:") is None


def test_spec_errors_are_precise():
    with pytest.raises(SpecError, match="missing 'prompt'"):
        parse_spec("id: x\nkind: choice\ndifficulty: easy\ntitle: t\n")
    with pytest.raises(SpecError, match="not an option"):
        parse_spec("id: x\nkind: choice\ndifficulty: easy\nprompt: p\noptions: {A: a, B: b}\nanswer: C\n")
    with pytest.raises(ValueError, match="behaves exactly like the answer"):
        compile_entry(parse_spec(TASK1.replace('D: "0"', 'D: "1"')))


def test_practice_widget_feedback_attempts_hint():
    from driftlab.exercises.practice import PracticeWidget

    entry = compile_entry(parse_spec(
        "id: p\nkind: choice\ngraded: false\ndifficulty: easy\ntitle: P\nprompt: Why?\n"
        "options: {A: code, B: data, C: servers, D: never}\nanswer: B\nhints: [data changes]\n"
        "mistakes:\n  - {id: code-wrong, when: A, message: Thinking model code is always wrong}\n"
        "solution: [because data changes]\n"))
    w = PracticeWidget(entry)
    assert w.check() == UNANSWERED
    w.answer("A")
    assert w.check() == INCORRECT and "Thinking model code is always wrong" in w.feedback.value
    assert "✘" in w.feedback.value and w.attempts_left == 2
    w.show_hint()
    assert "data changes" in w.hint.value
    w.answer("B")
    assert w.check() == CORRECT and "✔" in w.feedback.value and "because data changes" in w.feedback.value
