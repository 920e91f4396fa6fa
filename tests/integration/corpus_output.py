"""Hostile-corpus cases: Submissions that flood output, hold the grader's descriptors, or send malformed reports.

Each case is registered into :mod:`tests.integration.hostile` (graded by plain nbgrader in test_judge.py
and by ``driftlab grade`` in test_grade_pipeline.py).
"""
from __future__ import annotations

from tests.integration import hostile  # noqa: F401 - register(...) cases below


# --------------------------------------------------------------------------- malformed reports (issue 22, item 4)
# The kernel is the learner's, its session key included: it can send any bytes on iopub, signed, into any cell.

SEND_RAW = '''\
_kernel = get_ipython().kernel
def _send_raw(msg_type, content):
    """Send a message whose content frame is exactly ``content`` (bytes), signed with the kernel's own key."""
    _kernel.session.send(_kernel.iopub_socket, msg_type, content=content, parent=_kernel.get_parent("shell"))
'''

DEEP_NESTING = SEND_RAW + '''\
_deep = b'{"data": {"application/json": ' + b"[" * 100000 + b"]" * 100000 + b'}, "metadata": {}}'
_send_raw("display_data", _deep)
from IPython.display import display
_nested = 1
for _ in range(150):
    _nested = [_nested]
display({"application/json": _nested, "text/plain": "deep"}, raw=True)  # valid JSON, 150 levels
get_ipython().events.register("post_run_cell", lambda result: _send_raw("display_data", _deep))  # every later cell
'''

NON_JSON = SEND_RAW + '''\
def _garbage(result=None):
    _send_raw("display_data", b"{not json")
    _send_raw("stream", b'{"name": "stdout", "text": "x", "n": ' + b"7" * 1000000 + b"}")
    _send_raw("stream", b'{"name": "stdout", "text": NaN}')
    _send_raw("stream", b"{}")  # JSON, but not the shape of a stream
    _send_raw("error", b'{"ename": []}')
    twice = _kernel.session.msg("stream", content={"name": "stdout", "text": "once"}, parent=_kernel.get_parent("shell"))
    _kernel.session.send(_kernel.iopub_socket, twice)
    _kernel.session.send(_kernel.iopub_socket, twice)  # the same signature again: a replay
    parent = _kernel.session.pack(_kernel.get_parent("shell")["header"])
    parts = [b'{"msg_type": "stream"}', parent, b"{}", b'{"name": "stdout", "text": "no msg_id"}']
    _kernel.iopub_socket.send_multipart([b"stream", b"<IDS|MSG>", _kernel.session.sign(parts), *parts])
    _kernel.iopub_socket.send_multipart([b"stream", b"<IDS|MSG>", b"0" * 64, *parts])  # a bad signature
_garbage()
get_ipython().events.register("post_run_cell", _garbage)  # and in every later cell, the test cells included
'''

HUGE_INT = "def fwer(n, alpha):\n    return 10**400\n"


def _answering(exercise: str, source: str):
    """A maker: right answers, but ``exercise``'s answer cell holds ``source``."""
    def make(context: dict) -> bytes:
        nb = context["right"]
        hostile._answer_cells(nb)[exercise].source = source
        return hostile._dump(nb)
    return make


_huge_int = _answering("tiny-func", HUGE_INT)


hostile.register(hostile.Case("h-bad-huge-int", "graded", "any",
                              note="right answers but fwer returns 10**400: that exercise 0, the others their points"),
                 _huge_int)
hostile.register(hostile.Case("h-bad-deep-nesting", "graded", "max",
                              note="right answers + messages nested 100000 (raw) and 150 (display) levels deep"),
                 lambda context: hostile._dump(hostile._after_setup(context["right"], DEEP_NESTING)))
hostile.register(hostile.Case("h-bad-non-json", "graded", "max",
                              note="right answers + raw non-JSON, NaN, million-digit, wrong-shape, replayed and badly signed "
                                   "messages in every cell"),
                 lambda context: hostile._dump(hostile._after_setup(context["right"], NON_JSON)))
#: the points h-bad-huge-int must get: every exercise but the function's (checked per cell in both pipelines)
HUGE_INT_ZERO = "tiny-func"


# --------------------------------------------------------------- floods and inherited descriptors (issue 22, items 2, 3)
# Each flood is 300 MB on the grading side; the right answers after it must keep their points, the grader its memory.

