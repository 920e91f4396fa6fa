"""What a learner sees in JupyterLab (Chromium): Run All, a practice widget, the Drift Lab.

Accessibility (axe-core) and the first open of `driftlab lab` are in ``test_accessibility.py``.

Run with ``.venv/bin/python -m pytest tests/browser -m browser``; screenshots of every step are
written to ``test-output/browser/<test>/``.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.lab_ui import NOTEBOOKS, changed, error_outputs, open_notebook, run_all

LAB_NOTEBOOK = "07_drift_lab/07_drift_lab.ipynb"

pytestmark = pytest.mark.browser


# ------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("relative", NOTEBOOKS)
def test_run_all_has_no_error(notebook_runs, relative):
    run = notebook_runs.get(relative)
    assert run.ran_cells == run.code_cells, f"only {run.ran_cells} of {run.code_cells} code cells ran"
    assert error_outputs(run.saved) == [] and run.shown_errors == 0, error_outputs(run.saved)
    print(f"{relative}: Run All in {run.seconds:.1f} s")


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
    image = lab.get_by_role("img", name=re.compile(r"^Drift Lab figure"))  # by its alternative text
    scoreboard = lab.locator(".driftlab-scoreboard")
    scoreboard.wait_for()
    page.shots.take("lab-shown")
    before_src, before_board = image.get_attribute("src"), scoreboard.inner_text()

    # A dropdown, by its visible label.
    lab.get_by_label("Drift type").select_option(label="unit bug in the pipeline")
    changed(page, before_board)
    assert image.get_attribute("src") != before_src, "the plot was redrawn"
    assert "pipeline fixes 1" in scoreboard.inner_text()
    assert "unit bug of income" in image.get_attribute("alt"), "the alternative text follows the figure"
    page.shots.take("unit-bug")

    # A slider, from the keyboard: focus its handle (found by its accessible name), press the arrow key.
    board, src = scoreboard.inner_text(), image.get_attribute("src")
    slider = lab.locator(".widget-slider", has_text="Window (days)")
    lab.get_by_role("slider", name="Window (days)").focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    changed(page, board)
    assert image.get_attribute("src") != src
    assert "24" in slider.inner_text()
    page.shots.take("window-moved-by-keyboard")
    summary = lab.locator("p", has_text="Plot in words")
    assert "unit bug of income" in summary.inner_text()
