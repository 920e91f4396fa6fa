"""Usable by everyone, from the first open: axe-core on every notebook after Run All, and `driftlab lab`
without JupyterLab's "Jupyter news" toast.

* Every notebook is opened in JupyterLab and run (Run > Run All, once per session, shared with
  ``test_browser.py``); axe-core is injected into the page and runs the WCAG 2.0/2.1 level A and AA
  rules on the notebook's output areas (the course's widgets and outputs, not JupyterLab's own
  chrome). Any violation fails the test, listed as rule id (impact): element. Every image is
  checked (axe's ``image-alt``): the course's static matplotlib figures are ``<img alt=…>``
  (``driftlab.viz.figures.show``), and a bare PNG output (``plt.show()``) fails.
* ``driftlab lab`` is started as a learner starts it (the console script, a fresh Jupyter config
  and user-settings folder) and a notebook is opened: no notification toast may be on screen.

axe-core comes from npm (``make axe``, a prerequisite of ``make test``) into ``.cache/axe/``.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser.lab_ui import CHROMIUM, NEWS_TOAST, NOTEBOOKS, describe_violations, free_port, new_page, wait_idle

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("relative", NOTEBOOKS)
def test_outputs_pass_axe_wcag_a_aa(notebook_runs, relative):
    run = notebook_runs.get(relative)
    axe = run.axe
    print(f"{relative}: axe-core {axe['version']} on {axe['outputs']} outputs ({axe['widgets']} widgets) in "
          f"{run.axe_seconds:.1f} s; {len(axe['figure_images'])} static figure(s), {axe['bare_images']} bare PNG output(s); "
          f"{len(axe['violations'])} violation(s)")
    assert run.toasts == 0, "a notification toast covers the notebook"
    assert axe["outputs"] > 0, "axe-core saw no output: did Run All run?"
    assert axe["bare_images"] == 0, f"{axe['bare_images']} figure(s) shown without alternative text (use driftlab.viz.figures.show)"
    problems = describe_violations(axe["violations"])
    assert problems == [], f"{len(problems)} WCAG 2.1 A/AA violation(s) in {relative}:\n" + "\n".join(problems)


def test_axe_saw_the_widgets_that_failed_before(notebook_runs):
    """The scans above covered the sliders and widget figures that had no accessible name before."""
    lab = notebook_runs.get("07_drift_lab/07_drift_lab.ipynb").axe
    thresholds = notebook_runs.get("03_accuracy_thresholds/03_accuracy_thresholds.ipynb").axe
    assert lab["sliders"] == 5 and thresholds["sliders"] == 2, (lab["sliders"], thresholds["sliders"])
    assert [alt.startswith("Drift Lab figure") for alt in lab["widget_images"]] == [True], lab["widget_images"]
    assert [alt.startswith("Accuracy by month") for alt in thresholds["widget_images"]] == [True]


# the static matplotlib figures a learner sees after Run All, per module
FIGURES = {"01_why_models_degrade": 4, "02_detecting_drift": 6, "03_accuracy_thresholds": 4,
           "04_monitoring_without_labels": 3, "05_feature_importance": 1, "06_retraining": 2}


@pytest.mark.parametrize("module", sorted(FIGURES))
def test_axe_saw_every_static_figure_with_its_description(notebook_runs, module):
    """The scans above covered every figure of modules 01-05, each an <img> whose alt says what it shows."""
    alts = notebook_runs.get(f"{module}/{module}.ipynb").axe["figure_images"]
    assert len(alts) == FIGURES[module], alts
    for alt in alts:
        assert alt and len(alt.split()) >= 15 and not alt.lower().startswith(("figure", "image", "<figure")), alt


def test_driftlab_lab_opens_without_news_toast(browser, tmp_path):
    """`driftlab lab` as a learner runs it: the notebook opens, the kernel goes idle, no toast anywhere."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get install -y chromium` (make test does it on CI)")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    env.pop("DISPLAY", None)
    log = tmp_path / "driftlab-lab.log"
    command = [str(Path(sys.executable).parent / "driftlab"), "lab", "--no-browser", "--port", str(port)]
    with open(log, "w") as handle:
        process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        schema = _wait_for_settings(process, url, token, log)
        defaults = schema["properties"]
        assert defaults["fetchNews"]["default"] == "false" and defaults["checkForUpdates"]["default"] is False, (
            "JupyterLab did not get the course's settings", {k: defaults[k]["default"] for k in ("fetchNews", "checkForUpdates")})

        context, page = new_page(browser, "driftlab_lab_first_open")
        try:
            page.goto(f"{url}/lab/tree/08_test/08_test.ipynb?reset&token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            wait_idle(page, timeout=90)   # JupyterLab asks its news question as soon as it is restored
            page.wait_for_timeout(1500)
            page.shots.take("opened")
            toasts = page.locator(NEWS_TOAST)
            assert toasts.count() == 0, f"a toast covers the notebook: {toasts.first.inner_text()!r}"
        finally:
            context.close()
    finally:
        _shut_down(process, url, token)


def _wait_for_settings(process: subprocess.Popen, url: str, token: str, log: Path) -> dict:
    """The notification settings' schema (with the defaults JupyterLab will use), once the server answers."""
    deadline = time.monotonic() + 90
    request = urllib.request.Request(f"{url}/lab/api/settings/@jupyterlab/apputils-extension:notification",
                                     headers={"Authorization": f"token {token}"})
    while True:
        if process.poll() is not None:
            pytest.fail(f"`driftlab lab` exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())["schema"]
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                pytest.fail(f"`driftlab lab` did not answer in 90 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)


def _shut_down(process: subprocess.Popen, url: str, token: str) -> None:
    """Delete the notebook's session (its kernel), then stop the server by its PID."""
    try:
        request = urllib.request.Request(f"{url}/api/sessions", headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            for session in json.loads(response.read()):
                urllib.request.urlopen(urllib.request.Request(f"{url}/api/sessions/{session['id']}", method="DELETE",
                                                              headers={"Authorization": f"token {token}"}), timeout=10)
    except Exception:
        pass
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