FLOOD_MB = 300
PRINT_ONE = f"print('x' * {FLOOD_MB} * 1_000_000)  # one message of {FLOOD_MB} MB\n"
PRINT_MANY = f"for _ in range({FLOOD_MB}):\n    print('x' * 1_000_000, flush=True)  # {FLOOD_MB} messages of 1 MB\n"
DISPLAY_MANY = ("from IPython.display import display\n"
                f"for _ in range({FLOOD_MB}):\n    display({{'image/png': 'A' * 1_000_000}}, raw=True)\n")
#: the cell that reports what the kernel holds of the grader: a line ``FD-PROBE {json}`` in its output
FD_PROBE_TAG = "FD-PROBE "
FD_PROBE = r'''
import json, os, sys
_mark = "\x1b]0;" + "DL" + "-" + "PWNED" + "\x07\x1b[2J"  # an escape sequence (title, clear screen), built at run time
_report = {"tty": [os.isatty(i) for i in range(3)], "fds": {}, "others": {}, "wrote": [], "read": {}}
for _fd in os.listdir("/proc/self/fd"):
    try:
        _report["fds"][_fd] = os.readlink(f"/proc/self/fd/{_fd}")
    except OSError as _exc:
        _report["fds"][_fd] = type(_exc).__name__
for _pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        for _fd in os.listdir(f"/proc/{_pid}/fd"):
            _report["others"][f"{_pid}/{_fd}"] = os.readlink(f"/proc/{_pid}/fd/{_fd}")
    except OSError:
        pass
for _fd in (0, 1, 2):  # a terminal is readable through any of its descriptors: the instructor's type-ahead
    try:
        os.set_blocking(_fd, False)
        _report["read"][str(_fd)] = repr(os.read(_fd, 4096))
    except OSError as _exc:
        _report["read"][str(_fd)] = type(_exc).__name__
try:
    _report["read"]["stdin"] = repr(sys.stdin.read(4096))
except Exception as _exc:
    _report["read"]["stdin"] = type(_exc).__name__
try:
    open("/dev/tty", "w").write(_mark)
    _report["wrote"].append("/dev/tty")
except OSError:
    pass
for _fd, _target in list(_report["fds"].items()):
    if _target.startswith(("socket:", "anon_inode:")):
        continue
    for _how in ("fd", "proc"):
        try:
            if _how == "fd":
                os.write(int(_fd), _mark.encode())
            else:
                with open(f"/proc/self/fd/{_fd}", "w") as _f:
                    _f.write(_mark)
            _report["wrote"].append(f"{_how} {_fd} {_target}")
        except (OSError, ValueError):
            pass
print(FD_TAG + json.dumps(_report))
'''.replace("FD_TAG", repr(FD_PROBE_TAG))
# A blank's code that tries to flood the runner's pipes through /proc, then leaves the blank wrong (no alert).
RUNNER_FLOOD = '''%%answer tiny-blank
import builtins, os
if not hasattr(builtins, "get_ipython"):  # in the blanks runner (the kernel's own floods are the cases above)
    for _fd in ("1", "2"):
        try:
            with open(f"/proc/{os.getppid()}/fd/{_fd}", "wb") as _pipe:
                for _ in range(300):
                    _pipe.write(b"x" * 1_000_000)
        except OSError:
            pass
    print("x" * 300_000_000)
'''
#: every flood case (right answers): full marks, a truncation note, the next submission on its slot as if alone
FLOODS = {"h-flood-print-one": PRINT_ONE, "h-flood-print-many": PRINT_MANY, "h-flood-display": DISPLAY_MANY}
for _student, _cell in FLOODS.items():
    hostile.register(hostile.Case(_student, "graded", "max", note=f"right answers + a {FLOOD_MB} MB output flood"),
                     lambda context, cell=_cell: hostile._dump(hostile._after_setup(context["right"], cell)))
hostile.register(hostile.Case("h-descriptors", "graded", "max",
                              note="right answers + a cell listing, reading and writing every descriptor it can reach"),
                 lambda context: hostile._dump(hostile._after_setup(context["right"], FD_PROBE)))


_runner_flood = _answering("tiny-blank", RUNNER_FLOOD)


hostile.register(hostile.Case("h-runner-flood", "graded", "any",
                              note="right answers but the blank's code floods the blanks runner's pipes: that blank 0"),
                 _runner_flood)
#: the exercise h-runner-flood loses (the others keep their points)
RUNNER_FLOOD_ZERO = "tiny-blank"


