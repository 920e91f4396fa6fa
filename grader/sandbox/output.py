"""How much output of a grading kernel the grader keeps: per cell and per notebook, counted as it arrives.

:class:`OutputLimits` (``c.OutputLimits.*`` in ``nbgrader_config.py``) holds the limits; an
:class:`OutputBudget` counts every message of one notebook's kernel as nbclient receives it and says
which to drop. Counted is what *arrived* (a cleared or updated output still counts), so what the
grader holds never exceeds what was admitted. A dropped message leaves a note for its cell
(:meth:`OutputBudget.notes`), which :class:`grader.sandbox.kernel.SandboxedExecute` shows in the cell
and ``driftlab grade`` in the grades row. A message over ``message_mb`` never reaches Python at all:
ZeroMQ refuses it (``MAXMSGSIZE`` on the grader's sockets) and closes that link for good;
:class:`LinkWatch` sees it, ends the cell's wait for output and reconnects. :class:`BoundedOutput` puts
this into nbclient's ``NotebookClient`` (:class:`grader.sandbox.kernel.SandboxedExecute`).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from traitlets import Int
from traitlets.config import Configurable

from driftlab.protocol import OUTPUTS_MIME

HEAD_BYTES = 64 << 10  # a message whose header or parent header is larger is not the protocol's: dropped unread
TEXT = ("stream", "error")  # counted as text
DISPLAY = ("display_data", "execute_result", "update_display_data", "comm_open", "comm_msg", "comm_close")
CONTROL = ("status", "execute_input", "clear_output")  # tiny, always kept
NOTE = "[driftlab grader] "  # every note starts so
REPORT_BYTES = 256 << 10  # a function's report to the judge is kept beyond the budgets up to this size …
REPORTS_PER_CELL = 4  # … this many times per test cell …
REPORTS_BYTES = 8 << 20  # … and this much in all


class OutputLimits(Configurable):
    """What the grader keeps of a kernel's output; past a limit the rest is dropped with a note."""

    message_mb = Int(16, help="Largest single message (ZeroMQ frame) accepted from a grading kernel (MB); "
                              "a larger one is refused by ZeroMQ before it is read").tag(config=True)
    cell_text_kb = Int(1024, help="Text (printed output, error messages) kept per cell (KB)").tag(config=True)
    cell_display_kb = Int(8192, help="Display data (images, HTML, widgets, updates) kept per cell (KB)").tag(config=True)
    notebook_mb = Int(32, help="All output kept per notebook (MB)").tag(config=True)


def message_size(content: Any, buffers: Any = ()) -> int:
    """Bytes a message's content holds (strings and bytes, plus a little per item), without recursion."""
    size, stack = sum(len(b) for b in buffers or ()), [content]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, bytes, bytearray, memoryview)):
            size += len(item)
        elif isinstance(item, dict):
            size += 8 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            size += 8 * len(item)
            stack.extend(item)
        else:
            size += 8
    return size


def _kb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{max(1, n >> 10)} KB"


class OutputBudget:
    """The output budget of one notebook's execution: :meth:`admit` each kernel message, in order."""

    def __init__(self, limits: OutputLimits) -> None:
        self.cell_limit = {"text": limits.cell_text_kb << 10, "display": limits.cell_display_kb << 10}
        self.notebook_limit = limits.notebook_mb << 20
        self.total = 0
        self.used: dict[int, dict[str, int]] = defaultdict(lambda: {"text": 0, "display": 0})
        self.reports: dict[int, int] = defaultdict(int)
        self.report_total = 0
        self.dropped: dict[int, dict[str, int]] = defaultdict(dict)  # cell -> reason -> bytes not kept
        self.lost: dict[int, str] = {}  # cell -> why part of its output never arrived

    def admit(self, msg: dict[str, Any], cell: int, test: bool = False) -> bool:
        """Count ``msg`` (a kernel message for cell ``cell``, a test cell when ``test``); False: drop it."""
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        if kind in CONTROL:
            return True
        if kind not in TEXT and kind not in DISPLAY:
            return False  # not output (nbclient would only log it, once per message)
        content = msg.get("content") or {}
        size = message_size(content, msg.get("buffers"))
        budget = "text" if kind in TEXT else "display"
        data = content.get("data") if isinstance(content, dict) else None
        if (test and kind == "display_data" and isinstance(data, dict) and OUTPUTS_MIME in data
                and size <= REPORT_BYTES and self.reports[cell] < REPORTS_PER_CELL
                and self.report_total + size <= REPORTS_BYTES):
            self.reports[cell] += 1  # the judge's input: kept, so a flood elsewhere cannot cost a right answer
            self.report_total += size
            return True
        if self.total + size > self.notebook_limit:
            reason = "notebook"
        elif self.used[cell][budget] + size > self.cell_limit[budget]:
            reason = budget
        else:
            self.used[cell][budget] += size
            self.total += size
            return True
        self.dropped[cell][reason] = self.dropped[cell].get(reason, 0) + size
        return False

    def refuse(self, kind: Any, size: int, cell: int) -> bool:
        """Whether a message of ``kind`` whose frames hold ``size`` bytes is dropped unread (counted as dropped):
        never a control message, nor one small enough to be a function's report (those are read and admitted)."""
        if kind in CONTROL or size <= REPORT_BYTES:
            return False
        if kind not in TEXT and kind not in DISPLAY:
            return True
        budget = "text" if kind in TEXT else "display"
        if self.total + size > self.notebook_limit:
            reason = "notebook"
        elif self.used[cell][budget] + size > self.cell_limit[budget]:
            reason = budget
        else:
            return False
        self.dropped[cell][reason] = self.dropped[cell].get(reason, 0) + size
        return True

    def notes(self, cell: int) -> list[str]:
        """What the grader did not keep of cell ``cell``'s output, one sentence per limit."""
        found = []
        for reason, size in self.dropped.get(cell, {}).items():
            if reason == "notebook":
                found.append(f"output limit: the notebook's output passed {_kb(self.notebook_limit)}; "
                             f"{_kb(size)} more of this cell's output was not kept")
            else:
                found.append(f"output limit: this cell's {'text' if reason == 'text' else 'display'} output passed "
                             f"{_kb(self.cell_limit[reason])}; {_kb(size)} more was not kept")
        if cell in self.lost:
            found.append(f"output limit: {self.lost[cell]}")
        return found


