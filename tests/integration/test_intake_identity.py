"""Intake (issue 22, items 1, 8, 9): who a file belongs to, damaged zips, and tampering notes as hints.

1. Identity comes only from the level the LMS (or nbgrader's ``submitted/STUDENT/MODULE/``) writes: a
   learner's own upload that holds a classmate's Moodle folder, ``submitted/carol/…``, a Canvas name or
   a ``STUDENT__MODULE`` name cannot be graded as that classmate, nor push the classmate's own file
   aside as "superseded". Kernel-free through ``discover()`` and ``driftlab grade --dry-run``; then one
   real upload through plain ``nbgrader autograde`` (course config) and ``driftlab grade``.
2. A damaged or lying zip entry is listed as unreadable, the rest is extracted and graded.
3. The "suspicious code" patterns are hints: easy to hide, worded as hints, and never change points.
"""
from __future__ import annotations

import copy
import csv
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import nbgrader as R
from grader.batch import intake as ik
from grader.batch import report as rp
from grader.batch import results as res
from tests.integration import hostile

TINY = hostile.TINY
MODULES = ["02_detecting_drift", "08_test", TINY]


def _put(root: Path, rel: str, data: bytes, age: float = 0.0) -> Path:
    """Write a file; ``age`` seconds in the past (a negative age: newer than now)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (time.time() - age, time.time() - age))
    return path


# Each layout: the classmate's own file, the submitter's own file, and the forged file nested inside
# the submitter's upload (newer, and named like the release, so that the old innermost rule took it).
NESTED = {
    "moodle": {
        "own": ("Bob Roe_456_assignsubmission_file_/08_test.ipynb", "456"),
        "mine": ("Ann Lee_123_assignsubmission_file_/08_test.ipynb", "123"),
        "forged": "Ann Lee_123_assignsubmission_file_/Bob Roe_456_assignsubmission_file_/08_test.ipynb",
        "owner": "Moodle participant 123 (Ann Lee)", "looks": "Moodle folder of Moodle participant 456",
    },
    "nbgrader": {
        "own": ("submitted/carol/08_test/08_test.ipynb", "carol"),
        "mine": ("submitted/alice/08_test/08_test.ipynb", "alice"),
        "forged": "submitted/alice/08_test/submitted/carol/08_test/08_test.ipynb",
        "owner": "learner 'alice'", "looks": "nbgrader's folder of learner 'carol'",
    },
    "nbgrader without submitted/": {
        "own": ("download/carol/08_test/08_test.ipynb", "carol"),
        "mine": ("download/alice/08_test/08_test.ipynb", "alice"),
        "forged": "download/alice/08_test/carol/08_test/08_test.ipynb",
        "owner": "learner 'alice'", "looks": "nbgrader's folder of learner 'carol'",
    },
    "plain name in an nbgrader folder": {
        "own": ("carol__08_test.ipynb", "carol"),
        "mine": ("submitted/alice/08_test/08_test.ipynb", "alice"),
        "forged": "submitted/alice/08_test/carol__08_test.ipynb",
        "owner": "learner 'alice'", "looks": "a file of learner 'carol' (STUDENT__MODULE)",
    },
    "Canvas name in a Moodle folder": {
        "own": ("canvas/roejim_7_50_08_test.ipynb", "7"),
        "mine": ("Ann Lee_123_assignsubmission_file_/08_test.ipynb", "123"),
        "forged": "Ann Lee_123_assignsubmission_file_/roejim_7_99_08_test.ipynb",
        "owner": "Moodle participant 123 (Ann Lee)", "looks": "a Canvas file of Canvas user 7 (roejim)",
    },
    "plain name in a Moodle folder": {
        "own": ("wrapped/twice/carol__08_test.ipynb", "carol"),
        "mine": ("wrapped/Ann Lee_123_assignsubmission_file_/08_test.ipynb", "123"),
        "forged": "wrapped/Ann Lee_123_assignsubmission_file_/sub/carol__08_test.ipynb",
        "owner": "Moodle participant 123 (Ann Lee)", "looks": "a file of learner 'carol' (STUDENT__MODULE)",
    },
}


@pytest.mark.parametrize("layout", sorted(NESTED))
def test_a_classmates_file_inside_a_learners_upload_stays_the_uploaders_extra_file(tmp_path, layout):
    case = NESTED[layout]
    (own, classmate), (mine, me) = case["own"], case["mine"]
    _put(tmp_path, own, b"classmate's own", age=100)
    _put(tmp_path, mine, b"uploader's own", age=100)
    _put(tmp_path, case["forged"], b"forged", age=-100)  # newer than both
    found = ik.discover(tmp_path, MODULES)
    graded = {s.raw_student: s.path.read_bytes() for s in found.submissions}
    assert graded == {classmate: b"classmate's own", me: b"uploader's own"}
    reasons = {u.origin: u.reason for u in found.unmatched}
    assert set(reasons) == {case["forged"]}  # the classmate's file is not "superseded", nor a copy
    why = reasons[case["forged"]]
    assert why.startswith("an extra file inside the submission of " + case["owner"]), why
    assert case["looks"] in why and "never counted as that learner's" in why


def test_a_canvas_file_named_like_a_classmates_is_the_uploaders():
    """Canvas writes its prefix first: whatever name the learner gave the file comes after it."""
    for name in ("doejane_5_100_roejim_7_999_08_test.ipynb", "doejane_5_100_carol__08_test.ipynb"):
        pattern, student, module, order, extra = ik.classify(Path(name), MODULES)
        assert (pattern, student, module, order, extra["name"]) == ("canvas", "5", "08_test", (100,), "doejane")


def test_nbgrader_subfolders_hold_extra_files_and_only_the_assignment_level_is_graded(tmp_path):
    _put(tmp_path, "course/submitted/alice/08_test/08_test.ipynb", b"alice", age=100)
    _put(tmp_path, "course/submitted/alice/08_test/data/drift.csv", b"a,b")
    _put(tmp_path, "course/submitted/alice/08_test/drafts/08_test.ipynb", b"draft", age=-100)
    _put(tmp_path, "course/submitted/bob/08_test/drafts/08_test.ipynb", b"bob's draft only")
    _put(tmp_path, "Ann Lee_123_assignsubmission_file_/work/08_test.ipynb", b"moodle subfolder")
    found = ik.discover(tmp_path, MODULES)
    assert {s.raw_student: s.path.read_bytes() for s in found.submissions} == {
        "alice": b"alice", "123": b"moodle subfolder"}  # a Moodle learner's own subfolder is theirs
    reasons = {u.origin: u.reason for u in found.unmatched}
    assert reasons["course/submitted/alice/08_test/data/drift.csv"] == "not a notebook (.ipynb)"
    for rel, who in [("course/submitted/alice/08_test/drafts/08_test.ipynb", "alice"),
                     ("course/submitted/bob/08_test/drafts/08_test.ipynb", "bob")]:
        assert reasons[rel].startswith(f"an extra file inside the submission of learner '{who}' "
                                       f"(course/submitted/{who}/08_test/), in a subfolder"), reasons[rel]


# ------------------------------------------------------------------------------------- damaged zips

def _central(data: bytearray, name: str) -> int:
    """Offset of ``name``'s central-directory record in a zip's bytes."""
    pos = 0
    while True:
        pos = data.index(b"PK\x01\x02", pos)
        size = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46:pos + 46 + size]) == name.encode():
            return pos
        pos += 4


def damaged_zip(path: Path, good: dict[str, bytes]) -> Path:
    """``good`` entries, one written with ``ZipFile.writestr`` (no file-type bits) and one as a Windows
    tool writes it (no Unix mode at all), plus three damaged ones: a wrong CRC-32, a deflated entry whose
    declared size is smaller than its data, a stored entry whose declared size is larger than its data."""
    names = list(good)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(names[0], good[names[0]])  # external_attr = 0o600 << 16: permissions, no file type
        windows = zipfile.ZipInfo(names[1], date_time=(2026, 1, 2, 3, 4, 6))
        windows.create_system, windows.external_attr = 0, 0x20  # MS-DOS "archive" attribute only
        zf.writestr(windows, good[names[1]])
        for name in names[2:]:
            zf.writestr(name, good[name])
        zf.writestr("bad-crc__08_test.ipynb", b"{}" * 500)
        zf.writestr("shrunk__08_test.ipynb", b"x" * 50_000)
        zf.writestr(zipfile.ZipInfo("grown__08_test.ipynb"), b"y" * 500, compress_type=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, _central(data, "bad-crc__08_test.ipynb") + 16, 0xDEADBEEF)
    struct.pack_into("<I", data, _central(data, "shrunk__08_test.ipynb") + 24, 100)  # says 100 bytes
    at = _central(data, "grown__08_test.ipynb")
    struct.pack_into("<II", data, at + 20, 60_000, 60_000)  # says 60 kB, holds 500 bytes
    path.write_bytes(bytes(data))
    return path


GOOD = {"ann__08_test.ipynb": b'{"ann": 1}', "bea__08_test.ipynb": b'{"bea": 1}',
        "submitted/cy/08_test/08_test.ipynb": b'{"cy": 1}'}
DAMAGED = ["bad-crc__08_test.ipynb", "shrunk__08_test.ipynb", "grown__08_test.ipynb"]


def test_a_damaged_zip_entry_is_listed_and_the_rest_is_extracted(tmp_path):
    archive = damaged_zip(tmp_path / "download.zip", GOOD)
    folder, skipped = ik.open_input(archive, tmp_path / "work")
    found = ik.discover(folder, MODULES)
    assert {s.origin: s.path.read_bytes() for s in found.submissions} == GOOD  # no mode bits: ordinary files
    reasons = {u.origin: u.reason for u in skipped}
    assert set(reasons) == set(DAMAGED)
    for name in DAMAGED:
        assert reasons[name].startswith("unreadable zip entry: damaged or its declared size lies"), reasons[name]
        assert not (folder / name).exists()  # no half-written file left to be graded
    assert "Bad CRC-32" in reasons["bad-crc__08_test.ipynb"]


def test_sizes_are_counted_as_extracted_and_capped(tmp_path, monkeypatch):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(5):
            zf.writestr(f"s{i}__08_test.ipynb", b"z" * 4000)
        zf.writestr("huge__08_test.ipynb", b"z" * 9000)
    monkeypatch.setattr(ik, "MAX_ENTRY_BYTES", 8000)
    monkeypatch.setattr(ik, "MAX_TOTAL_BYTES", 10_000)  # room for two 4 kB entries
    declared = ik._zip_skip_reason  # pretend the huge entry's header hides its size: only counting can stop it
    monkeypatch.setattr(ik, "_zip_skip_reason", lambda info: None if "huge" in info.filename else declared(info))
    folder, skipped = ik.open_input(archive, tmp_path / "work")
    reasons = {u.origin: u.reason for u in skipped}
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == ["s0__08_test.ipynb", "s1__08_test.ipynb"]
    assert sum(p.stat().st_size for p in folder.iterdir()) <= 10_000
    assert all("past the" in reasons[f"s{i}__08_test.ipynb"] for i in (2, 3, 4))
    assert "when extracted" in reasons["huge__08_test.ipynb"]  # stopped while extracting, not by its header


def test_a_zip_whose_table_of_contents_is_damaged_is_one_clear_error(tmp_path, capsys, course):
    archive = damaged_zip(tmp_path / "download.zip", GOOD)
    (tmp_path / "cut.zip").write_bytes(archive.read_bytes()[:-30])  # the end record cut off
    with pytest.raises(ik.DriftLabError, match="damaged zip"):
        ik.open_input(tmp_path / "cut.zip", tmp_path / "work")
    from grader.cli import main

    code = main(["grade", str(tmp_path / "cut.zip"), "--out", str(tmp_path / "out"), "--course", str(course),
                 "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "cut.zip" in err and "not a readable zip" in err, err


# ----------------------------------------------------------------------- the same through the command

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return hostile.tiny_course(tmp_path_factory.mktemp("course") / "course")


def _dry_run(source: Path, course: Path, out: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(source), "--out", str(out), "--course", str(course),
           "--dry-run"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def _listing(stdout: str) -> tuple[dict[str, str], dict[str, str]]:
    """The dry run's ``grade ORIGIN -> learner X, …`` and ``skip ORIGIN: REASON`` lines, by origin."""
    graded, skipped = {}, {}
    for line in stdout.splitlines():
        if line.startswith("grade  "):
            origin, _, rest = line[7:].partition("  ->  learner ")
            graded[origin] = rest.split(",")[0].split(" (")[0]
        elif line.startswith("skip   "):
            origin, _, reason = line[7:].partition(": ")
            skipped[origin] = reason
    return graded, skipped


