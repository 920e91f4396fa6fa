"""Run learner code in a forked child with one wall-clock budget: loops in C stop too, nothing leaks back.

A check calls :func:`run_isolated` with a function of no arguments that returns a list of JSON-able
items; the child computes them one by one and streams each back through a pipe, so that when the
budget runs out the parent knows how many were done and kills the child (SIGKILL stops
``any(iter(int, 1))``, which ignores alarms and interrupts). Whatever the learner's code changes in
the child (globals, patched modules, open files) dies with it. On a platform without ``fork`` the
items are computed in-process with an alarm-based limit per item (best effort).
"""
from __future__ import annotations

import json
import os
import select
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator


@dataclass
class Run:
    """What a child produced: the items it finished, and whether it ran out of time or died."""

    items: list[Any] = field(default_factory=list)
    timed_out: bool = False
    crashed: str | None = None  # the child ended without finishing (e.g. os._exit, a segfault)
    seconds: float = 0.0


def run_isolated(produce: Callable[[], Iterator[Any]], budget: float) -> Run:
    """Consume ``produce()`` in a forked child within ``budget`` seconds of wall clock."""
    if not hasattr(os, "fork"):
        return _run_inline(produce)
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(produce, write_fd)
    os.close(write_fd)
    run = Run()
    buffer = b""
    deadline = started + max(0.05, budget)
    try:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    run.timed_out = True
                    break
                ready, _, _ = select.select([pipe], [], [], left)
                if not ready:
                    continue
                chunk = pipe.read(65536)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    message = json.loads(line)
                    if "done" in message:
                        run.seconds = time.monotonic() - started
                        return run
                    if "crash" in message:
                        run.crashed = message["crash"]
                    else:
                        run.items.append(message["item"])
            if not run.timed_out and run.crashed is None:
                run.crashed = "the code ended the process"
    finally:
        _reap(pid)
        run.seconds = time.monotonic() - started
    return run


def _child(produce: Callable[[], Iterator[Any]], write_fd: int) -> None:
    """Compute and stream the items; exit without running any of the parent's exit handlers."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        _mute_ipython()
        with os.fdopen(write_fd, "wb", buffering=0) as pipe:
            try:
                for item in produce():
                    pipe.write(json.dumps({"item": item}).encode() + b"\n")
                pipe.write(b'{"done": true}\n')
            except BaseException as exc:  # noqa: BLE001 - reported, never raised into the kernel
                pipe.write(json.dumps({"crash": f"{type(exc).__name__}: {exc}"[:300]}).encode() + b"\n")
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _mute_ipython() -> None:
    """In the child: nothing reaches the notebook (ipykernel forwards a forked child's output)."""
    import io
    import sys

    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    sys.displayhook = lambda value: None
    try:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            ip.display_pub.publish = lambda *args, **kwargs: None
    except Exception:  # noqa: BLE001 - plain Python: nothing to mute
        pass


def _reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _run_inline(produce: Callable[[], Iterator[Any]]) -> Run:
    run = Run()
    started = time.monotonic()
    try:
        for item in produce():
            run.items.append(json.loads(json.dumps(item)))
    except Exception as exc:  # noqa: BLE001
        run.crashed = f"{type(exc).__name__}: {exc}"[:300]
    run.seconds = time.monotonic() - started
    return run