class LinkWatch:
    """Reconnects the grader's sockets to a kernel after ZeroMQ dropped a link for an over-size message.

    ZeroMQ refuses a message over ``MAXMSGSIZE`` by closing the link to the kernel, for good (a protocol
    error is never retried): without this, every later cell's output and replies would be lost. A socket
    monitor says when; :meth:`check` reconnects and names the channels that lost messages.
    """

    CHANNELS = ("iopub", "shell", "control")

    def __init__(self, kc: Any) -> None:
        import zmq

        self.kc, self.zmq, self.monitors = kc, zmq, {}
        for name in self.CHANNELS:
            socket = getattr(kc, f"{name}_channel").socket
            monitor = socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            self.monitors[name] = (socket, monitor, zmq.Socket.shadow(monitor.underlying))

    def check(self) -> list[str]:
        """The channels whose link dropped since the last call (each reconnected)."""
        dropped = []
        for name, (socket, _, events) in self.monitors.items():
            seen = False
            while events.poll(0):
                events.recv_multipart()
                seen = True
            if seen and not socket.closed:
                url = self.kc._make_url(name)
                try:
                    socket.disconnect(url)
                except self.zmq.ZMQError:
                    pass
                socket.connect(url)
                dropped.append(name)
        if "iopub" in dropped:
            from jupyter_core.utils import run_sync

            run_sync(self._resubscribed)()
        return dropped

    async def _resubscribed(self, tries: int = 20) -> bool:
        """Wait until the kernel publishes to the new iopub link (else the next cell's output is lost)."""
        from queue import Empty

        for _ in range(tries):
            msg_id = self.kc.kernel_info()
            try:
                while True:
                    msg = await self.kc.get_iopub_msg(timeout=0.25)
                    if msg.get("parent_header", {}).get("msg_id") == msg_id:
                        return True
            except Empty:
                continue
        return False

    def close(self) -> None:
        for socket, monitor, _ in self.monitors.values():
            try:
                if not socket.closed:
                    socket.disable_monitor()
            except self.zmq.ZMQError:
                pass
            monitor.close(linger=0)


_taken: list[str] = []


def take_notes() -> list[str]:
    """The output notes of the notebooks this process executed since the last call (``driftlab grade``'s rows)."""
    found = list(_taken)
    _taken.clear()
    return found


