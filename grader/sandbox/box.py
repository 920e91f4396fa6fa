"""The grading sandbox: one bubblewrap container per kernel or snippet runner, set up by the course config.

A :class:`Sandbox` (configurable as ``c.Sandbox.*`` in ``nbgrader_config.py`` and on nbgrader's
command line) decides whether learner code is contained (``mode``: ``auto``, ``bwrap``, ``off``) and
with which limits; :meth:`Sandbox.open` makes one :class:`Box` — a private scratch folder, cgroups,
the bubblewrap command — for one process tree, and :meth:`Box.close` ends it and says which limit, if
any, it hit. What the learner's code sees inside is in :mod:`grader.sandbox.view`; threat model in
docs/GRADING.md.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from traitlets import Enum, Int, Unicode
from traitlets.config import LoggingConfigurable

from driftlab.errors import GradingError

from . import view
from .limits import PREFIX, SIGXCPU_EXIT, Cgroups, Limits, make_cgroups, rlimits, sweep_cgroups
from .streams import Ran, run_bounded

ENTER = Path(__file__).with_name("enter.py")
SCRATCH = "dl-sbx-"  # scratch folders in the temporary directory: dl-sbx-<pid of the grading process>-<random>
OFF_WARNING = ("SANDBOX OFF: {why}. Learners' code runs with your permissions: it can read solutions/ and "
               "gradebook.db, change the course and the installation, reach other submissions and the network, "
               "and leave processes running. Install bubblewrap (`make setup` does; Debian: apt-get install "
               "bubblewrap) to grade in the sandbox.")


class SandboxUnavailable(GradingError):
    """``mode = "bwrap"`` was asked for on a machine where bubblewrap cannot run."""


class LimitExceeded(GradingError):
    """A submission's sandbox hit a resource limit (the message is the reason recorded for it)."""


