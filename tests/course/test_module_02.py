"""Module 2 (Detecting data drift): the seed tasks' feedback, the PSI and other exercises' checks, and the
claims the notebook computes (1M-row p-value vs PSI, 20 tests -> 0.64, chi-square false alarms, Jensen-Shannon
in natural log as Evidently), re-computed here.

Run: .venv/bin/python -m pytest tests/course/test_module_02.py -q
"""
from __future__ import annotations

import dataclasses
import re

import nbformat
import numpy as np
import pytest
from scipy import stats
from scipy.special import rel_entr

from tests.support import errors, execute, release_path, results, solution_path
from driftlab.exercises import blanks
from driftlab.course import drift
from driftlab.exercises.entries import CORRECT, INCORRECT, UNANSWERED, UNREADABLE
from grader.exercises.source import compile_notebook, specs_in
MODULE = "02_detecting_drift"
SEED = {
    "detect-task1": {
        "prompt": "Complete the code to identify the main cause of model degradation in production.",
        "template": "if data_distribution_changes == [1]:\n    alert('Model performance may degrade')",
        "options": {"A": "True", "B": "False", "C": "None", "D": "0"},
        "answer": "A", "difficulty": "easy", "source": "seed task 1",
        "seed_mistakes": ["Using False instead of True", "Using None which is not a boolean"],
    },
    "detect-task3": {
        "prompt": "Fix the error in the code that checks for data drift.",
        "template": "if detect_data_drift() [1]:\n    retrain_model()",
        "options": {"A": "is False", "B": "!=", "C": "== None", "D": "is True"},
        "answer": "D", "difficulty": "hard", "source": "seed task 3",
        "seed_mistakes": ["Using 'is False' which means no drift", "Using '== None' which is incorrect for booleans"],
    },
}
GRADED = {"detect-task1", "detect-task3", "detect-psi", "detect-fwer", "detect-effect"}


@pytest.fixture(scope="module")
def source_nb():
    return nbformat.read(solution_path(MODULE), as_version=4)


@pytest.fixture(scope="module")
def specs(source_nb):
    return {spec.id: spec for _, spec in specs_in(source_nb)}


@pytest.fixture(scope="module")
def entries(source_nb):
    """What the instant checks get (visible cases only)."""
    return compile_notebook(source_nb)


@pytest.fixture(scope="module")
def hidden_entries(source_nb):
    """What the hidden tests get (hidden cases included)."""
    return compile_notebook(source_nb, hidden=True)


def _fill(entry, text):
    return blanks.fill(entry.template, {1: text})


# ------------------------------------------------------------------------------------------ seed tasks
@pytest.mark.parametrize("exercise", sorted(SEED))
def test_seed_task_is_exactly_the_seed(specs, exercise):
    spec, seed = specs[exercise], SEED[exercise]
    assert spec.prompt == seed["prompt"]
    assert spec.template == seed["template"]
    assert spec.options == {1: seed["options"]}
    assert spec.answer == {1: seed["answer"]}
    assert (spec.difficulty, spec.source, spec.graded) == (seed["difficulty"], seed["source"], True)
    messages = [m.message for m in spec.mistakes]
    for text in seed["seed_mistakes"]:  # each seed "common mistake" is a mistake message, verbatim
        assert any(m.startswith(text) for m in messages), text
    assert spec.hints and spec.solution and spec.note


@pytest.mark.parametrize("exercise", sorted(SEED))
def test_every_distractor_has_its_own_message(specs, entries, exercise):
    spec, entry = specs[exercise], entries[exercise]
    by_letter = {letter: m for m in spec.mistakes for letter in (m.when or {}).values()}
    distractors = [k for k in spec.options[1] if k != spec.answer[1]]
    assert sorted(by_letter) == sorted(distractors)
    seen = {}
    for letter in distractors:
        for form in (spec.options[1][letter], letter, f"'{letter}'"):  # the option's code, or its letter
            verdict = entry.assess(_fill(entry, form))
            assert verdict.status == INCORRECT, (letter, form)
            assert verdict.misconception == by_letter[letter].id, (letter, form, verdict)
            assert verdict.message == by_letter[letter].message
        seen[letter] = verdict.message
    assert len(set(seen.values())) == len(distractors)  # no two distractors share a message


def test_task3_not_equal_is_a_syntax_error_and_says_so(entries):
    entry = entries["detect-task3"]
    code = _fill(entry, "!=")
    with pytest.raises(SyntaxError):
        compile(code, "<answer>", "exec")
    verdict = entry.assess(code)
    assert verdict.misconception == "not-equal-syntax-error"
    assert "SyntaxError" in verdict.message


