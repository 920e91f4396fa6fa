"""Grading kernels in the sandbox, through jupyter_client's and nbgrader's own extension points.

* :class:`SandboxProvisioner` — a jupyter_client kernel provisioner (the documented way to change how
  a kernel is launched): it opens a :class:`~grader.sandbox.box.Box`, puts the kernel's connection
  file and ZeroMQ sockets (IPC transport: the sandbox has no network) in the box, starts the kernel
  inside bubblewrap — stdin ``/dev/null``, stdout and stderr one pipe it drains keeping the last
  64 KB (:class:`~grader.sandbox.streams.Tail`), nothing else of the grader's — and, when the
  kernel is gone, closes the box and records which limit was hit.
  Registered as the ``driftlab-sandbox`` provisioner (pyproject entry point).
* :class:`SandboxedKernelManager` — an ``AsyncKernelManager`` that always uses that provisioner, and
  :class:`BoundedKernelClient`, whose sockets refuse a message over ``c.OutputLimits.message_mb``.
* :class:`SandboxedExecute` — nbgrader's ``Execute`` with that kernel manager; a breached limit fails
  the submission with the reason (``LimitExceeded: memory limit: …``), which nbgrader logs and
  ``driftlab grade`` records as "could not grade: …"; it keeps at most ``c.OutputLimits.*`` of the
  kernel's output (:class:`~grader.sandbox.output.BoundedOutput`).
"""
from __future__ import annotations

import subprocess
import uuid
from typing import Any

import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from nbgrader.preprocessors import Execute
from traitlets import Bool, default

from driftlab.protocol import HIDDEN_TESTS_CELL

from .box import Box, LimitExceeded, Sandbox
from .messages import GuardedMessages, SafeSession
from .output import BoundedOutput, OutputLimits
from .streams import Tail


class SandboxProvisioner(LocalProvisioner):
    """Launch the kernel in a fresh sandbox (or, when the sandbox is off, as the local provisioner does)."""

    box: Box | None = None
    exit_status: int | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        sandbox = Sandbox(parent=self)
        if sandbox.active():
            self.box = sandbox.open(kwargs.get("cwd"))
            km = self.parent
            km.cache_ports = False
            km.transport = "ipc"
            km.ip = str(self.box.run_dir / "kernel")
            km.connection_file = str(self.box.run_dir / "connection.json")
            # Interrupts travel as a message on the control channel: a signal would reach bubblewrap.
            self.kernel_spec.interrupt_mode = "message"
        return await super().pre_launch(**kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        if self.box is not None:
            cmd = self.box.command(cmd)
            kwargs["cwd"] = str(self.box.work)
            kwargs["env"] = self.box.launcher_env()
        # Never the grader's terminal, log file or type-ahead: stdin is /dev/null, stdout and stderr a pipe.
        kwargs.update(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        info = await super().launch_kernel(cmd, **kwargs)
        if self.parent is not None:
            self.parent.kernel_output = Tail(self.process.stdout)
        return info

    async def wait(self) -> int | None:
        status = self.process.poll() if self.process else None
        code = await super().wait()
        self.exit_status = code if status is None else status
        return code

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart)
        if self.box is not None and not restart:
            status = self.process.poll() if self.process is not None else self.exit_status
            if self.process is not None and status is None:  # still running: it must end with its box
                self.process.kill()
                status = self.process.wait()
            breach = self.box.close(status)
            self.box = None
            if breach and self.parent is not None:
                self.parent.sandbox_breach = breach
                self.log.warning("sandbox: %s", breach)


class BoundedKernelClient(AsyncKernelClient):
    """A kernel client whose sockets refuse any message (frame) over ``c.OutputLimits.message_mb``: ZeroMQ
    drops the link instead of allocating it (:class:`~grader.sandbox.output.LinkWatch` reconnects)."""

    @default("context")
    def _bounded_context(self) -> zmq.asyncio.Context:
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, OutputLimits(parent=self).message_mb << 20)  # every socket made from it
        return context


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start through :class:`SandboxProvisioner` and talk to a
    :class:`BoundedKernelClient`."""

    sandbox_breach: str | None = None
    kernel_output: Tail | None = None  # the kernel's stdout and stderr (their last 64 KB)

    @default("session")
    def _safe_session(self) -> SafeSession:
        return SafeSession(parent=self)  # a message with a bad or replayed signature is a note, not an exception

    @default("client_factory")
    def _bounded_client(self) -> type:
        return BoundedKernelClient

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = SandboxProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                                  connection_info={}, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def memory_errors(nb: Any) -> bool:
    """True when a cell ran out of memory inside the kernel (the per-process limit, without a cgroup)."""
    return any(out.get("output_type") == "error" and out.get("ename") == "MemoryError"
               for cell in nb.cells for out in cell.get("outputs", []))


class SandboxedExecute(GuardedMessages, BoundedOutput, Execute):
    """nbgrader's Execute step with the kernel in the sandbox; a breached limit fails the submission."""

    raise_on_iopub_timeout = Bool(False, help=(
        "Fail the notebook when a cell's output does not all arrive within iopub_timeout (nbgrader: True). "
        "False: the cell ends with a note; a flood or a refused over-size message must not cost the grade"),
    ).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def create_kernel_manager(self):
        self._managers.append(super().create_kernel_manager())
        return self.km

    def _breach(self) -> str | None:
        return next((km.sandbox_breach for km in self._managers if getattr(km, "sandbox_breach", None)), None)

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None):
        self._managers: list[Any] = []
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except Exception as exc:
            breach = self._breach()
            if breach:
                raise LimitExceeded(breach) from exc
            for manager in self._managers:  # why a kernel died or did not start, in its own words
                tail = getattr(manager, "kernel_output", None)
                if tail is not None:
                    tail.join(2)
                if tail is not None and tail.total:
                    self.log.warning("the kernel's output (stdout and stderr, the last 64 KB):\n%s", tail.text())
            raise
        breach = self._breach()
        if breach is None and memory_errors(nb):
            breach = Sandbox(parent=self).limits.messages()["memory"]
        if breach:
            raise LimitExceeded(breach)
        return nb, resources

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        """While the hidden tests run (the last cell, appended and marked by the judge's ``StripKeys``)
        nothing reaches another cell or the widget state: updates of earlier outputs by display id, widget
        messages and output-widget capture are dropped; the cell's own outputs stay (the judge removes it)."""
        if cell_index == len(self.nb.cells) - 1 and cell.get("metadata", {}).get(HIDDEN_TESTS_CELL):
            kind = msg.get("msg_type", "")
            if kind == "update_display_data" or kind.startswith("comm"):
                return None
            self.output_hook_stack.pop(msg.get("parent_header", {}).get("msg_id"), None)
            if (msg.get("content") or {}).get("transient"):
                msg = {**msg, "content": {**msg["content"], "transient": {}}}
        return super().process_message(msg, cell, cell_index)
