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


# ------------------------------------------------- what a sandboxed process can make the grader hold (issue 22)

def test_a_flood_on_a_sandboxed_processs_stdout_is_read_with_a_bound():
    code = "import os\nfor _ in range(300):\n    os.write(1, b'x' * (1 << 20))\nos.write(2, b'\\x1b[2J bye')\n"
    started = time.monotonic()
    ran, breach = Sandbox().run([sys.executable, "-c", code], b"", 60, limit=1 << 20)
    assert breach is None and ran.returncode == 0 and ran.overflowed
    assert len(ran.stdout) == 1 << 20 and ran.stdout_total == 300 << 20  # read to the end, 1 MB kept
    assert ran.stderr.endswith("\\x1b[2J bye")  # its stderr's tail, escape sequences shown inert
    assert time.monotonic() - started < 30


def test_a_sandboxed_process_gets_none_of_the_graders_descriptors(tmp_path):
    """Even a descriptor handed on explicitly (pass_fds) is closed before bubblewrap starts; stdin is the pipe the
    grader wrote and closed, stdout and stderr pipes, no terminal."""
    import os
    import subprocess

    secret = os.open(tmp_path / "grader.log", os.O_WRONLY | os.O_CREAT)
    box = Sandbox().open()
    try:
        code = ("import json, os, sys; fds = os.listdir('/proc/self/fd'); print(json.dumps({'fds': {f: os.readlink("
                "'/proc/self/fd/' + f) for f in fds if os.path.exists('/proc/self/fd/' + f)}, 'tty': [os.isatty(i) for "
                "i in (0, 1, 2)], 'stdin': sys.stdin.read()}))")
        proc = subprocess.run(box.command([sys.executable, "-c", code]), input=b"input", capture_output=True,
                              cwd=box.work, env=box.launcher_env(), pass_fds=(secret,), timeout=60)
    finally:
        box.close(None)
        os.close(secret)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["tty"] == [False, False, False] and report["stdin"] == "input"
    assert report["fds"]["1"].startswith("pipe:") and report["fds"]["2"].startswith("pipe:")
    assert set(report["fds"]) <= {"0", "1", "2", "3"}, report  # 3: the listing's own, if still open
    assert not any("grader.log" in target for target in report["fds"].values()), report
    assert "--new-session" in view.bwrap_args([tmp_path], tmp_path, {}, 64)  # no controlling terminal either


def test_a_blank_cannot_reach_the_runners_pipes_through_proc():
    from grader.judge import run_snippets

    code = ("import os\nopen('/proc/%d/fd/1' % os.getppid(), 'w').write('[[]]' + 'x' * 10**8)\n"
            "if changed == True:\n    alert('drift')")
    ran = run_snippets([{"code": code, "probes": [{"changed": "True"}], "observe": ["alert"], "setup": "",
                         "timeout": 10}], 60, Sandbox())
    assert ran is not None and len(ran[0]) == 1 and "PermissionError" in (ran[0][0].error or "")


def test_output_is_counted_as_it_arrives_and_what_was_dropped_is_noted():
    from driftlab.protocol import OUTPUTS_MIME
    from grader.sandbox.output import OutputBudget, OutputLimits

    budget = OutputBudget(OutputLimits(cell_text_kb=4, cell_display_kb=8, notebook_mb=1))
    stream = {"msg_type": "stream", "content": {"name": "stdout", "text": "x" * 900}}  # ~930 bytes counted
    assert [budget.admit(stream, 0) for _ in range(5)] == [True] * 4 + [False]  # 4 KB of text in cell 0
    assert budget.admit(stream, 1)  # the next cell has its own budget
    image = {"msg_type": "display_data", "content": {"data": {"image/png": "A" * 3000}, "metadata": {}}}
    assert [budget.admit(image, 0) for _ in range(3)] == [True, True, False]
    assert budget.admit({"msg_type": "status", "content": {"execution_state": "idle"}}, 0)
    assert not budget.admit({"msg_type": "x" * 100, "content": {}}, 0)  # not output: dropped, never logged
    notes = budget.notes(0)
    assert len(notes) == 2 and "text output passed 4 KB" in notes[0] and "display output passed 8 KB" in notes[1]
    assert budget.notes(1) == []
    big = {"msg_type": "stream", "content": {"name": "stdout", "text": "x" * 3000}}
    for cell in range(2, 400):
        budget.admit(big, cell)
    assert "the notebook's output passed 1.0 MB" in budget.notes(399)[0]
    report = {"msg_type": "display_data", "content": {"data": {OUTPUTS_MIME: {"exercise": "e", "pad": "x" * 5000}}}}
    assert budget.admit(report, 400, test=True) and not budget.admit(report, 401, test=False)  # the judge's input


def test_message_size_walks_deep_content_without_recursion():
    from grader.sandbox.output import message_size

    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert message_size({"data": deep}) > 100_000
    assert message_size({"text": "x" * 1000}, [b"y" * 500]) >= 1500
