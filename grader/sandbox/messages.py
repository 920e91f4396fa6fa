"""Messages from a grading kernel, read so that nothing in them can stop the grader.

The learner controls the kernel, its session key included, so any frame of any message may be
anything: not JSON, nested deeper than Python's recursion limit (``json``, ``copy.deepcopy``,
nbformat's and jsonschema's validation all recurse), an integer of a million digits (Python refuses
to convert more than 4300), ``NaN`` or ``1e400`` (not JSON; a real kernel never sends them), or not
the JSON object every frame of the protocol is.

* :func:`unpack` is jupyter_client's ``Session.unpack`` for the grader (``c.Session.unpacker =
  "grader.sandbox.messages.unpack"`` in nbgrader_config.py reaches every session of the kernel
  managers nbgrader's Execute creates). A frame it cannot read becomes a :func:`note`: shaped like the
  content of any output message, so the cell shows "a message … was dropped" instead of grading failing.
* :class:`SafeSession` (the session of :class:`~grader.sandbox.kernel.SandboxedKernelManager`) does the
  same for a message whose signature is bad, missing or replayed (the kernel holds the key).
* :class:`GuardedMessages` makes nbclient's handling of one message (a readable message with the
  wrong shape: a stream without text, a display without data) a note in the cell, never an exception.
"""
from __future__ import annotations

import json
import math
from typing import Any

from jupyter_client.session import Session

MAX_DEPTH = 100  # JSON nesting past this is dropped: far above real outputs, far below the recursion limit
NOTE = "[grader] a message from the kernel could not be read and was dropped: {reason}"


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when lists/dicts in ``value`` nest deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"a number out of range ({text[:20]})")
    return number


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def note(reason: str) -> dict[str, Any]:
    """What stands in for an unreadable frame: the content of a stream, a display, an error or a reply.

    nbclient reads each message type's own fields; this has all of them, so whatever the message's
    type, it shows the note (stderr, text/plain or an error) and never a key error.
    """
    text = NOTE.format(reason=reason)
    return {"name": "stderr", "text": text + "\n", "data": {"text/plain": text}, "metadata": {},
            "execution_count": None, "ename": "UnreadableMessage", "evalue": text, "traceback": [text],
            "status": "error", "execution_state": "busy", "comm_id": "", "msg_id": "", "msg_type": "unreadable"}


def unpack(data: bytes | str) -> Any:
    """One message frame decoded as JSON, or a :func:`note` saying why it could not be (never raises)."""
    try:
        text = bytes(data).decode("utf-8", "replace") if not isinstance(data, str) else data
        value = json.loads(text, parse_float=_finite, parse_constant=_refuse)
    except RecursionError:
        return note(f"nested deeper than {MAX_DEPTH} levels")
    except (ValueError, TypeError, MemoryError) as exc:
        reason = "an integer too long to read" if "integer string conversion" in str(exc) else f"not JSON ({str(exc)[:80]})"
        return note(reason)
    if not isinstance(value, dict):  # a header, parent header, metadata and content are all JSON objects
        return note("not a JSON object")
    if any(not isinstance(value.get(key, ""), str) for key in ("msg_id", "msg_type")):
        return note("a header whose msg_id or msg_type is not a string")
    if text.count("[") + text.count("{") > MAX_DEPTH and too_deep(value):
        return note(f"nested deeper than {MAX_DEPTH} levels")
    return value


class GuardedMessages:
    """Mixin for nbclient's ``NotebookClient`` (nbgrader's Execute): a message that breaks its handler is a note."""

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        from nbclient.exceptions import CellControlSignal
        from nbformat.v4 import new_output

        try:
            return super().process_message(msg, cell, cell_index)  # type: ignore[misc]
        except CellControlSignal:  # the end of the cell: nbclient's own signal
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed message costs the learner that message only
            kind = str(msg.get("msg_type"))[:40] if isinstance(msg, dict) else "?"
            self.log.warning("dropped a malformed %s message from the kernel: %r", kind, exc)  # type: ignore[attr-defined]
            out = new_output("stream", name="stderr",
                             text=NOTE.format(reason=f"a message of type {kind} with the wrong shape ({type(exc).__name__})") + "\n")
            cell.outputs.append(out)
            return out


class SafeSession(Session):
    """jupyter_client's ``Session`` whose ``deserialize`` never raises on what a kernel sends.

    A message with a bad, missing or replayed signature, too few frames or a header without ``msg_id`` is
    dropped: it becomes a stderr note to the cell its parent header names (if that can be read).
    """

    def deserialize(self, msg_list: list[Any], content: bool = True, copy: bool = True) -> dict[str, Any]:
        try:
            return super().deserialize(msg_list, content, copy)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            parent = unpack(msg_list[2]) if len(msg_list) > 2 else {}
            reason = f"{type(exc).__name__}: {str(exc).split(':')[0][:60]}"
            header = {"msg_id": "", "msg_type": "stream", "username": "", "session": "", "version": "5.3"}
            return {"header": header, "msg_id": "", "msg_type": "stream", "parent_header": parent, "metadata": {},
                    "content": note(reason), "buffers": []}