CORRECT_TASK1 = [
    "if data_distribution_changes == True:\n    alert('Model performance may degrade')",
    "if data_distribution_changes == A:\n    alert('Model performance may degrade')",
    "if data_distribution_changes:\n    alert('Model performance may degrade')",
    'if data_distribution_changes == True:\n    alert("Model performance may degrade")',
    "if data_distribution_changes   ==   True :\n\n    alert('Model performance may degrade')\n",
]
CORRECT_TASK3 = [
    "if detect_data_drift() is True:\n    retrain_model()",
    "if detect_data_drift() D:\n    retrain_model()",
    "if detect_data_drift():\n    retrain_model()",
    "if detect_data_drift() == True:\n    retrain_model()",
]


@pytest.mark.parametrize("code", CORRECT_TASK1)
def test_task1_equivalent_answers_are_accepted(entries, code):
    assert entries["detect-task1"].assess(code).status == CORRECT


def test_task1_is_checked_on_numpy_booleans(entries):
    """`== True` must work on np.True_ data (a probe binds it), so `is True` cannot pass there."""
    probes = entries["detect-task1"].probes
    assert {"data_distribution_changes": "np.True_"} in probes
    assert {"data_distribution_changes": "np.False_"} in probes
    namespace = {"data_distribution_changes": np.True_, "alert": lambda message: fired.append(message)}
    fired: list[str] = []
    exec(CORRECT_TASK1[0], namespace)  # noqa: S102 - our own snippet
    assert fired == ["Model performance may degrade"]
    verdict = entries["detect-task1"].assess("if data_distribution_changes is True:\n    alert('Model performance may degrade')")
    assert verdict.status == INCORRECT


@pytest.mark.parametrize("code", CORRECT_TASK3)
def test_task3_equivalent_answers_are_accepted(entries, code):
    assert entries["detect-task3"].assess(code).status == CORRECT


@pytest.mark.parametrize("exercise", sorted(SEED))
def test_untouched_and_unknown_answers(entries, exercise):
    entry = entries[exercise]
    assert entry.assess(entry.template).status == UNANSWERED
    assert entry.assess("").status == UNANSWERED
    verdict = entry.assess(_fill(entry, "and (1/0)"))
    assert verdict.status in (INCORRECT, UNREADABLE) and "Traceback" not in verdict.message  # not Python: no attempt


def test_task3_solution_explains_is_true_and_the_idiom(specs):
    text = " ".join(specs["detect-task3"].solution)
    assert "np.True_ is True" in text and "if detect_data_drift():" in text


# ------------------------------------------------------------------------------------------ PSI by hand
def _define(code: str, name: str):
    namespace = {"np": np}
    exec(code, namespace)  # noqa: S102 - test fixtures
    return namespace[name]


@pytest.mark.parametrize("which", ["entries", "hidden_entries"])
def test_psi_mistakes_are_each_recognised(specs, request, which):
    entry = request.getfixturevalue(which)["detect-psi"]
    ids = set()
    for mistake in specs["detect-psi"].mistakes:
        verdict = entry.assess(_define(mistake.code, "psi_from_shares"))
        assert verdict.misconception == mistake.id, (mistake.id, verdict)
        ids.add(verdict.misconception)
    assert ids == {"kl-not-psi", "swapped-log-ratio", "no-eps-floor", "absolute-difference", "log10-not-ln"}


def test_psi_reference_matches_grader_drift(entries):
    """The expected outputs (from the instructor's solution) equal scipy's KL(c||r) + KL(r||c)."""
    entry = entries["detect-psi"]
    for case, expected in zip(entry.cases, entry.expected):
        r, c = (np.maximum(np.asarray(a, dtype=float), 1e-4) for a in eval(case, {"np": np}))  # noqa: S307
        assert expected == pytest.approx(float(np.sum(rel_entr(c, r) + rel_entr(r, c))), abs=1e-8)


def test_psi_hidden_cases_cover_empty_bins_and_identical_inputs(hidden_entries):
    entry = hidden_entries["detect-psi"]
    cases = entry.cases
    assert "(np.full(10, 0.1), np.full(10, 0.1))" in cases
    assert entry.expected[cases.index("(np.full(10, 0.1), np.full(10, 0.1))")] == 0.0
    assert sum("0.0]" in c for c in cases) >= 3  # empty bins in the reference, the current, or both
    assert all(isinstance(v, float) and np.isfinite(v) for v in entry.expected)


