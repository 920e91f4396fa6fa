"""One fair reader of answers (driftlab/exercises/answers.py), the same for the instant check and the judge.

Right answers written as people write them on other keyboards (fullwidth, Cyrillic and Greek look-alikes,
pasted invisible characters, a letter followed by prose, a placeholder inside a comment) read as meant;
their still-wrong neighbours stay wrong or unreadable. Kernel-free: the tiny module's compiled entries
(choice answer B; blank answer A, ``True``), with keys as the instant check holds them and keyless as the
grading kernel and the Test hold them; the judge calls the same ``assess``/``read``.
"""
from __future__ import annotations

import nbformat
import pytest

from driftlab.exercises.answers import normalise_code, read_choice, read_letter, typing_problem
from driftlab.exercises.entries import CORRECT, INCORRECT, RECORDED, UNANSWERED, UNREADABLE
from grader.exercises.source import compile_notebook
from grader.judge import _graded
from tests.integration import hostile

OPTIONS = {"A": "a large drift", "B": "the samples differ, by some amount", "C": "a broken model", "D": "nothing"}
ZWSP, BOM, SHY, WJ = "\u200b", "\ufeff", "\u00ad", "\u2060"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = hostile.write_tiny_module(tmp_path_factory.mktemp("tiny"))
    return compile_notebook(nbformat.read(path, as_version=4), hidden=True)


def _blank(fill: str) -> str:
    fill, _, comment = fill.partition("  #")  # a comment goes at the end of the line
    return f"if changed == {fill}:" + (f"  #{comment}" if comment else "") + "\n    alert('drift')"


@pytest.mark.parametrize("text,letter", [
    ("Ｂ", "B"), ("Ｄ．", "D"), ("（Ｃ）", "C"),  # fullwidth, from East-Asian input methods
    ("В", "B"), ("в", "B"), ("С.", "C"), ("Β", "B"), ("А", "A"),  # Cyrillic and Greek look-alikes
    (f"B{ZWSP}", "B"), (f"{BOM}B", "B"), (f"{ZWSP}b{SHY}.", "B"), (f"D{WJ}", "D"), ("\u00a0B\u3000", "B"),
    ("c because a <= also catches the boundary", "C"), ("C) A bug in the pipeline", "C"),
    ("B. The samples differ, by some amount", "B"), ("b because a p-value is not an effect size", "B"),
    ("В because а single check can mislead", "B"),  # Cyrillic letter, Cyrillic article
    ("D  # my first try was [1] = B", "D"), ("B  # not [1]", "B"),
    ("a broken", "C"),  # the start of option C's text, not the letter A
])
def test_a_right_answer_is_read_as_a_person_means_it(text, letter):
    assert read_choice(text, OPTIONS).letter == letter


@pytest.mark.parametrize("text,problem", [
    ("Д", "not-an-option"),  # Cyrillic De looks like no Latin letter
    ("Ｅ", "not-an-option"), ("A or B", "ambiguous"), ("A, C", "ambiguous"), ("В or A", "ambiguous"),
    ("Ａ／Ｂ", "ambiguous"), ("c because b is wrong", "ambiguous"), ("B or maybe A", "ambiguous"),
    (f"[1]{ZWSP}", "empty"), ("# [1]", "empty"), (f"{BOM}{ZWSP}", "empty"),
])
def test_a_neighbour_that_is_not_one_letter_is_still_not_read(text, problem):
    reading = read_choice(text, OPTIONS)
    assert reading.letter is None and reading.problem == problem


@pytest.mark.parametrize("text", ["Ｂ", "В", f"B{ZWSP}", f"{BOM}b", "b because a single check misleads",
                                  "B) A difference, by some amount", "B  # my first try was [1] = A"])
def test_a_respelled_choice_gets_the_verdict_of_its_plain_letter(tiny, text):
    entry = tiny["tiny-choice"]
    assert entry.assess(text).status == entry.assess("B").status == CORRECT
    keyless = entry.without_keys()
    assert keyless.assess(text).status == RECORDED and keyless.assess(text).message == keyless.assess("B").message
    assert entry.attempt_key(text) == entry.attempt_key("B")


