"""What the browser tests do in JupyterLab's page: open, Run All, wait, save, and run axe-core.

axe-core (the npm package, ``make axe`` installs it under ``.cache/axe/``) is injected into the page
and run on the notebook's output areas only (the course's widgets and outputs, not JupyterLab's own
menus and panels), with the WCAG 2.0/2.1 level A and AA rules.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DRIFTLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
OUTPUT = ROOT / "test-output" / "browser"
NOTEBOOKS = sorted(str(p.relative_to(ROOT / "notebooks")) for p in (ROOT / "notebooks").glob("*/*.ipynb"))
AXE = Path(os.environ.get("DRIFTLAB_AXE", ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"))
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
NEWS_TOAST = ".Toastify__toast"
# What axe looks at: every output of the notebook, images included. The course shows its static matplotlib
# figures as <img alt=…> (driftlab.viz.figures.show) and its widget figures likewise; a bare PNG output
# (plt.show(), JupyterLab's image renderer, no alt) is counted and fails axe's image-alt rule.
AXE_INCLUDE = ".jp-Notebook .jp-OutputArea-output"
BARE_IMAGES = ".jp-Notebook .jp-OutputArea-output.jp-RenderedImage"
WIDGET_VIEWS = ".jp-Notebook .jp-OutputArea-output > .jupyter-widgets"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_page(browser, name: str):
    """A page in a fresh browser context, with numbered screenshots under ``test-output/browser/<name>/``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    pg.shots = Shots(pg, OUTPUT / re.sub(r"[^\w.-]+", "_", name))
    return context, pg


class Shots:
    """Numbered screenshots of each step of one test."""

    def __init__(self, page, folder: Path) -> None:
        self.page, self.folder, self.n = page, folder, 0
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)

    def take(self, step: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


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


def wait_every_cell_ran(page) -> None:
    """The kernel can look idle for a moment between queued cells: wait until every code cell has its [n]."""
    page.wait_for_function(
        "() => { const cells = [...document.querySelectorAll('.jp-CodeCell')];"
        " const ran = cells.filter(c => /\\[\\d+\\]/.test((c.querySelector('.jp-InputArea-prompt') || {}).innerText || ''));"
        " return cells.length > 0 && ran.length === cells.length; }", timeout=180_000)


def wait_widgets_rendered(page, timeout: float = 30) -> None:
    """Until the widgets drawn in the outputs stop changing in number and every image has loaded."""
    probe = ("() => [document.querySelectorAll('" + WIDGET_VIEWS + "').length,"
             " [...document.querySelectorAll('.jp-OutputArea-output img')].every(i => i.complete)]")
    deadline, last, calm = time.monotonic() + timeout, None, 0
    while time.monotonic() < deadline:
        count, loaded = page.evaluate(probe)
        calm = calm + 1 if loaded and count == last else 0
        if calm >= 2:
            return
        last = count
        time.sleep(0.4)
    raise AssertionError("the widgets did not finish drawing in time")


def save(page, lab_server, relative: str) -> dict:
    """Save with Ctrl+S and return the notebook as stored on the server.

    Waits for the save request's answer before reading the file: reading a notebook while the server
    writes it makes jupyter_server set the half-written file aside as ``.invalid`` and restore the old one.
    """
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    quoted = urllib.parse.quote(relative)
    with page.expect_response(lambda r: r.request.method == "PUT" and f"/api/contents/{quoted}" in r.url,
                              timeout=60_000) as saving:
        page.keyboard.press("Control+s")
    assert saving.value.ok, f"saving failed: HTTP {saving.value.status}"
    return lab_server.api("GET", f"/api/contents/{relative}?content=1")["content"]


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


def run_axe(page) -> dict:
    """Inject axe-core and run the WCAG 2.x A/AA rules on the notebook's outputs.

    Returns ``{"violations": [{"id", "impact", "help", "nodes": [{"target", "html", "summary"}]}],
    "outputs": n, "widgets": n, "sliders": n, "widget_images": [alt, ...], "figure_images": [alt, ...],
    "bare_images": n, "version": "4.x"}``: ``figure_images`` are the <img> outside widgets (static figures),
    ``bare_images`` the outputs drawn by JupyterLab's own PNG renderer.
    """
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: run `make axe` (npm install axe-core; `make test` does it)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async ([include, bare, widgets, tags]) => {
             const outputs = [...document.querySelectorAll(include)];
             const result = await axe.run({include: outputs},
                                          {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
             return {
               version: axe.version,
               outputs: outputs.length,
               widgets: document.querySelectorAll(widgets).length,
               sliders: outputs.reduce((n, e) => n + e.querySelectorAll('[role="slider"]').length, 0),
               widget_images: [...document.querySelectorAll(widgets + ' img')].map(i => i.alt || ''),
               figure_images: [...document.querySelectorAll(include + ' img')].filter(i => !i.closest(widgets))
                                .map(i => i.getAttribute('alt')),
               bare_images: document.querySelectorAll(bare).length,
               violations: result.violations.map(v => ({
                 id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                                           summary: n.failureSummary}))})),
             };
           }""", [AXE_INCLUDE, BARE_IMAGES, WIDGET_VIEWS, list(WCAG_TAGS)])


def describe_violations(violations: list[dict]) -> list[str]:
    """One line per failing element: 'rule-id (impact): target — help'."""
    return [f"{v['id']} ({v['impact']}): {n['target']} — {v['help']}; {n['html']}"
            for v in violations for n in v["nodes"]]
