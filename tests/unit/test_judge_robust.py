"""Whatever a grading kernel sends, the judge grades: a bad report costs that exercise, never the notebook.

Kernel-free: the tolerance comparison, the function judge and the judge's reading of a test cell's
report, the safe unpacker of kernel messages (grader/sandbox/messages.py) and the message guard around
nbclient, and JudgeTestCells on a whole notebook whose function report is malformed.
"""
from __future__ import annotations

import json
import math

import nbformat
import pytest
from jupyter_client.session import Session
from nbformat.v4 import new_output, output_from_msg

from driftlab.exercises.entries import CORRECT, INCORRECT, UNANSWERED, FunctionEntry
from driftlab.exercises.entries.base import MistakeNote
from driftlab.exercises.probing import Outcome, canonical, close
from driftlab.protocol import OUTPUTS_MIME, RESULT_MIME, TEST_SUFFIX
from grader import judge as J
from grader.nbgrader import ROOT
from grader.sandbox import messages as M
from tests.integration import hostile


def nested(depth: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def entry() -> FunctionEntry:
    return FunctionEntry(id="f", title="f", difficulty="easy", name="f", cases=("(1,)", "(2,)"), expected=(0.5, 2.0),
                         mistake_outputs=((1.0, 4.0),), mistakes=(MistakeNote("doubled", "Doubled."),))


def outcomes(*values: object) -> list[Outcome]:
    return [Outcome(value=v) for v in values]


# ------------------------------------------------------------------------------ numbers and types

@pytest.mark.parametrize("got,expected,same", [
    (10**400, 0.5, False), (0.5, 10**400, False), (10**400, 10**400, True), (-(10**400), 1e308, False),
    (float("nan"), 0.5, False), (float("inf"), 1e308, False), ("nan", 0.5, False), ("inf", math.inf, False),
    (2, 2.0, True), (True, 1.0, False), ([0.5], 0.5, False), ({"a": 1}, [1], False), (None, 0.0, False),
    ([10**400, 1], [0.5, 1], False), (nested(500), [1], False),
])
def test_close_never_raises_and_only_matches_equal_numbers(got, expected, same):
    assert close(got, expected, 1e-9) is same


def test_canonical_keeps_numbers_json_able_whatever_their_size():
    import numpy as np
    assert canonical(np.float64(0.25)) == 0.25 and type(canonical(np.int64(3))) is int
    assert canonical(10**400) == 10**400  # big, but JSON can carry it
    tag = canonical(10**5000)  # past Python's int<->str limit: JSON could not
    assert isinstance(tag, str) and "digits" in tag
    json.dumps([canonical(float("nan")), canonical(-math.inf), tag])


@pytest.mark.parametrize("values,words", [
    ((10**400, 2.0), "which is not right"), (("nan", 2.0), "not a finite number"), (("-inf", 2.0), "not a finite"),
    ((nested(3000), 2.0), "cannot be shown"), (("<int of about 5000 digits>", 2.0), "expected a float"),
    (({"x": 1}, 2.0), "expected a float"),
])
def test_a_function_returning_an_odd_value_is_wrong_with_a_message(values, words):
    verdict = entry().judge(outcomes(*values))
    assert verdict.status == INCORRECT and words in verdict.message


def test_honest_numeric_types_are_judged_normally():
    assert entry().judge(outcomes(0.5, 2)).status == CORRECT  # an int where a float is expected
    assert entry().judge(outcomes(0.5000000001, 2.0)).status == CORRECT
    assert entry().judge(outcomes(1.0, 4.0)).misconception == "doubled"  # the known mistake is still recognised


# ------------------------------------------------------------------------------ the kernel's report

def record(*outs: object, **extra: object) -> dict:
    return {"exercise": "f", "state": "ran", "outcomes": list(outs), **extra}


RIGHT = [{"value": 0.5, "error": None, "not_implemented": False}, {"value": 2.0, "error": None, "not_implemented": False}]


@pytest.mark.parametrize("report", [
    None, [], "ran", 3, {}, {"state": "ran"}, {"state": "ran", "outcomes": "correct"}, {"state": "ran", "outcomes": {}},
    record("correct", "correct"), record(*[{"value": 0.5, "error": 1}] * 2),
    record(*[{"value": 0.5, "not_implemented": "yes"}] * 2), record({"value": nested(5000)}, RIGHT[1]),
    record(*RIGHT, state="error"), record(*RIGHT, state="conflicting"), record(*RIGHT, state="unreadable"),
    record({"value": float("nan")}, {"value": math.inf}), record({"value": 10**400}, {"value": -(10**400)}),
    record({"value": 0.5, "error": "x" * 10_000_000}, RIGHT[1]),
])
def test_any_malformed_report_makes_the_exercise_not_right_without_raising(report):
    verdict = J.judge_function(entry(), report)
    assert verdict.status == INCORRECT and verdict.message
    assert len(verdict.message) < 1000
    J.verdict_outputs(entry(), verdict, [])  # and the judge can write it into the cell


def test_the_right_report_is_still_right_and_missing_still_unanswered():
    assert J.judge_function(entry(), record(*RIGHT)).status == CORRECT
    assert J.judge_function(entry(), {"exercise": "f", "state": "missing"}).status == UNANSWERED


def cell(*datas: object) -> dict:
    return nbformat.from_dict({"cell_type": "code", "source": "", "metadata": {}, "outputs": [
        {"output_type": "display_data", "data": {OUTPUTS_MIME: d}, "metadata": {}} for d in datas]})


def test_the_judge_reads_one_report_and_refuses_conflicting_or_unreadable_ones():
    right = record(*RIGHT)
    assert J._outputs_record(cell(right), "f") == right
    assert J._outputs_record(cell(json.dumps(right)), "f") == right
    assert J._outputs_record(cell(right, right), "f") == right  # the same report twice: one report
    wrong = record(*[{"value": 9.0}] * 2)
    assert J._outputs_record(cell(wrong, right), "f")["state"] == "conflicting"
    assert J.judge_function(entry(), J._outputs_record(cell(wrong, right), "f")).status == INCORRECT
    deep = "[" * 100_000 + "]" * 100_000
    for bad in ("{not json", deep, '{"a": ' + "1" * 100_000 + "}", {"exercise": "f", "outcomes": nested(200)}):
        found = J._outputs_record(cell(bad), "f")
        assert found["state"] == "unreadable", bad[:20]
        assert J.judge_function(entry(), found).status == INCORRECT
    assert J._outputs_record(cell(record(*RIGHT, exercise="g")), "f") is None
    assert J._outputs_record({"outputs": "junk"}, "f") is None


# ------------------------------------------------------------------------------ kernel messages

def test_the_course_config_installs_the_safe_unpacker_in_every_kernel_session():
    from jupyter_client.manager import AsyncKernelManager
    from traitlets.config import PyFileConfigLoader

    from grader.sandbox.kernel import SandboxedKernelManager
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    for manager in (AsyncKernelManager, SandboxedKernelManager):
        km = manager(config=config)
        assert km.session.unpack is M.unpack and km.client().session.unpack is M.unpack


def frames(session: Session, msg_type: str, content: bytes) -> list[bytes]:
    """A signed message whose content frame is ``content`` (what a learner holding the key can send)."""
    msg = session.msg(msg_type, content={}, parent=session.msg("execute_request"))
    parts = [session.pack(msg["header"]), session.pack(msg["parent_header"]), session.pack({}), content]
    return [session.sign(parts), *parts]


@pytest.mark.parametrize("content,reason", [
    (b"{not json", "not JSON"), (b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested deeper"),
    (b'{"data": ' + b"[" * 150 + b"]" * 150 + b"}", "nested deeper"), (b'{"n": ' + b"7" * 1_000_000 + b"}", "integer"),
    (b'{"n": NaN}', "not JSON"), (b'{"n": -Infinity}', "not JSON"), (b'{"n": 1e400}', "out of range"),
    (b"\xff\xfe\x00", "not JSON"),
])
@pytest.mark.parametrize("msg_type", ["stream", "display_data", "execute_result", "error"])
def test_an_unreadable_kernel_message_becomes_a_visible_note(content, reason, msg_type):
    session = Session(key=b"k", unpack=M.unpack)
    message = session.deserialize(frames(session, msg_type, content))
    output = output_from_msg(message)  # nbclient's own reading of it: a valid output, no exception
    assert reason in json.dumps(output) and "dropped" in json.dumps(output)


def test_readable_messages_are_read_as_jupyter_client_reads_them():
    real = {"name": "stdout", "text": "hello", "data": {"application/json": nested(60, {"x": [1.5, -2, None]})}}
    assert M.unpack(json.dumps(real).encode()) == real
    assert M.unpack(b'{"n": ' + b"7" * 4000 + b"}") == {"n": int("7" * 4000)}


def test_a_bad_or_replayed_signature_is_a_note_to_its_cell():
    from grader.sandbox.kernel import SandboxedKernelManager
    session = SandboxedKernelManager().session
    session.key = b"k"
    assert isinstance(session, M.SafeSession)
    good = frames(session, "stream", b'{"name": "stdout", "text": "hi"}')
    assert session.deserialize(list(good))["content"]["text"] == "hi"
    parent = json.loads(good[2])
    for bad in (good, [b"0" * 64, *good[1:]], [b"", *good[1:]], good[:3],
                [session.sign([b'{"msg_type": "stream"}', *good[2:]]), b'{"msg_type": "stream"}', *good[2:]]):
        message = session.deserialize(list(bad))  # the first: the same signature again (a replay)
        assert message["msg_type"] == "stream" and "dropped" in message["content"]["text"]
        assert message["parent_header"] == (parent if len(bad) > 2 else {})
        output_from_msg(message)


def test_a_message_of_the_wrong_shape_is_a_note_not_an_exception():
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete

    class Client(M.GuardedMessages, NotebookClient):
        pass

    client = Client(nbformat.v4.new_notebook(), record_timing=False)
    client.clear_before_next_output = False  # as nbclient sets it when a cell starts
    code = nbformat.v4.new_code_cell("x")
    for msg_type, content in [("stream", {}), ("display_data", {"data": 3, "metadata": {}}),
                              ("display_data", {"data": {}, "metadata": {}, "transient": "x"}),
                              ("error", {"ename": "E"}), ("execute_result", {"data": {}})]:
        client.process_message({"msg_type": msg_type, "content": content, "header": {"msg_type": msg_type},
                                "parent_header": {}, "metadata": {}}, code, 0)
    assert len(code.outputs) == 5 and all("dropped" in o.text for o in code.outputs)
    client.process_message({"msg_type": "stream", "content": {"name": "stdout", "text": "fine"},
                            "header": {"msg_type": "stream"}, "parent_header": {}, "metadata": {}}, code, 0)
    assert code.outputs[-1].text == "fine"
    with pytest.raises(CellExecutionComplete):  # the end of a cell still ends it
        client.process_message({"msg_type": "status", "content": {"execution_state": "idle"},
                                "header": {"msg_type": "status"}, "parent_header": {}, "metadata": {}}, code, 0)


# ------------------------------------------------------------------------------ a whole notebook

def test_a_bad_function_report_costs_that_exercise_and_the_rest_is_graded(tmp_path):
    from traitlets.config import Config

    source = hostile.write_tiny_module(tmp_path)
    nb = nbformat.read(source, as_version=4)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "tiny-func" + TEST_SUFFIX)
    test.outputs = [new_output("display_data", data={OUTPUTS_MIME: {"exercise": "tiny-func", "state": "ran",
                                                                    "outcomes": [{"value": 10**400}] * 4}})]
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    config.CourseDirectory.source_directory = "solutions"
    config.Sandbox.mode = "off"
    judged, _ = J.JudgeTestCells(config=config).preprocess(nb, {"nbgrader": {"assignment": hostile.TINY,
                                                                             "notebook": hostile.TINY}})
    results = {}
    for c in judged.cells:
        grade_id = c.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith(TEST_SUFFIX):
            results[grade_id] = [o.get("data", {}).get(RESULT_MIME, {}).get("status") for o in c.outputs
                                 if o.output_type == "display_data"]
    assert results == {"tiny-blank-test": ["correct"], "tiny-choice-test": ["correct"], "tiny-func-test": ["incorrect"]}
    nbformat.validate(judged)
    nbformat.writes(judged)


# ------------------------------------------------------------------------------ the instructor's files

def test_could_not_grade_names_what_happened_and_the_lms_lists_it(tmp_path):
    from grader.batch import lms
    from grader.batch.results import NOT_GRADED, Row, explain_failure
    assert explain_failure("nbformat.reader.NotJSONError: Notebook does not appear to be JSON: ''").startswith("corrupt")
    for error in ("json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
                  "RecursionError: maximum recursion depth exceeded while decoding a JSON array"):
        assert "corrupt" not in explain_failure(error) and error.split(":")[0] in explain_failure(error)
    rows = [Row("ann", hostile.TINY, NOT_GRADED, reason="kernel died (the notebook crashed)", pattern="moodle",
                lms_id="17", name="Ann Lee")]
    target, listing = lms.export(rows, tmp_path, "moodle")
    assert "Participant 17" in target.read_text()
    text = listing.read_text()
    assert "ann" in text and "17" in text and "kernel died" in text
