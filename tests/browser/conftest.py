"""Real-browser fixtures: JupyterLab on a free loopback port, driven by Debian's Chromium via Playwright.

JupyterLab serves a temporary copy of ``notebooks/`` (runs never dirty the repository), with its own
settings, user-settings and workspaces folders, an ``overrides.json`` that turns off the news toast
and renders every cell (no windowing, so the whole notebook is in the page). It is started once per
test session and stopped by its PID; every test gets a fresh browser context, and the server's
sessions (kernels) are deleted after each test. Screenshots go to ``test-output/browser/``.

Run All of each notebook happens once per session (``notebook_runs``): the tests that look at the
result (no error, axe-core's accessibility rules) share it.

The browser is ``/usr/bin/chromium`` (``apt-get install chromium``); ``playwright install`` is never
used.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser import lab_ui as ui
from tests.browser.lab_ui import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, new_page

OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}


class Lab:
    """A running JupyterLab: its URL, token, served folder, and a small REST client."""

    def __init__(self, url: str, token: str, root: Path, process: subprocess.Popen, log: Path) -> None:
        self.url, self.token, self.root, self.process, self.log = url, token, root, process, log

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> None:
        """Shut down every session (and its kernel) so the next test starts clean."""
        for session in self.api("GET", "/api/sessions") or []:
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            except urllib.error.HTTPError:
                pass

    def notebook_url(self, relative: str) -> str:
        return f"{self.url}/lab/tree/{relative}?reset&token={self.token}"


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory) -> Lab:
    """Start JupyterLab (module 'jupyterlab' of this venv) and wait for /api/status; stop it by PID."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get install -y chromium` (make test does it on CI)")
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = base / "app-settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
    port, token = free_port(), secrets.token_hex(16)
    log = base / "jupyterlab.log"
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["JUPYTER_CONFIG_DIR"] = str(base / "config")  # no user config leaks in
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.pop("NBGRADER_EXECUTION", None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
           f"--ServerApp.root_dir={root}", f"--LabApp.app_settings_dir={settings}",
           f"--LabApp.user_settings_dir={base / 'user-settings'}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
           "--ServerApp.open_browser=False"]
    handle = open(log, "w")
    process = subprocess.Popen(cmd, cwd=base, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, process, log)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            server.api("GET", "/api/status")
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                _stop(process)
                pytest.fail(f"JupyterLab did not answer /api/status in 90 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    yield server
    try:
        server.delete_sessions()
    except Exception:
        pass
    _stop(process)
    handle.close()


def _stop(process: subprocess.Popen) -> None:
    """Stop JupyterLab by its PID (its process group: the server and its kernels)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, lab_server, request):
    """A fresh browser page; afterwards the server's sessions are deleted."""
    context, pg = new_page(browser, request.node.name)
    yield pg
    try:
        pg.shots.take("final")
    except Exception:
        pass
    context.close()
    lab_server.delete_sessions()


@dataclass
class NotebookRun:
    """What one Run All of a notebook in JupyterLab left: counts, the saved notebook, axe-core's result."""

    relative: str
    seconds: float = 0.0           # Run All, menu click to every cell done
    axe_seconds: float = 0.0
    code_cells: int = 0
    ran_cells: int = 0
    shown_errors: int = 0          # error outputs rendered in the page
    toasts: int = 0                # notification toasts on screen after Run All
    saved: dict = field(default_factory=dict)
    axe: dict = field(default_factory=dict)


class NotebookRuns:
    """Runs each notebook once (open, Run All, save, axe-core) and keeps the result for every test."""

    def __init__(self, browser, lab_server) -> None:
        self.browser, self.lab_server = browser, lab_server
        self.done: dict[str, NotebookRun | BaseException] = {}

    def get(self, relative: str) -> NotebookRun:
        if relative not in self.done:
            try:
                self.done[relative] = self._run(relative)
            except Exception as exc:  # every test of this notebook reports the same failure
                self.done[relative] = exc
        result = self.done[relative]
        if isinstance(result, BaseException):
            raise AssertionError(f"Run All of {relative} failed: {result!r}") from result
        return result

    def _run(self, relative: str) -> NotebookRun:
        context, pg = new_page(self.browser, f"run_all-{relative}")
        run = NotebookRun(relative)
        try:
            ui.open_notebook(pg, self.lab_server, relative)
            start = time.monotonic()
            ui.run_all(pg)
            ui.wait_every_cell_ran(pg)
            run.seconds = time.monotonic() - start
            ui.wait_widgets_rendered(pg)
            pg.shots.take("ran-all")
            run.code_cells = pg.locator(".jp-CodeCell").count()
            run.ran_cells = pg.locator(".jp-CodeCell .jp-InputArea-prompt", has_text=re.compile(r"\[\d+\]")).count()
            run.shown_errors = pg.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error'], "
                ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count()
            run.toasts = pg.locator(ui.NEWS_TOAST).count()
            start = time.monotonic()
            run.axe = ui.run_axe(pg)
            run.axe_seconds = time.monotonic() - start
            run.saved = ui.save(pg, self.lab_server, relative)
            return run
        finally:
            try:
                pg.shots.take("final")
            except Exception:
                pass
            context.close()
            self.lab_server.delete_sessions()


@pytest.fixture(scope="session")
def notebook_runs(browser, lab_server) -> NotebookRuns:
    return NotebookRuns(browser, lab_server)
