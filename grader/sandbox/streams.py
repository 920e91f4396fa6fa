"""What a sandboxed process may write to the grader: pipes read with a bound, never the grader's descriptors.

A sandboxed process (a kernel, the blanks runner) gets ``/dev/null`` or a pipe the grader writes and
closes as stdin, and pipes the grader reads as stdout and stderr; nothing else of the grader is open
in it (:mod:`grader.sandbox.enter` closes the rest). :class:`Tail` drains a pipe in a thread and keeps
only its last bytes (diagnostics: why a kernel died); :func:`run_bounded` runs a command with its
input, a time limit and at most ``limit`` bytes of stdout kept.
"""
from __future__ import annotations

import os
import re
import selectors
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

TAIL_BYTES = 64 << 10  # what is kept of a kernel's (or runner's) stderr for the log
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")  # all but \t and \n: no escape sequence reaches a terminal


def printable(data: bytes) -> str:
    """Bytes a sandboxed process wrote, safe to log: decoded, control characters shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", data.decode("utf-8", errors="replace"))


class Tail(threading.Thread):
    """Read a pipe to its end in a daemon thread, keeping the last ``keep`` bytes (and the total count).

    It reads its own duplicate of the pipe's descriptor: whoever owns ``pipe`` may close it at any time.
    """

    def __init__(self, pipe: Any, keep: int = TAIL_BYTES) -> None:
        super().__init__(name="driftlab-sandbox-tail", daemon=True)
        self.fd, self.keep = os.dup(pipe.fileno()), keep
        self.data, self.total = b"", 0
        self.start()

    def run(self) -> None:
        try:
            while chunk := os.read(self.fd, 1 << 16):
                self.total += len(chunk)
                self.data = (self.data + chunk)[-self.keep:]
        except OSError:
            pass
        finally:
            os.close(self.fd)

    def text(self) -> str:
        """What was kept, printable; says how much came before it."""
        cut = self.total - len(self.data)
        return (f"[… {cut} bytes before]\n" if cut else "") + printable(self.data)


@dataclass
class Ran:
    """A finished (or stopped) command: exit status (None: stopped at the time limit), stdout kept, stderr tail."""

    returncode: int | None
    stdout: bytes
    stdout_total: int
    stderr: str

    @property
    def overflowed(self) -> bool:
        """True when the command wrote more to stdout than was kept."""
        return self.stdout_total > len(self.stdout)


def run_bounded(argv: list[str], stdin: bytes, timeout: float, limit: int, **popen: Any) -> Ran:
    """Run ``argv`` with ``stdin`` written then closed, for at most ``timeout`` seconds; keep at most ``limit``
    bytes of its stdout and the last :data:`TAIL_BYTES` of its stderr (the rest is read and dropped, so the
    process never blocks on a full pipe and never makes this process hold more)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    deadline = time.monotonic() + timeout
    out, total, err = bytearray(), 0, b""
    pending = memoryview(stdin)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    sel.register(proc.stderr, selectors.EVENT_READ)
    if pending:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE)
    else:
        proc.stdin.close()
    timed_out = False
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(left):
                if key.fileobj is proc.stdin:
                    try:
                        pending = pending[os.write(proc.stdin.fileno(), pending[:1 << 16]):]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:  # it stopped reading: the rest of its input is not needed
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                chunk = os.read(key.fileobj.fileno(), 1 << 16)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.fileobj is proc.stdout:
                    total += len(chunk)
                    if len(out) < limit:
                        out += chunk[:limit - len(out)]
                else:
                    err = (err + chunk)[-TAIL_BYTES:]
        if timed_out:
            proc.kill()
        returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        timed_out = True
    finally:
        sel.close()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            pipe.close()
    return Ran(None if timed_out else returncode, bytes(out), total, printable(err))
