"""The `driftlab` command: `lab` serves the course headless; `build --check` is wired up."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tests.support import MODULES

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_lab_serves_the_learner_notebooks_headless(tmp_path):
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([str(BIN / "driftlab"), "lab", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url, lines = None, []
        deadline = time.time() + 90
        while time.time() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(rf"(http://127\.0\.0\.1:{port}/lab\?token=\w+)", line)
            url = m.group(1) if m else None
        assert url, "".join(lines)
        token = url.split("token=")[1]
        listing = None
        while listing is None and time.time() < deadline:
            try:
                listing = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/?token={token}", timeout=10))
            except OSError:
                time.sleep(0.5)
        assert listing is not None, "the server printed its URL but never answered"
        names = {item["name"] for item in listing["content"]}
        assert set(MODULES) <= names
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        assert "JupyterLab" in page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_cli_help_lists_the_workflows():
    out = subprocess.run([str(BIN / "driftlab"), "--help"], capture_output=True, text=True).stdout
    for command in ("lab", "build"):
        assert command in out


def test_grade_follows_the_course_configs_sandbox_mode_unless_told(tmp_path):
    """Plain nbgrader honours c.Sandbox.mode; driftlab grade must too (``--sandbox`` overrides it)."""
    import argparse

    from grader.batch import cli
    from grader.nbgrader import ROOT, course_config

    assert course_config(ROOT).Sandbox.mode == "auto"
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text('c = get_config()\nc.Sandbox.mode = "off"\n')
    for given, expected in ((None, "off"), ("auto", "auto")):
        args = argparse.Namespace(course=course, out=tmp_path / "out", sandbox=given, module=None,
                                  submissions=tmp_path / "missing")
        assert cli.run_grade(args) == 2  # no submissions folder: stops after deciding the sandbox
        assert args.sandbox == expected
    assert course_config(tmp_path / "none").Sandbox.get("mode", "auto") == "auto"