class PeakRSS:
    """``with PeakRSS() as peak:`` samples the peak resident memory (``VmHWM``) of this process's direct
    children while the block runs: ``peak.mb`` is the largest, ``peak.by_pid`` each one's (MB)."""

    def __init__(self, every: float = 0.05) -> None:
        import threading

        self.every, self.by_pid, self.halt = every, {}, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import os
        from pathlib import Path

        me = str(os.getpid())
        while not self.halt.wait(self.every):
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
                except OSError:
                    continue
                if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                    pid = int(status.parent.name)
                    self.by_pid[pid] = max(self.by_pid.get(pid, 0), int(fields["VmHWM"].split()[0]) >> 10)

    @property
    def mb(self) -> int:
        return max(self.by_pid.values(), default=0)

    def __enter__(self) -> "PeakRSS":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.halt.set()
        self.thread.join()
PEAK_MB = 600  # MB any grading process (nbgrader, the autograder, driftlab grade) may reach while grading the corpus
#: what the instructor typed ahead into the terminal the corpus is graded on (it must still be there afterwards)
TYPE_AHEAD = b"instructor-type-ahead-417\n"
#: what the descriptor probe writes wherever it can (built at run time in the kernel, so no source holds it)
ESCAPE_MARK = b"DL-PWNED"


def on_a_terminal(cmd: list[str], cwd, env: dict, timeout: float):
    """Run ``cmd`` with stdin, stdout and stderr on a new pseudo-terminal that already holds :data:`TYPE_AHEAD`.

    Returns ``(CompletedProcess, terminal)``: the process's output (all of it: it is on the terminal) as its
    ``stderr``, and ``terminal = {"seen": bytes the terminal received, "waiting": input still unread,
    "peak_mb": the process's peak resident memory}``.
    """
    import os
    import pty
    import select
    import subprocess
    import termios
    import time

    master, slave = pty.openpty()
    os.write(master, TYPE_AHEAD)
    seen = bytearray()
    deadline = time.monotonic() + timeout
    with PeakRSS() as peak:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave)
        while True:
            if select.select([master], [], [], 0.1)[0]:
                seen += os.read(master, 1 << 16)
            elif proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                proc.kill()
    os.set_blocking(slave, False)
    try:
        waiting = os.read(slave, 4096)  # canonical mode: the typed line, unless someone read it
    except BlockingIOError:
        waiting = b""
    termios.tcflush(slave, termios.TCIOFLUSH)
    os.close(slave)
    os.close(master)
    text = bytes(seen).decode("utf-8", "replace")
    return (subprocess.CompletedProcess(cmd, proc.returncode, "", text),
            {"seen": bytes(seen), "waiting": waiting, "peak_mb": peak.mb})


def probe_report(notebook) -> dict:
    """The report the descriptor probe printed into an autograded notebook."""
    import json

    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            for line in str(out.get("text", "")).splitlines():
                if FD_PROBE_TAG in line:  # after the escape sequences it wrote to its own stdout
                    return json.loads(line.split(FD_PROBE_TAG, 1)[1])
    raise AssertionError("the descriptor probe's report is not in the autograded notebook")


def assert_holds_nothing_of_the_grader(report: dict, *forbidden: str) -> None:
    """No terminal; stdin /dev/null, stdout and stderr pipes; no descriptor (its own or of a process it can see)
    on a host file — only pipes, sockets, anonymous inodes, devices and its own scratch folder — nor on any
    path containing one of ``forbidden``; the type-ahead not read."""
    assert report["tty"] == [False, False, False], report
    fds = report["fds"]
    assert fds["0"] == "/dev/null" and fds["1"].startswith("pipe:") and fds["2"].startswith("pipe:"), fds
    for where, target in list(fds.items()) + list(report["others"].items()):
        assert not target.startswith("/dev/pts") and "ptmx" not in target and target != "/dev/tty", (where, target)
        assert (target.startswith(("pipe:", "socket:", "anon_inode:", "/dev/null", "/dev/urandom", "/tmp/dl-sbx-"))
                or target in ("FileNotFoundError", "PermissionError")), (where, target)
        assert not any(f in target for f in forbidden), (where, target)
    assert "/dev/tty" not in report["wrote"]
    assert report["read"]["0"] in ("b''", "BlockingIOError") and report["read"]["stdin"] in ("''", "ValueError"), report


def nbgrader_on_a_terminal(course, *args: str, timeout: float):
    """``nbgrader ARGS`` in ``course`` as :func:`grader.nbgrader.run_nbgrader` runs it, but :func:`on_a_terminal`."""
    import sys

    from grader import nbgrader as R

    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"]
    return on_a_terminal(cmd, course, R.nbgrader_env(), timeout)
