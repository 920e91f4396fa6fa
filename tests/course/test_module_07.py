"""Module 07 (the Test): exam mode reveals nothing before the final cell, whose score equals nbgrader's."""
from __future__ import annotations

import nbformat
import pytest
from tests.support import RESULT_MIME, errors, execute, fill_release, results, solution_path

from grader import nbgrader as R
from grader.exercises.source import specs_in
MODULE = "07_test"
SEED = {"test-q1": "seed MCQ 1", "test-q2": "seed MCQ 2", "test-q3": "seed MCQ 3", "test-q4": "seed MCQ 4",
        "test-q5": "seed MCQ 5"}
# wrong on q2 (easy, 1), q4 (medium, 2), q6 (easy, 1), q8 (hard, 3), q10 (hard, 3): 10 of 20 points lost
HALF_RIGHT = {"test-q2": "A", "test-q4": "B", "test-q6": "A", "test-q8": "D", "test-q10": "C"}
REVEALING = ("✔", "✘", "Correct", "Not yet", "not correct", "incorrect")


@pytest.fixture(scope="module")
def solution():
    return nbformat.read(solution_path(MODULE), as_version=4)


def test_ten_questions_across_difficulties(solution):
    specs = [s for _, s in specs_in(solution)]
    assert len(specs) == 10 and all(s.kind == "choice" and s.graded for s in specs)
    assert {s.difficulty for s in specs} == {"easy", "medium", "hard"}
    assert {s.id: s.source for s in specs if s.source} == SEED
    assert all(len(s.mistakes) == 3 and len({m.id for m in s.mistakes}) == 3 for s in specs)
    assert 'start("07_test", exam=True)' in solution.cells[1].source
    assert solution.cells[-1].source.strip() == "results()"
    # exercise ids differ from the modules that also carry the seed MCQs
    assert not {s.id for s in specs} & {"why-mcq1", "why-mcq2", "thresh-mcq3", "thresh-mcq4"}


def _final_index(nb) -> int:
    return max(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip() == "results()")


def _assert_nothing_revealed_before_final(nb):
    final = _final_index(nb)
    for cell in nb.cells[:final]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            shown = " ".join(str(data.get(k, "")) for k in ("text/html", "text/plain", "text/markdown"))
            shown += out.get("text", "")
            for word in REVEALING:
                assert word not in shown, f"revealed {word!r} before the final cell: {shown[:200]}"
            if RESULT_MIME in data:
                record = data[RESULT_MIME]
                assert record["status"] in ("recorded", "unanswered") and record["misconception"] is None


def _final_record(nb) -> dict:
    final = nb.cells[_final_index(nb)]
    return next(out["data"][RESULT_MIME] for out in final.outputs if RESULT_MIME in out.get("data", {}))


@pytest.mark.slow
def test_exam_reveals_nothing_and_the_judge_scores_and_explains_after_grading(tmp_path, solution):
    course = R.make_course(tmp_path / "course", modules=[MODULE])
    R.generate(course, MODULE)
    name = solution_path(MODULE).name
    release = nbformat.read(course / "notebooks" / MODULE / name, as_version=4)
    submissions = {"solution": fill_release(release, solution),
                   "half": fill_release(release, solution, HALF_RIGHT)}
    for student, nb in submissions.items():
        path = tmp_path / f"{student}.ipynb"
        nbformat.write(nb, path)
        ran = execute(path, cwd=tmp_path)  # as the learner runs it, before submitting
        assert errors(ran) == []
        _assert_nothing_revealed_before_final(ran)
        checks = [r for r in results(ran) if "exercise" in r]
        assert len(checks) == 10 and all(r["status"] == "recorded" for r in checks)
        final = _final_record(ran)
        assert final["answered"] == 10 and "score" not in final  # the learner's file cannot know the score
        html = next(o["data"]["text/html"] for o in ran.cells[_final_index(ran)].outputs if "text/html" in o.get("data", {}))
        assert "10 of 10 answers recorded" in html and "Worked solution" not in html
        R.submit(course, student, MODULE, path, name)
    proc = R.autograde(course, MODULE)
    assert proc.returncode == 0, proc.stderr[-3000:]

    scores = {student: R.total_score(course, MODULE, student) for student in submissions}
    assert scores == {"solution": (20, 20), "half": (10, 20)}
    cells = R.cell_scores(course, MODULE, "half")
    assert {g[: -len("-test")] for g, c in cells.items() if c.score == 0} == set(HALF_RIGHT)
    graded = nbformat.read(course / "autograded" / "half" / MODULE / name, as_version=4)
    verdicts = [r for r in results(graded) if r.get("judge")]
    assert len(verdicts) == 10  # after grading, every question carries the judge's verdict …
    assert {r["exercise"] for r in verdicts if r["status"] == "incorrect"} == set(HALF_RIGHT)
    assert all(r["misconception"] for r in verdicts if r["status"] == "incorrect")  # … naming the mistake
    shown = "".join(o["data"].get("text/html", "") for c in graded.cells for o in c.get("outputs", [])
                    if o.get("output_type") == "display_data")
    assert shown.count("Worked solution") == 10  # … and its worked explanation, for the feedback


def _decoded_texts(raw: str) -> list[str]:
    """Everything a learner can decode from the file with the standard library: every base64 run,
    inflated when it is zlib, and the JSON inside."""
    import base64
    import json
    import re
    import zlib

    texts = [raw]
    for run in re.findall(r"[A-Za-z0-9+/=]{40,}", raw):
        try:
            blob = base64.b64decode(run + "=" * (-len(run) % 4))
        except ValueError:
            continue
        for data in (blob,):
            try:
                data = zlib.decompress(data)
            except zlib.error:
                pass
            try:
                texts.append(json.dumps(json.loads(data)))
            except ValueError:
                texts.append(data.decode("latin-1"))
    return texts


def test_the_released_test_holds_no_key(solution):
    """Decode everything in the Test's release: no answer, no hash of one, no worked solution, hint or mistake."""
    from driftlab.exercises.entries import digest
    from tests.support import compiled, release_path

    raw = release_path(MODULE).read_text(encoding="utf-8")
    everything = "\n".join(_decoded_texts(raw))
    assert len(everything) > len(raw)  # the bank was found and decoded
    keys = compiled(MODULE)
    specs = {s.id: s for _, s in specs_in(solution)}
    for exercise, entry in keys.items():
        spec = specs[exercise]
        for letter in spec.options[1]:  # no salted hash of any option, right or wrong
            assert digest(entry.salt, letter) not in everything and digest(entry.salt, f"1|{letter}") not in everything
        for text in (*spec.solution, *spec.hints, *(m.message for m in spec.mistakes), spec.note):
            if text and len(text) > 12:
                assert text[:60] not in everything, (exercise, text[:60])
    assert "Final Answer" not in everything
    shipped = next(t for t in _decoded_texts(raw) if '"has_keys"' in t)  # the bank, decoded
    assert '"has_keys": true' not in shipped and '"has_keys": false' in shipped
    assert "hint" not in next(c.source for c in nbformat.reads(raw, 4).cells if c.cell_type == "code")


@pytest.mark.slow
def test_hint_in_the_test_gives_nothing(tmp_path):
    from tests.support import release_path

    nb = nbformat.read(release_path(MODULE), as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell('from driftlab.exercises import hint\nhint("test-q1")\nhint("test-q8")'))
    ran = execute(nb, cwd=tmp_path)
    assert errors(ran) == []
    text = "".join(o.get("text", "") for o in ran.cells[2].outputs)
    assert text.count("Hints are not available in the Test.") == 2
