"""What a sandboxed process sees: the bubblewrap arguments and the environment (pure, no side effects
but :func:`seed_home`).

Inside: a read-only system (``/usr`` and the few files of ``/etc`` programs need), a read-only
Python — the interpreter, the virtualenv and the ``driftlab`` package the notebooks import — and
writable only the sandbox's own scratch folder and a private ``/tmp``. The course (``solutions/``,
``source/``, ``gradebook.db``, ``release/``), the ``grader`` package, the output folder, other
submissions, home folders and the rest of the disk are simply not there. No network (an empty
network namespace), its own PID namespace (every process ends with the sandbox), no capabilities
(a user namespace, also for root), its own session (no terminal to inject keystrokes into).
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import driftlab

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# /etc: only what the interpreter and its libraries read (users, time zone, fonts, certificates, loader).
ETC = ("passwd", "group", "nsswitch.conf", "hosts", "localtime", "timezone", "ld.so.cache", "ld.so.conf",
       "ld.so.conf.d", "fonts", "ssl", "ca-certificates", "mime.types", "alternatives", "matplotlibrc")
PASSTHROUGH = ("MPLBACKEND", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED", "TZ")


def python_paths() -> list[Path]:
    """Read-only folders the kernel's Python needs: the interpreter's prefix, the virtualenv, driftlab."""
    paths = [Path(sys.base_prefix), Path(sys.prefix), Path(driftlab.__file__).resolve().parent]
    exe = Path(sys.executable).resolve().parent.parent
    paths.append(exe)
    found: list[Path] = []
    for p in (q.resolve() for q in paths):
        if not any(p == f or f in p.parents for f in found) and not p.is_relative_to("/usr"):
            found = [f for f in found if p not in f.parents] + [p]
    return found


def bwrap_args(writable: list[Path], chdir: Path, env: dict[str, str], tmp_mb: int) -> list[str]:
    """bubblewrap's options for a sandbox whose only writable folders are ``writable``."""
    args = ["--unshare-user", "--uid", "1000", "--gid", "1000", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--clearenv"]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    for top in SYSTEM:
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for path in python_paths():
        args += ["--ro-bind", str(path), str(path)]
    args += ["--dev", "/dev", "--proc", "/proc", "--size", str(tmp_mb << 20), "--tmpfs", "/tmp"]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    return args + ["--chdir", str(chdir)]


def environment(home: Path) -> dict[str, str]:
    """The sandbox's environment: a fixed minimum and a few harmless settings (threads, backend)."""
    env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
           "HOME": str(home), "USER": "learner", "LOGNAME": "learner", "LANG": "C.UTF-8", "TMPDIR": "/tmp",
           "MPLCONFIGDIR": str(home / ".matplotlib"), "PYTHONDONTWRITEBYTECODE": "1",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1",
           "JPY_PARENT_PID": "1"}  # ipykernel: the parent is the sandbox's init (no poller, no console note)
    env.update({k: os.environ[k] for k in PASSTHROUGH if k in os.environ})
    return env


def seed_home(home: Path) -> None:
    """Give the sandbox matplotlib's font list, so it does not rebuild it (seconds) on every kernel."""
    cache = Path(os.environ.get("MPLCONFIGDIR") or Path.home() / ".cache" / "matplotlib")
    target = home / ".matplotlib"
    target.mkdir(exist_ok=True)
    for font_list in cache.glob("fontlist-*.json") if cache.is_dir() else []:
        shutil.copyfile(font_list, target / font_list.name)