def test_a_wrong_letter_with_prose_is_still_that_wrong_letter(tiny):
    entry = tiny["tiny-choice"]
    for text in ("a because a p-value this small is huge", "Ａ", "А) A large drift"):
        verdict = entry.assess(text)
        assert verdict.status == INCORRECT and verdict == entry.assess("A"), text


@pytest.mark.parametrize("fill", ["Ａ", "А", "Α", "(а)", f"True{ZWSP}", f"{BOM}True", f"Tr{SHY}ue", "\u00a0True",
                                  "Ｔｒｕｅ", "True  # first try was [1] = B"])
def test_a_right_blank_respelled_is_right_with_keys_and_recorded_without(tiny, fill):
    entry = tiny["tiny-blank"]
    assert entry.assess(_blank(fill)).status == CORRECT, entry.assess(_blank(fill))
    assert entry.without_keys().assess(_blank(fill)).status == RECORDED


@pytest.mark.parametrize("fill,cause", [
    ("true", "capital T"), ("TRUE", "capital T"), ("'True'", "drop the quotes"), ('"true"', "drop the quotes"),
    ("Тrue", "Cyrillic letter `Т`"), ("Е", "Cyrillic letter"), ("none", "capital N"), ("'0'", "drop the quotes"),
])
def test_a_blank_python_cannot_read_as_typed_is_unreadable_and_says_why(tiny, fill, cause):
    for entry in (tiny["tiny-blank"], tiny["tiny-blank"].without_keys()):
        verdict = entry.assess(_blank(fill))
        assert verdict.status == UNREADABLE and verdict.misconception == "not-python-as-typed", verdict
        assert cause in verdict.message
    graded = _graded(tiny["tiny-blank"].assess(_blank(fill)))  # at grading: 0 points, the same message
    assert graded.status == INCORRECT and cause in graded.message


def test_a_wrong_blank_respelled_is_still_its_mistake_and_one_attempt(tiny):
    entry = tiny["tiny-blank"]
    spellings = ["B", "False", "(b)", "В", "Ｆａｌｓｅ", "False  # [1]"]
    verdicts = {entry.assess(_blank(f)) for f in spellings}
    assert len(verdicts) == 1 and next(iter(verdicts)).misconception == "false-not-true"
    assert len({entry.attempt_key(_blank(f)) for f in spellings}) == 1
    assert entry.attempt_key(_blank("D")) == entry.attempt_key(_blank("0"))
    assert entry.attempt_key(_blank("B")) != entry.attempt_key(_blank("C"))
    assert entry.assess(_blank("2")).status == INCORRECT  # a real wrong value is judged, not refused


def test_a_placeholder_only_in_a_comment_is_not_an_empty_blank(tiny):
    entry = tiny["tiny-blank"]
    assert entry.assess(_blank("[1]")).status == UNANSWERED
    assert entry.assess("# [1]\n" + _blank("A")).status == CORRECT


def test_code_is_normalised_outside_strings_only_and_keeps_what_the_template_holds():
    code = "if x ＝＝ Ｔｒｕｅ\u200b:  # ｎｏｔｅ\n    alert('Ｂ\u200b', \"＃\")"
    assert normalise_code(code) == "if x == True:  # note\n    alert('Ｂ', \"＃\")"
    assert normalise_code("alert('a\u200db')", keep="\u200d") == "alert('a\u200db')"
    valid = "total = sum(x for x in range(3))  # ok\ns = 'é'"
    assert normalise_code(valid) == valid


def test_no_option_is_refused_as_not_python_and_a_letter_needs_a_letter():
    for code in ("True", "False", "None", "0", "is True", "== None", ">=", "1 - proba", "feature"):
        assert typing_problem(code, [code]) is None
    # code that no longer follows the template: a name it defines, or a Greek name of its own, is Python
    assert typing_problem("α = 0.05\nif p < α:\n    alert('x')", whole_code=True) is None
    assert typing_problem("true = changed\nif true:\n    alert('x')", whole_code=True) is None
    assert "capital T" in typing_problem("if changed is true:\n    alert('x')", whole_code=True)
    assert read_letter("Ａ", ("A", "B")) == "A" and read_letter("Д", ("A", "D")) is None