@lru_cache(maxsize=None)
def _probe(bwrap: str) -> str | None:
    """Why bubblewrap cannot contain a process here (None when it can)."""
    if not sys.platform.startswith("linux"):
        return "the sandbox needs Linux"
    path = shutil.which(bwrap)
    if path is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        proc = subprocess.run([path, "--unshare-user", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/",
                               "--proc", "/proc", "--dev", "/dev", "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if proc.returncode != 0:
        return f"bubblewrap cannot create namespaces on this machine: {proc.stderr.strip()[:200]}"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@lru_cache(maxsize=None)
def _sweep() -> None:
    """Once per process: remove what sandboxes of grading processes that were killed left behind."""
    sweep_cgroups(_alive)
    for folder in Path(tempfile.gettempdir()).glob(SCRATCH + "*"):
        owner = folder.name[len(SCRATCH):].split("-")[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


_warned: set[str] = set()


class Sandbox(LoggingConfigurable):
    """Where and with which limits learner code runs at grading time (one instance per use is fine)."""

    mode = Enum(["auto", "bwrap", "off"], "auto", help=(
        "auto: bubblewrap when it works on this machine, else no sandbox with a loud warning; "
        "bwrap: always (fail when unavailable); off: never (warns)")).tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable").tag(config=True)
    memory_mb = Int(Limits.memory_mb, help="Memory of all the sandbox's processes together (MB)").tag(config=True)
    cpu_seconds = Int(Limits.cpu_seconds, help="CPU time of each process of the sandbox (s)").tag(config=True)
    tasks = Int(Limits.tasks, help="Processes and threads the sandbox may run at once").tag(config=True)
    file_mb = Int(Limits.file_mb, help="Largest file the sandbox may write (MB)").tag(config=True)
    tmp_mb = Int(512, help="Size of the sandbox's private /tmp (MB)").tag(config=True)

    @property
    def limits(self) -> Limits:
        return Limits(self.memory_mb, self.cpu_seconds, self.tasks, self.file_mb)

    def unavailable(self) -> str | None:
        """Why grading runs without the sandbox (None when it runs in one); raises for ``mode = "bwrap"``."""
        if self.mode == "off":
            return "the sandbox is turned off (--sandbox off / Sandbox.mode)"
        why = _probe(self.bwrap)
        if why and self.mode == "bwrap":
            raise SandboxUnavailable(f"--sandbox bwrap: {why}")
        return why

    def active(self) -> bool:
        """True when learner code will run in bubblewrap; warns (once per process and reason) when not."""
        why = self.unavailable()
        if why and why not in _warned:
            _warned.add(why)
            self.log.warning(OFF_WARNING.format(why=why))
        return why is None

    def open(self, files_from: str | os.PathLike | None = None) -> "Box":
        """A new sandbox; ``files_from`` is the folder whose regular files its scratch folder starts with."""
        _sweep()
        name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        root = Path(tempfile.mkdtemp(prefix=f"{SCRATCH}{os.getpid()}-"))
        box = Box(self, name, root, make_cgroups(name, self.limits))
        box.fill(Path(files_from) if files_from else None)
        return box

    def run(self, argv: list[str], stdin: bytes | str, timeout: float, limit: int = 1 << 20) -> tuple[Ran, str | None]:
        """Run a command in a fresh sandbox: what it did (at most ``limit`` bytes of stdout kept; exit status
        None when stopped at ``timeout``) and the limit of the sandbox it hit, if any."""
        box = self.open()
        ran = None
        data = stdin.encode() if isinstance(stdin, str) else stdin
        try:
            ran = run_bounded(box.command(argv), data, timeout, limit, cwd=box.work, env=box.launcher_env())
        finally:
            breach = box.close(ran.returncode if ran else None)
        return ran, breach


@dataclass
class Box:
    """One sandbox: ``root`` holds ``run/`` (the kernel's connection file and sockets), ``work/`` (its
    working folder) and ``home/``; nothing else of this machine's disk is writable inside."""

    sandbox: Sandbox
    name: str
    root: Path
    cgroups: Cgroups | None
    closed: bool = field(default=False)

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def home(self) -> Path:
        return self.root / "home"

    def fill(self, source: Path | None, budget: int = 200 << 20) -> None:
        """Create the folders; copy ``source``'s regular files (the submission's own) into ``work/``."""
        for d in (self.run_dir, self.work, self.home):
            d.mkdir(mode=0o700)
        view.seed_home(self.home)
        if source is None or not source.is_dir():
            return
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source)
            if path.is_symlink() or not path.is_file() or ".ipynb_checkpoints" in rel.parts:
                continue
            budget -= path.stat().st_size
            if budget < 0:
                break
            (self.work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, self.work / rel)

    def env(self) -> dict[str, str]:
        """The whole environment of the sandbox's first process (nothing of the instructor's is inherited)."""
        return view.environment(self.home)

    def launcher_env(self) -> dict[str, str]:
        """Environment of the launcher outside the sandbox (bubblewrap clears it for the inside)."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` wrapped: the launcher joins the cgroups, sets rlimits and becomes bubblewrap."""
        spec = {"cgroups": self.cgroups.procs_files if self.cgroups else [],
                "rlimits": rlimits(self.sandbox.limits, self.cgroups is not None)}
        bwrap = shutil.which(self.sandbox.bwrap) or self.sandbox.bwrap
        args = view.bwrap_args(writable=[self.root], chdir=self.work, env=self.env(), tmp_mb=self.sandbox.tmp_mb)
        return [sys.executable, "-I", "-S", str(ENTER), json.dumps(spec), bwrap, *args, "--", *argv]

    def close(self, status: int | None) -> str | None:
        """End the sandbox (every process left in it, its cgroups, its scratch folder); the limit it hit.

        ``status`` is the exit status of the launcher (bubblewrap passes on its first process's),
        None when it was killed for running too long.
        """
        if self.closed:
            return None
        self.closed = True
        breach = None
        if self.cgroups is not None:
            self.cgroups.kill_all()
            breach = self.cgroups.breach()
            self.cgroups.remove()
        if breach is None and status == SIGXCPU_EXIT:  # without cgroups: the kernel's own CPU limit
            breach = self.sandbox.limits.messages()["cpu"]
        shutil.rmtree(self.root, ignore_errors=True)
        return breach