LAYOUTS = ["moodle", "nbgrader", "Canvas name in a Moodle folder"]  # learners distinct across these three


def test_the_dry_run_reads_identity_from_the_lms_level_and_lists_damaged_entries(tmp_path, course):
    subs = tmp_path / "subs"
    for case in map(NESTED.get, LAYOUTS):
        for rel, _ in (case["own"], case["mine"]):
            _put(subs, rel.replace("08_test", TINY), b"{}", age=100)
        _put(subs, case["forged"].replace("08_test", TINY), b"{}", age=-100)
    archive = damaged_zip(tmp_path / "download.zip", {k.replace("08_test", TINY): v for k, v in GOOD.items()})
    with zipfile.ZipFile(archive, "a") as zf:
        for path in sorted(p for p in subs.rglob("*") if p.is_file()):
            zf.write(path, f"export/{path.relative_to(subs).as_posix()}")
    proc = _dry_run(archive, course, tmp_path / "out")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    graded, skipped = _listing(proc.stdout)
    expected = {f"export/{rel.replace('08_test', TINY)}": who for case in map(NESTED.get, LAYOUTS)
                for rel, who in (case["own"], case["mine"])}
    expected.update({k.replace("08_test", TINY): k.split("__")[0] if "__" in k else "cy" for k in GOOD})
    assert graded == expected
    for case in map(NESTED.get, LAYOUTS):
        why = skipped[f"export/{case['forged'].replace('08_test', TINY)}"]
        assert why.startswith(f"an extra file inside the submission of {case['owner']}"), why
    for name in DAMAGED:
        assert skipped[name].startswith("unreadable zip entry"), skipped  # damaged before any name is read
    assert not any("superseded" in r or r.startswith("a copy") for r in skipped.values()), skipped


