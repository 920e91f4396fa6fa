"""Resource limits of one sandbox: a cgroup when this machine lets us make one, rlimits always.

* **cgroup** (v1 or v2, where the grading user may create one — root on these machines): a limit on
  the sandbox's *total* memory (swap included) and on its number of tasks (processes and threads),
  and the counters that say afterwards which limit was hit (``oom_kill``, ``pids.events``).
* **rlimits** on every process of the sandbox: CPU seconds (``RLIMIT_CPU``: the kernel is stopped
  with SIGXCPU), the largest file it may write, no core dumps; without a cgroup also the address
  space of each process (``RLIMIT_AS``) and the number of tasks of the user (``RLIMIT_NPROC``,
  which Linux never enforces for root: there only the cgroup stops a fork bomb).
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SIGXCPU_EXIT = 128 + signal.SIGXCPU  # how bubblewrap reports a sandbox whose process hit RLIMIT_CPU
PREFIX = "driftlab-"  # cgroup names: driftlab-<pid of the grading process>-<random>


@dataclass(frozen=True)
class Limits:
    """What one submission's sandbox may use."""

    memory_mb: int = 3072
    cpu_seconds: int = 900
    tasks: int = 256
    file_mb: int = 1024

    def messages(self) -> dict[str, str]:
        """The reason recorded for each breach (shown as "could not grade: …")."""
        return {
            "tasks": f"process limit: the notebook tried to run more than {self.tasks} processes and threads "
                     "at once (sandbox limit)",
            "memory": f"memory limit: the notebook's processes needed more than {self.memory_mb} MB (sandbox limit)",
            "cpu": f"CPU-time limit: the notebook used more than {self.cpu_seconds} s of CPU time (sandbox limit)",
        }


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _counter(path: Path, name: str) -> int:
    """``name N`` from a cgroup key-value file (0 when absent)."""
    for line in _read(path).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == name and parts[1].isdigit():
            return int(parts[1])
    return 0


def _membership() -> dict[str, str]:
    """This process's cgroup path per controller (``""`` for the v2 hierarchy)."""
    found = {}
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            found[name] = path
    return found


def _mounts() -> list[tuple[str, Path, set[str]]]:
    """``(fstype, mount point, options)`` of every cgroup file system."""
    found = []
    for line in _read(Path("/proc/self/mounts")).splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
            found.append((parts[2], Path(parts[1]), set(parts[3].split(","))))
    return found


@dataclass
class Cgroups:
    """The cgroup directories of one sandbox (one per v1 controller, or one v2 directory)."""

    limits: Limits
    version: int
    dirs: dict[str, Path] = field(default_factory=dict)  # controller ("pids", "memory", "cpu"; v2: "") -> dir

    @property
    def procs_files(self) -> list[str]:
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def breach(self) -> str | None:
        """Which limit the sandbox hit, if any (read before :meth:`remove`)."""
        msg = self.limits.messages()
        pids = self.dirs.get("pids", self.dirs.get(""))
        if pids is not None and _counter(pids / "pids.events", "max") > 0:
            return msg["tasks"]
        memory = self.dirs.get("memory", self.dirs.get(""))
        if memory is not None:
            events = memory / ("memory.oom_control" if self.version == 1 else "memory.events")
            if _counter(events, "oom_kill") > 0:
                return msg["memory"]
        if self.cpu_seconds() >= self.limits.cpu_seconds:
            return msg["cpu"]
        return None

    def cpu_seconds(self) -> float:
        """CPU time used by every process of the sandbox so far (0 where not accounted)."""
        if self.version == 1 and "cpuacct" in self.dirs:
            text = _read(self.dirs["cpuacct"] / "cpuacct.usage").strip()
            return int(text) / 1e9 if text.isdigit() else 0.0
        if self.version == 2:
            return _counter(self.dirs[""] / "cpu.stat", "usage_usec") / 1e6
        return 0.0

    def kill_all(self) -> None:
        """SIGKILL whatever is still in the sandbox's cgroups (its PID namespace should have done so)."""
        for procs in self.procs_files:
            for pid in _read(Path(procs)).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass

    def remove(self, patience: float = 5.0) -> None:
        """Remove the directories once their processes are gone."""
        deadline = time.monotonic() + patience
        for d in sorted(set(self.dirs.values()), key=lambda p: -len(p.parts)):
            while True:
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    self.kill_all()
                    time.sleep(0.05)


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _make_v1(group: Cgroups, name: str, mounts, membership) -> bool:
    limits = group.limits
    for controller in ("pids", "memory", "cpuacct"):
        mount = next((m for fs, m, opts in mounts if fs == "cgroup" and controller in opts), None)
        if mount is None or controller not in membership:
            if controller == "cpuacct":
                continue  # accounting only: each process's RLIMIT_CPU still applies
            return False
        d = mount / membership[controller].lstrip("/") / name
        d.mkdir()
        group.dirs[controller] = d
    _write(group.dirs["pids"] / "pids.max", str(limits.tasks))
    memory = group.dirs["memory"]
    _write(memory / "memory.limit_in_bytes", str(limits.memory_mb << 20))
    if (memory / "memory.memsw.limit_in_bytes").exists():  # swap counted too, where the kernel accounts it
        _write(memory / "memory.memsw.limit_in_bytes", str(limits.memory_mb << 20))
    return True