class BoundedOutput:
    """For nbclient's ``NotebookClient`` (nbgrader's ``Execute``): keep at most :class:`OutputLimits` of the
    kernel's output, counted as messages arrive; note in each cell what was not kept."""

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None):
        self._budget = OutputBudget(OutputLimits(parent=self))
        self._links: LinkWatch | None = None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._links is not None:
                self._links.close()

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        if msg.get("msg_type") == "status" and (msg.get("content") or {}).get("execution_state") == "idle":
            self._idle = True
        test = bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))
        if not self._budget.admit(msg, cell_index, test):
            return None
        return super().process_message(msg, cell, cell_index)

    async def _async_poll_output_msg(self, parent_msg_id: str, cell: Any, cell_index: int) -> None:
        """nbclient's loop over a cell's iopub messages, which also ends when ZeroMQ dropped the iopub link: the
        cell's idle message will not come (without this the cell would wait ``iopub_timeout`` for it)."""
        if self._links is None:
            return await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        import zmq
        import zmq.asyncio
        from nbclient.exceptions import CellExecutionComplete

        self._parent = parent_msg_id
        socket, monitor, _ = self._links.monitors["iopub"]
        poller = zmq.asyncio.Poller()
        poller.register(socket, zmq.POLLIN)
        poller.register(monitor, zmq.POLLIN)
        while True:
            ready = [s for s, _ in await poller.poll()]
            if any(s is socket for s in ready):
                msg = self._read(await socket.recv_multipart(copy=False), parent_msg_id, cell_index)
                if msg is not None and msg["parent_header"].get("msg_id") == parent_msg_id:
                    try:
                        self.process_message(msg, cell, cell_index)
                    except CellExecutionComplete:
                        return
            elif ready:  # the monitor: the link is gone (LinkWatch.check reconnects after the cell)
                return

    def _read(self, frames: list[Any], parent_msg_id: str, cell_index: int) -> dict[str, Any] | None:
        """One iopub message, deserialised only if it is this cell's and within its budget (None: dropped unread,
        as nbclient drops another cell's message after reading it; a flood then costs no JSON parsing)."""
        session = self.kc.session
        try:
            _, rest = session.feed_identities(frames, copy=False)
        except ValueError:  # no delimiter: not a message of the protocol
            return None
        if len(rest) >= 5:
            if len(rest[1]) > HEAD_BYTES or len(rest[2]) > HEAD_BYTES:
                return None
            try:
                header, parent = session.unpack(rest[1].bytes), session.unpack(rest[2].bytes)
            except Exception:  # noqa: BLE001 - unreadable: the session's deserialize says what it makes of it
                header = parent = None
            if isinstance(parent, dict) and parent.get("msg_id") != parent_msg_id:
                return None
            kind = header.get("msg_type") if isinstance(header, dict) else None
            if self._budget.refuse(kind, sum(len(f) for f in rest[4:]), cell_index):
                return None
        return session.deserialize(rest, content=True, copy=False)

    async def _drain(self, parent_msg_id: str, patience: float = 30.0) -> None:
        """Read (unread: dropped) what is left of a cell's output after nbclient stopped waiting for it, up to its
        idle message, so that a backlog never reaches the next cell's wait (a test cell's report included)."""
        import time

        deadline = time.monotonic() + patience
        socket = self._links.monitors["iopub"][0]
        while time.monotonic() < deadline and await socket.poll(1000):
            frames = await socket.recv_multipart(copy=False)
            try:
                _, rest = self.kc.session.feed_identities(frames, copy=False)
                header, parent = self.kc.session.unpack(rest[1].bytes), self.kc.session.unpack(rest[2].bytes)
                if (parent.get("msg_id") == parent_msg_id and header.get("msg_type") == "status"
                        and self.kc.session.unpack(rest[4].bytes).get("execution_state") == "idle"
                        and len(rest[4]) < HEAD_BYTES):
                    return
            except Exception:  # noqa: BLE001 - anything unreadable is part of the backlog: dropped
                continue

    def preprocess_cell(self, cell: Any, resources: Any, index: int):
        runs = cell.cell_type == "code" and bool(cell.source.strip())
        if runs and self._links is None and self.kc is not None:
            self._links = LinkWatch(self.kc)
        elif runs and self._links is not None and self._links.check():  # refused between cells (a thread's flood)
            self.log.warning("cell %d: a message over the size limit came between cells; reconnected", index + 1)
        self._idle = False
        cell, resources = super().preprocess_cell(cell, resources, index)
        if runs:
            self._settle(cell, index)
        return cell, resources

    def _settle(self, cell: Any, index: int) -> None:
        """After a cell: reconnect dropped links, clip error texts, show the cell's notes and record them."""
        from nbformat.v4 import new_output

        dropped = self._links.check() if self._links is not None else []
        limits = OutputLimits(parent=self)
        if dropped:
            self._budget.lost[index] = (f"a message over {limits.message_mb} MB from the kernel was refused "
                                        f"({', '.join(dropped)}); the output it carried was not kept")
        elif not self._idle:
            self._budget.lost[index] = "the kernel's output did not all arrive in time; the rest was not kept"
            if self._links is not None and getattr(self, "_parent", None):
                from jupyter_core.utils import run_sync

                run_sync(self._drain)(self._parent)
        clip = limits.cell_text_kb << 10
        for out in cell.outputs:
            if out.get("output_type") == "error":  # also nbgrader's copy of the reply's error (never counted)
                out["evalue"] = str(out.get("evalue", ""))[:clip]
                lines, left = [], clip
                traceback = out.get("traceback")
                for line in (traceback if isinstance(traceback, list) else [str(traceback or "")])[-100:]:
                    lines.append(str(line)[:left])
                    left -= len(lines[-1])
                    if left <= 0:
                        break
                out["traceback"] = lines
        for note in self._budget.notes(index):
            cell.outputs.append(new_output("display_data", data={"text/plain": NOTE + note}))
            self.log.warning("cell %d: %s", index + 1, note)
            if len(_taken) < 100:
                _taken.append(f"cell {index + 1}: {note.removeprefix('output limit: ')}")