# ------------------------------------------------------------------------- tampering notes are hints

# The tracer of hostile.SETTRACE, installed through getattr and a built name: no pattern sees it.
HIDDEN_TRACER = hostile.SETTRACE.replace("sys.settrace(_tracer)", "getattr(sys, 'set' + 'trace')(_tracer)") \
    .replace("threading.settrace(_tracer)", "getattr(threading, 'set' + 'trace')(_tracer)")


def test_tampering_patterns_are_hints_easy_to_hide_and_worded_so(tmp_path):
    cell = nbformat.v4.new_code_cell
    plain = nbformat.v4.new_notebook(cells=[cell(hostile.SETTRACE)])
    hidden = nbformat.v4.new_notebook(cells=[cell(HIDDEN_TRACER)])
    assert ik.suspicious(plain) == ["tracer installed"]  # the cheap pattern is kept …
    assert ik.suspicious(hidden) == []  # … and is evaded by a built name
    notes = ik.prepare(nbformat.writes(plain).encode()).notes
    assert notes == [ik.HINT_NOTE + "tracer installed"]
    assert notes[0].startswith("hint for review, not a verdict (") and "never changes points" in notes[0]
    assert ik.prepare(nbformat.writes(hidden).encode()).notes == []
    row = res.Row("ann", TINY, res.GRADED, score=0.0, max_score=4.0, notes="; ".join(notes))
    text = rp.render([row], [], tmp_path / "report.html").read_text()
    assert "Hints for review (1)" in text and "not a verdict" in text and "tracer installed" in text
    for doc in ["README.md", "docs/GRADING.md", "grader/batch/report.py", "grader/batch/cli.py"]:
        words = (hostile.ROOT / doc).read_text().lower()
        assert "suspicious code" not in words, doc  # the old wording, read as a verdict
        for line in words.splitlines():  # where hints are described, they are never called proof
            if "hint for review" in line or "hints for review" in line:
                assert not any(w in line for w in ("evidence", "proof of", "cheater", "caught")), (doc, line)
    assert "not a verdict" in (hostile.ROOT / "docs/GRADING.md").read_text()