def _make_v2(group: Cgroups, name: str, mounts, membership) -> bool:
    limits = group.limits
    mount = next((m for fs, m, _ in mounts if fs == "cgroup2"), None)
    if mount is None or "" not in membership:
        return False
    parent = mount / membership[""].lstrip("/")
    if not {"pids", "memory"} <= set(_read(parent / "cgroup.controllers").split()):
        return False
    if not {"pids", "memory"} <= set(_read(parent / "cgroup.subtree_control").split()):
        _write(parent / "cgroup.subtree_control", "+pids +memory")  # fails where the parent holds processes
    d = parent / name
    d.mkdir()
    group.dirs[""] = d
    _write(d / "pids.max", str(limits.tasks))
    _write(d / "memory.max", str(limits.memory_mb << 20))
    if (d / "memory.swap.max").exists():
        _write(d / "memory.swap.max", "0")
    return True


def make_cgroups(name: str, limits: Limits) -> Cgroups | None:
    """Fresh cgroups for one sandbox with its limits set, or None where this user may not make them."""
    mounts, membership = _mounts(), _membership()
    for version, make in ((1, _make_v1), (2, _make_v2)):
        group = Cgroups(limits, version)
        try:
            if make(group, name, mounts, membership):
                return group
        except OSError:
            pass
        group.remove(patience=0)  # whatever part was made
    return None


def rlimits(limits: Limits, cgroup: bool) -> dict[str, tuple[int, int]]:
    """The (soft, hard) rlimits every process of the sandbox gets (names of :mod:`resource` constants).

    The CPU limit's hard value is a few seconds above the soft one: at the soft limit the process gets
    SIGXCPU (ends it, and says why in the exit status); at the hard limit, SIGKILL (says nothing).
    """
    found = {"RLIMIT_CPU": (limits.cpu_seconds, limits.cpu_seconds + 5),
             "RLIMIT_FSIZE": (limits.file_mb << 20,) * 2, "RLIMIT_CORE": (0, 0)}
    if not cgroup:
        found["RLIMIT_AS"] = (limits.memory_mb << 20,) * 2
        if os.geteuid() != 0:  # counted per user, so leave room for what the user already runs
            found["RLIMIT_NPROC"] = (_tasks_of_user() + limits.tasks,) * 2
    return found


def _tasks_of_user() -> int:
    uid, count = os.getuid(), 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(list((entry / "task").iterdir()))
            except OSError:
                continue
    return count


def sandbox_cgroups() -> list[Path]:
    """Every sandbox cgroup directory beside this process's own cgroups (any grading process's)."""
    mounts, membership = _mounts(), _membership()
    found: set[Path] = set()
    for fs, mount, opts in mounts:
        for controller, path in membership.items():
            if controller in opts or (fs == "cgroup2" and controller == ""):
                found.update((mount / path.lstrip("/")).glob(PREFIX + "*"))
    return sorted(found)


def sweep_cgroups(alive: Callable[[int], bool]) -> None:
    """Remove the cgroups of sandboxes whose grading process is gone (killed before it could close them),
    first killing any process still in them: a sandboxed kernel must never outlive its grader, even one
    that was SIGKILLed (bubblewrap's --die-with-parent has been seen not to fire then)."""
    orphans = [d for d in sandbox_cgroups()
               if (owner := d.name[len(PREFIX):].split("-")[0]).isdigit() and not alive(int(owner))]
    for d in orphans:
        for pid in _read(d / "cgroup.procs").split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, ValueError):
                pass
    deadline = time.monotonic() + 2.0
    for d in orphans:
        while _read(d / "cgroup.procs").strip() and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            d.rmdir()
        except OSError:
            pass