BAD_PSI = {
    "returns an array (forgot to sum)": (
        "def psi_from_shares(r, c, eps=1e-4):\n"
        "    r = np.maximum(np.asarray(r, float), eps); c = np.maximum(np.asarray(c, float), eps)\n"
        "    return (c - r) * np.log(c / r)\n", "wrong-type"),
    "returns a string": ("def psi_from_shares(r, c, eps=1e-4):\n    return 'stable'\n", "wrong-type"),
    "returns None": ("def psi_from_shares(r, c, eps=1e-4):\n    sum((np.asarray(c) - np.asarray(r)))\n", "wrong-type"),
    "lists not converted": ("def psi_from_shares(r, c, eps=1e-4):\n    return float(sum((c - r) * np.log(c / r)))\n",
                            "raised-exception"),
    "raises inside": ("def psi_from_shares(r, c, eps=1e-4):\n    return 1 / 0\n", "raised-exception"),
    "endless loop": ("def psi_from_shares(r, c, eps=1e-4):\n    while True:\n        pass\n", "timeout"),
}


@pytest.mark.parametrize("label", sorted(BAD_PSI))
def test_psi_wrong_type_or_exception_gives_a_clear_message(entries, label):
    code, expected = BAD_PSI[label]
    entry = dataclasses.replace(entries["detect-psi"], timeout=1.0)
    verdict = entry.assess(_define(code, "psi_from_shares"))
    assert verdict.status == INCORRECT
    assert verdict.misconception == expected, verdict
    assert "Traceback" not in verdict.message and "psi_from_shares" in verdict.message
    assert "\n" not in verdict.message


def test_psi_unanswered_and_not_a_function(entries):
    entry = entries["detect-psi"]
    stub = _define("def psi_from_shares(r, c, eps=1e-4):\n    raise NotImplementedError()\n", "psi_from_shares")
    assert entry.assess(stub).status == UNANSWERED
    assert entry.assess(None).status == UNANSWERED
    assert entry.assess(0.02).misconception == "wrong-type"


def test_psi_always_equal_object_does_not_pass(entries):
    code = ("class Liar(float):\n    def __eq__(self, other):\n        return True\n"
            "def psi_from_shares(r, c, eps=1e-4):\n    return Liar(0.0)\n")
    assert entries["detect-psi"].assess(_define(code, "psi_from_shares")).status == INCORRECT


# ------------------------------------------------------------------------------------------ other graded
def test_fwer_mistakes_are_each_recognised(specs, hidden_entries, entries):
    for which in (entries, hidden_entries):
        entry = which["detect-fwer"]
        for mistake in specs["detect-fwer"].mistakes:
            assert entry.assess(_define(mistake.code, "family_wise_error")).misconception == mistake.id
        right = _define("def family_wise_error(n, a):\n    return 1 - (1 - a) ** n\n", "family_wise_error")
        assert entry.assess(right).status == CORRECT
    assert entries["detect-fwer"].expected[0] == pytest.approx(1 - (1 - 0.05) ** 20)


def test_effect_choice_distractors(specs, entries):
    spec, entry = specs["detect-effect"], entries["detect-effect"]
    assert entry.assess("B").status == CORRECT
    messages = set()
    for mistake in spec.mistakes:
        (letter,) = mistake.when.values()
        verdict = entry.assess(letter)
        assert verdict.misconception == mistake.id
        messages.add(verdict.message)
    assert len(messages) == 3


def test_exercise_list(specs):
    graded = {i for i, s in specs.items() if s.graded}
    practice = {i for i, s in specs.items() if not s.graded}
    assert graded == GRADED
    assert len(practice) >= 3
    for ident in practice:  # every practice distractor has its own message
        spec = specs[ident]
        letters = [letter for m in spec.mistakes for letter in m.when.values()]
        assert sorted(letters) == sorted(k for k in spec.options[1] if k != spec.answer[1])
        assert len({m.message for m in spec.mistakes}) == len(spec.mistakes)
    for spec in specs.values():
        assert spec.solution and spec.hints


# ------------------------------------------------------------------------------------------ notebooks
@pytest.fixture(scope="module")
def executed_solution():
    path = solution_path(MODULE)
    return execute(path, cwd=path.parent)


def _text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                out.append(o.text)
    return "".join(out)


def test_solution_runs_and_every_check_is_correct(executed_solution):
    assert errors(executed_solution) == []
    found = {r["exercise"]: r["status"] for r in results(executed_solution)}
    assert found == {ident: CORRECT for ident in GRADED}
    text = _text(executed_solution)
    assert "ALERT: Model performance may degrade" in text  # task 1's filled code really ran
    assert "RETRAIN:" in text  # task 3's too