# ---------------------------------------------------------- one real upload: plain nbgrader, driftlab grade

def _grades(out: Path) -> dict[tuple[str, str], dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {(r["student_id"], r["module"]): r for r in csv.DictReader(fh)}


@pytest.mark.slow
def test_a_classmates_full_marks_inside_an_upload_move_no_grade_in_either_pipeline(tmp_path):
    from grader.batch import workers as wk

    source, out = hostile.tiny_course(tmp_path / "source"), tmp_path / "out"
    template, broken = wk.template_course(out / ".work" / "cache", [TINY], source)  # driftlab grade reuses it
    assert not broken, broken
    course = tmp_path / "course"  # plain nbgrader grades in a copy of the same generated course
    shutil.copytree(template, course)
    right, wrong = hostile.answered(TINY, "right", course), hostile.answered(TINY, "wrong", course)
    full = hostile.max_score(TINY, course)
    hidden = hostile._dump(hostile._after_setup(copy.deepcopy(wrong), HIDDEN_TRACER))
    release = f"{TINY}.ipynb"
    upload = {  # nbgrader's submitted/: alice's folder also holds a full-marks "carol" notebook (newer)
        f"submitted/alice/{TINY}/{release}": hostile._dump(right),
        f"submitted/alice/{TINY}/submitted/carol/{TINY}/{release}": hostile._dump(right),  # alice's extra file
        f"submitted/carol/{TINY}/{release}": hostile._dump(wrong),
    }
    for rel, data in upload.items():
        _put(tmp_path / "upload", rel, data, age=-100 if rel.count("/") > 3 else 100)
        _put(course, rel, data)

    # plain nbgrader autograde with the course config
    R.run_nbgrader(course, "autograde", TINY, "--create", "--force", "--Execute.timeout=20", check=False, timeout=600)
    plain = {s: R.total_score(course, TINY, s)[0] for s in ("alice", "carol")}
    assert plain == {"alice": full, "carol": 0.0}, plain

    # driftlab grade on the same upload (one worker), with dave: wrong answers + a tracer no pattern sees
    _put(tmp_path / "upload", f"submitted/dave/{TINY}/{release}", hidden)
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(tmp_path / "upload"), "--out", str(out), "--jobs", "1",
           "--timeout", "20", "--course", str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _grades(out)
    scores = {s: float(r["score"]) for (s, _), r in rows.items()}
    assert scores == {"alice": full, "carol": 0.0, "dave": 0.0}, scores
    assert rows[("carol", TINY)]["source"] == f"submitted/carol/{TINY}/{release}"
    assert "hint for review" not in rows[("dave", TINY)]["notes"]  # not flagged; the judge gave 0 all the same
    with open(out / "unmatched.csv", newline="", encoding="utf-8") as fh:
        unmatched = {r["file"]: r["reason"] for r in csv.DictReader(fh)}
    assert unmatched[f"submitted/alice/{TINY}/submitted/carol/{TINY}/{release}"].startswith(
        "an extra file inside the submission of learner 'alice'")
    assert len(unmatched) == 1  # carol's own file is not "superseded"
