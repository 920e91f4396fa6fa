"""What a learner sees in JupyterLab (Chromium): Run All, a practice widget, the Drift Lab.

Run with ``.venv/bin/python -m pytest tests/browser -m browser``; screenshots of every step are
written to ``test-output/browser/<test>/``.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(str(p.relative_to(ROOT / "notebooks")) for p in (ROOT / "notebooks").glob("*/*.ipynb"))
LAB_NOTEBOOK = "06_drift_lab/06_drift_lab.ipynb"

pytestmark = pytest.mark.browser


# ------------------------------------------------------------------------------------------ helpers
def open_notebook(page, lab_server, relative: str) -> None:
    """Open a notebook and wait until its kernel is idle."""
    page.goto(lab_server.notebook_url(relative))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_idle(page, timeout=90)
    page.shots.take("opened")


def wait_idle(page, timeout: float = 120) -> None:
    """Until the status bar says '| Idle' and no cell is queued or running ('[*]'), twice in a row."""
    deadline = time.monotonic() + timeout
    calm = 0
    while time.monotonic() < deadline:
        idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\|\s*Idle")).count() > 0
        busy = page.locator(".jp-InputArea-prompt", has_text="*").count()
        calm = calm + 1 if idle and busy == 0 else 0
        if calm >= 3:
            return
        time.sleep(0.4)
    raise AssertionError("the kernel did not become idle in time")


def run_all(page) -> None:
    """Run > Run All Cells from the menu bar (command runmenu:run-all), then wait for the kernel."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    page.wait_for_timeout(500)
    wait_idle(page)


def save(page, lab_server, relative: str) -> dict:
    """Save with Ctrl+S and return the notebook as stored on the server."""
    before = lab_server.api("GET", f"/api/contents/{relative}?content=0")["last_modified"]
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        model = lab_server.api("GET", f"/api/contents/{relative}?content=1")
        if model["last_modified"] != before:
            return model["content"]
        time.sleep(0.3)
    raise AssertionError("the notebook was not saved")


def error_outputs(nb: dict) -> list[str]:
    """'cell N: Name: value' for every error output of a saved notebook."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
    return found


def changed(page, old_text: str) -> None:
    """Wait until the Drift Lab's scoreboard (re-rendered on every update) shows a different text."""
    page.wait_for_function(
        "old => { const el = document.querySelector('.driftlab-lab .driftlab-scoreboard');"
        " return el !== null && el.innerText !== old; }", arg=old_text)


# ------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("relative", NOTEBOOKS)
def test_run_all_has_no_error(page, lab_server, relative):
    open_notebook(page, lab_server, relative)
    start = time.monotonic()
    run_all(page)
    # The kernel can look idle for a moment between queued cells: wait until every cell has its [n].
    page.wait_for_function(
        "() => { const cells = [...document.querySelectorAll('.jp-CodeCell')];"
        " const ran = cells.filter(c => /\\[\\d+\\]/.test((c.querySelector('.jp-InputArea-prompt') || {}).innerText || ''));"
        " return cells.length > 0 && ran.length === cells.length; }", timeout=180_000)
    page.shots.take("ran-all")
    code_cells = page.locator(".jp-CodeCell").count()
    done = page.locator(".jp-CodeCell .jp-InputArea-prompt", has_text=re.compile(r"\[\d+\]")).count()
    assert done == code_cells, f"only {done} of {code_cells} code cells ran"
    shown_errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error'], "
                                ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").count()
    nb = save(page, lab_server, relative)
    assert error_outputs(nb) == [] and shown_errors == 0, error_outputs(nb)
    print(f"{relative}: Run All in {time.monotonic() - start:.1f} s")


def test_practice_widget_feedback(page, lab_server):
    open_notebook(page, lab_server, LAB_NOTEBOOK)
    run_all(page)
    box = page.locator(".driftlab-practice", has_text="which signal sees a concept change")
    box.scroll_into_view_if_needed()
    page.shots.take("practice-shown")
    attempts = box.get_by_text(re.compile(r"Attempts left: \d"))
    assert attempts.inner_text().strip() == "Attempts left: 3"

    box.get_by_label("A. The PSI of each feature").check()  # a distractor
    box.get_by_role("button", name="Check").click()
    box.get_by_text("PSI compares feature distributions").wait_for()
    assert "✘" in box.inner_text() and "Not yet" in box.inner_text()
    assert attempts.inner_text().strip() == "Attempts left: 2"
    page.shots.take("distractor-feedback")

    box.get_by_role("button", name="Hint").click()
    box.get_by_text("Which signal needs the true outcome").wait_for()
    page.shots.take("hint-shown")

    box.get_by_label("C. The realised accuracy, once the labels arrive").check()
    box.get_by_role("button", name="Check").click()
    box.get_by_text(re.compile("✔ Correct")).wait_for()
    box.get_by_text("Solved ✔").wait_for()
    page.shots.take("correct")


def test_drift_lab_control_updates_plot_and_scoreboard(page, lab_server):
    open_notebook(page, lab_server, LAB_NOTEBOOK)
    run_all(page)
    lab = page.locator(".driftlab-lab")
    lab.scroll_into_view_if_needed()
    image = lab.locator("img").first
    scoreboard = lab.locator(".driftlab-scoreboard")
    scoreboard.wait_for()
    page.shots.take("lab-shown")
    before_src, before_board = image.get_attribute("src"), scoreboard.inner_text()

    # A dropdown, by its visible label.
    lab.get_by_label("Drift type").select_option(label="unit bug in the pipeline")
    changed(page, before_board)
    assert image.get_attribute("src") != before_src, "the plot was redrawn"
    assert "pipeline fixes 1" in scoreboard.inner_text()
    page.shots.take("unit-bug")

    # A slider, from the keyboard: focus its handle, press the arrow key.
    board, src = scoreboard.inner_text(), image.get_attribute("src")
    slider = lab.locator(".widget-slider", has_text="Window (days)")
    slider.locator(".noUi-handle").focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    changed(page, board)
    assert image.get_attribute("src") != src
    assert "24" in slider.inner_text()
    page.shots.take("window-moved-by-keyboard")
    summary = lab.locator("p", has_text="Plot in words")
    assert "unit bug of income" in summary.inner_text()
