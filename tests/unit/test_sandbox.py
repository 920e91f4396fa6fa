"""The grading sandbox without a kernel: what a process inside sees and may do, and each limit's reason.

Each test starts a real Python in a real bubblewrap sandbox (``Sandbox.run``, as the judge's blanks
runner does); the kernel path and the hostile corpus are in tests/integration/test_sandbox.py.
``make test`` installs bubblewrap, so these tests fail (not skip) where it is missing.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import psutil
import pytest

from grader.sandbox import Sandbox, SandboxUnavailable
from grader.sandbox import view
from grader.sandbox.limits import make_cgroups, Limits
from tests.support import ROOT

PROBE = r'''
import json, os, socket, site, sys
report = {"cwd": os.getcwd(), "uid": os.getuid(), "pid": os.getpid(), "env": sorted(os.environ)}
report["sees"] = {p: os.path.exists(p) for p in sys.argv[1:]}
def can_write(path):
    try:
        with open(path, "a"):
            pass
        return True
    except OSError:
        return False
report["writes"] = {
    "cwd": can_write("mine.txt"), "tmp": can_write("/tmp/mine.txt"),
    "package": can_write(os.path.join(os.path.dirname(__import__("driftlab").__file__), "x.py")),
    "site-packages": can_write(os.path.join(site.getsitepackages()[0], "zz.pth")),
}
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    report["network"] = "connected"
except OSError as exc:
    report["network"] = type(exc).__name__
print(json.dumps(report))
'''


def _run(code: str, *args: str, timeout: float = 60, **limits) -> tuple:
    return Sandbox(**limits).run([sys.executable, "-c", code, *args], "", timeout)


def test_a_sandboxed_process_sees_the_system_and_driftlab_but_not_the_course(monkeypatch, tmp_path):
    monkeypatch.setenv("DRIFTLAB_INSTRUCTOR_TOKEN", "secret")
    other = tmp_path / "other-learner.ipynb"
    other.write_text("{}")
    hidden = [ROOT / "solutions", ROOT / "grader", ROOT / "nbgrader_config.py", ROOT / ".git", other,
              Path("/etc/shadow")]
    proc, breach = _run(PROBE, *map(str, hidden + [ROOT / "driftlab" / "__init__.py", Path(sys.prefix)]))
    assert proc.returncode == 0 and breach is None, proc.stderr
    report = json.loads(proc.stdout)
    assert not any(report["sees"][str(p)] for p in hidden), report["sees"]
    assert report["sees"][str(ROOT / "driftlab" / "__init__.py")] and report["sees"][sys.prefix]
    assert report["writes"] == {"cwd": True, "tmp": True, "package": False, "site-packages": False}
    assert report["network"] in ("ConnectionRefusedError", "OSError") and report["network"] != "connected"
    assert "DRIFTLAB_INSTRUCTOR_TOKEN" not in report["env"] and report["uid"] != 0 and report["pid"] <= 3
    assert not Path(report["cwd"]).exists()  # the scratch folder is gone with the sandbox


def test_every_process_ends_with_the_sandbox():
    code = ("import subprocess, sys\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', 'driftlab-sandbox-unit'],"
            " start_new_session=True)\n"
            "subprocess.Popen(['sh', '-c', 'sleep 300; : driftlab-sandbox-unit'], start_new_session=True)\n")
    proc, breach = _run(code)
    assert proc.returncode == 0 and breach is None, proc.stderr
    time.sleep(0.5)
    left = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
            if "driftlab-sandbox-unit" in " ".join(p.info["cmdline"] or [])]
    assert left == []


@pytest.mark.parametrize("code,limits,reason", [
    ("import os\nwhile True:\n    os.fork()\n", {"tasks": 32}, "process limit"),
    ("blob = b'x' * (1024 ** 3)\n", {"memory_mb": 256}, "memory limit"),
    ("while True:\n    pass\n", {"cpu_seconds": 1}, "CPU-time limit"),
], ids=["fork-bomb", "memory", "cpu"])
def test_each_limit_stops_the_sandbox_and_names_itself(code, limits, reason):
    group = make_cgroups("driftlab-probe-unit", Limits())
    if group is None and reason != "CPU-time limit":
        pytest.fail("this machine lets no cgroup be made: the process and memory limits are per process only")
    if group is not None:
        group.remove()
    started = time.monotonic()
    proc, breach = _run(code, timeout=60, **limits)
    assert breach is not None and reason in breach, (breach, proc and proc.stderr[-500:])
    assert time.monotonic() - started < 30


def test_bwrap_mode_refuses_to_grade_without_bubblewrap_and_auto_warns(caplog):
    with pytest.raises(SandboxUnavailable, match="not installed"):
        Sandbox(mode="bwrap", bwrap="/nonexistent/bwrap").unavailable()
    auto = Sandbox(mode="auto", bwrap="/nonexistent/bwrap-auto")
    with caplog.at_level(logging.WARNING):
        assert auto.active() is False
    assert "SANDBOX OFF" in caplog.text and "not installed" in caplog.text
    assert Sandbox(mode="off").unavailable().startswith("the sandbox is turned off")
    assert Sandbox().active() is True  # this machine has bubblewrap (make test installs it)


def test_only_the_scratch_folder_is_bound_writable(tmp_path):
    args = view.bwrap_args(writable=[tmp_path], chdir=tmp_path, env={"HOME": str(tmp_path)}, tmp_mb=64)
    binds = [args[i + 1] for i, a in enumerate(args) if a == "--bind"]
    read_only = [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]
    assert binds == [str(tmp_path)]
    assert str(ROOT) not in read_only and str(ROOT / "grader") not in read_only
    assert str(ROOT / "driftlab") in read_only and sys.prefix in read_only
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-user", "--die-with-parent", "--clearenv"):
        assert flag in args


def test_a_sandbox_left_by_a_killed_grader_is_ended_by_the_next_sweep():
    """A grader SIGKILLed before it closed its sandbox (seen in a full test run: bubblewrap's --die-with-parent
    did not fire): the next grading process's sweep kills what still runs in the dead grader's cgroups."""
    import signal
    import subprocess

    from grader.sandbox.limits import sandbox_cgroups, sweep_cgroups

    dead = subprocess.Popen(["true"])
    dead.wait()                                   # a pid that is no grader any more
    group = make_cgroups(f"driftlab-{dead.pid}-unitsweep", Limits())
    if group is None:
        pytest.skip("this machine lets no cgroup be made")
    victim = subprocess.Popen(["sleep", "60"])
    for procs in group.procs_files:
        with open(procs, "w") as fh:
            fh.write(str(victim.pid))
    try:
        sweep_cgroups(lambda pid: pid != dead.pid)
        assert victim.wait(timeout=5) == -signal.SIGKILL
        assert not any(d.name.endswith("-unitsweep") for d in sandbox_cgroups())
    finally:
        victim.kill()
        group.remove(patience=1)