def test_one_million_rows_claim_is_computed(executed_solution, source_nb):
    """KS p ~ 0 but PSI ~ 0.002 on 1M rows (500k + 500k) with a 0.05 SD shift: re-computed here, compared with
    what the notebook printed."""
    source = "\n".join(c.source for c in source_nb.cells)
    assert "default_rng(2026)" in source and source.count("500_000") == 2
    text = _text(executed_solution)
    match = re.search(r"KS: D = ([\d.]+), p-value = ([\d.e+-]+).*?\n\s*PSI = ([\d.]+)", text)
    assert match, "the notebook prints the 1M-row KS and PSI"
    rng = np.random.default_rng(2026)
    reference = rng.normal(0.0, 1.0, 500_000)
    current = rng.normal(0.05, 1.0, 500_000)
    d, p = drift.ks_test(reference, current)
    psi = drift.psi(reference, current)
    assert match.group(1) == f"{d:.4f}" and match.group(2) == f"{p:.3g}" and match.group(3) == f"{psi:.4f}"
    assert p < 1e-50 and 0.001 < psi < 0.004 and drift.psi_band(psi) == "stable"
    # sample size: the p-value collapses with n, PSI does not grow
    p_small = drift.ks_test(reference[:100], current[:100])[1]
    p_large = drift.ks_test(reference[:100_000], current[:100_000])[1]
    assert p_small > 0.05 > 1e-10 > p_large
    assert abs(drift.psi(reference[:100_000], current[:100_000]) - psi) < 0.001


def test_multiple_testing_claim_is_computed(executed_solution):
    text = _text(executed_solution)
    formula = re.search(r"Formula: P\(at least one alarm\) = .* = ([\d.]+)", text)
    simulated = re.search(r"at least one of the 20 alarms in ([\d.]+)% of them", text)
    assert formula and simulated
    expected = 1 - (1 - 0.05) ** 20
    assert formula.group(1) == f"{expected:.3f}"
    rng = np.random.default_rng(7)  # the notebook's simulation, re-run
    p_values = stats.ks_2samp(rng.normal(size=(300, 20, 100)), rng.normal(size=(300, 20, 40)), axis=-1).pvalue
    rate = (p_values <= 0.05).any(axis=1).mean()
    assert simulated.group(1) == f"{rate:.1%}".rstrip("%")
    assert abs(rate - expected) < 0.06  # the simulation confirms the formula (SE about 0.028)


# Computed once by Evidently 0.7.23 on Scenario(seed=0), full reference against month 6 (the same run as the
# table in tests/unit/test_drift.py): the region's Jensen-Shannon distance (its default for this column), and
# its jensenshannon stattest on income when asked for it (Sturges bins of both samples together).
EVIDENTLY_JS_REGION_MONTH6 = 0.23745458354074697
EVIDENTLY_JS_INCOME_MONTH6 = 0.13581156944819878


def test_evidently_claims_cite_their_source(source_nb):
    text = "\n".join(c.source for c in source_nb.cells if c.cell_type == "markdown")
    for source in ("docs.evidentlyai.com/reference/data-drift-algorithm", "registry.py", "chisquare_stattest.py",
                   "jensenshannon.py", "wasserstein_distance_norm.py", "Evidently 0.7.23"):
        assert source in text, source
    assert "natural log" in text and "√(ln 2)" in text
    assert "base-2 logarithms" not in text  # the old, wrong claim about Evidently


def test_jensen_shannon_claims_are_computed(executed_solution):
    """The notebook's region and income JS values are Evidently's (natural log), and base 2 is 1.20 times larger."""
    text = _text(executed_solution)
    region = re.search(r"region, month 6 -> driftlab.course.drift: ([\d.]+) \| scipy jensenshannon \(natural log\): "
                       r"([\d.]+) \| with base=2: ([\d.]+) \(([\d.]+) times larger\)", text)
    assert region, "the notebook prints the region's JS in both bases"
    assert region.group(1) == region.group(2) == f"{EVIDENTLY_JS_REGION_MONTH6:.4f}"
    assert region.group(3) == f"{EVIDENTLY_JS_REGION_MONTH6 / np.sqrt(np.log(2)):.4f}"
    assert region.group(4) == f"{1 / np.sqrt(np.log(2)):.2f}" == "1.20"
    sturges = re.search(r"on Evidently's bins \((\d+) Sturges bins of both samples together\): ([\d.]+)", text)
    assert sturges and sturges.group(2) == f"{EVIDENTLY_JS_INCOME_MONTH6:.4f}"


def test_chi_square_claims_are_computed(executed_solution, source_nb):
    """Region month 6: goodness of fit gives inf / p = 0 (new category); clean months: Evidently's goodness-of-fit
    test alarms far more often than alpha with 800 + 800 rows, the homogeneity test does not. Re-computed here."""
    text = _text(executed_solution)
    assert "driftlab.course.drift: chi2 = inf, p = 0 | scipy.stats.chisquare: chi2 = inf, p = 0" in text
    gof = re.search(r"goodness of fit \(Evidently's test\): false alarms in ([\d.]+)% of months \(approximation ([\d.]+)%\)", text)
    hom = re.search(r"homogeneity \(chi2_contingency\):\s+false alarms in ([\d.]+)% of months", text)
    real = re.search(r"\((\d+) comparisons\): goodness of fit alarms in (\d+), homogeneity in (\d+)\.", text)
    assert gof and hom and real
    source = "\n".join(c.source for c in source_nb.cells)
    assert "default_rng(12)" in source and "n_sim, n_ref_small, n_cur_small = 2000, 800, 800" in source
    from driftlab.course.simulation import Scenario
    shares = Scenario(seed=0).reference()["employment"].value_counts(normalize=True)
    rng = np.random.default_rng(12)
    ref = rng.multinomial(800, shares, size=2000)
    cur = rng.multinomial(800, shares, size=2000)
    p_gof = stats.chisquare(cur, ref, axis=1).pvalue
    p_hom = np.array([stats.chi2_contingency(np.vstack([r, c]), correction=False).pvalue for r, c in zip(ref, cur)])
    assert gof.group(1) == f"{np.mean(p_gof < 0.05):.1%}".rstrip("%")
    assert hom.group(1) == f"{np.mean(p_hom < 0.05):.1%}".rstrip("%")
    approximation = stats.chi2.sf(stats.chi2.isf(0.05, 2) / 2, 2)  # (1 + 800 / 800) times a chi-square, 2 df
    assert gof.group(2) == f"{approximation:.1%}".rstrip("%")
    assert np.mean(p_gof < 0.05) > 3 * 0.05 and abs(np.mean(p_gof < 0.05) - approximation) < 0.03
    assert abs(np.mean(p_hom < 0.05) - 0.05) < 0.015  # SE of a 5 % rate over 2,000 months: 0.005
    assert int(real.group(2)) > int(real.group(3))


def test_release_runs_untouched_with_everything_unanswered():
    path = release_path(MODULE)
    nb = execute(path, cwd=path.parent)
    assert errors(nb) == []
    found = {r["exercise"]: r["status"] for r in results(nb)}
    assert found == {ident: UNANSWERED for ident in GRADED}
    for cell in nb.cells:  # the setup cell shows no Session (with every exercise's text) under it
        for o in cell.get("outputs", []):
            assert "entries=" not in str(o.get("data", {}).get("text/plain", ""))


def test_release_gives_nothing_away():
    text = release_path(MODULE).read_text(encoding="utf-8")
    for leak in ("1.0 - (1.0 - alpha) ** n_tests", "np.maximum(np.asarray(reference_shares", "[1:True]",
                 "[1:is True]", "[1:B]", "BEGIN HIDDEN TESTS", "Step 3: Why `is True` works"):
        assert leak not in text, leak


def test_release_accepts_the_idiomatic_answers():
    """A learner's equivalent answers, typed into the release notebook, are correct in a real kernel."""
    path = release_path(MODULE)
    nb = nbformat.read(path, as_version=4)
    fills = {
        "%%answer detect-task1": "%%answer detect-task1\nif data_distribution_changes:\n    alert('Model performance may degrade')",
        "%%answer detect-task3": "%%answer detect-task3\nif detect_data_drift():\n    retrain_model()",
        "%%answer detect-effect": "%%answer detect-effect\nB",
        "def psi_from_shares": ("def psi_from_shares(reference_shares, current_shares, eps=1e-4):\n"
                                "    r = np.clip(np.array(reference_shares, dtype=float), eps, None)\n"
                                "    c = np.clip(np.array(current_shares, dtype=float), eps, None)\n"
                                "    return np.sum((c - r) * np.log(c / r))\n"),
        "def family_wise_error": "def family_wise_error(n_tests, alpha):\n    return 1 - np.prod(np.full(n_tests, 1 - alpha))\n",
    }
    done = set()
    for cell in nb.cells:
        for start, body in fills.items():
            if cell.cell_type == "code" and cell.source.startswith(start):
                cell.source = body
                done.add(start)
    assert done == set(fills)
    executed = execute(nb, cwd=path.parent)
    assert errors(executed) == []
    found = {r["exercise"]: r["status"] for r in results(executed)}
    assert found == {ident: CORRECT for ident in GRADED}
