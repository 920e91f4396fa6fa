"""Opening feedback runs no learner script (Chromium): ``nbgrader generate_feedback`` and ``driftlab grade``'s.

One submission of the tiny module (tests/integration/hostile.py) answers right and carries script in every
place a notebook can: an ``<img onerror>`` HTML output, an SVG output and inline SVG with ``<script>``, an
``application/javascript`` output, an "isolated" HTML output (nbconvert puts it in an iframe), an iframe,
object and embed, a markdown output, markdown cells with ``javascript:`` links and ``<div onmouseover>``,
and an ipywidgets HTML widget. Every payload marks ``window.__pwned``, sets the title and loads ``/hit``
from the loopback server that serves the feedback files. The feedback comes from the process each
``driftlab grade`` worker runs (:mod:`grader.batch.autograder`: nbgrader's autograde, then feedback; no
Dask cluster around it) and from plain ``nbgrader generate_feedback`` with the course config. The test
opens each file, hovers and clicks the bait, and asserts that no payload ran while the judge's cards show.
"""
from __future__ import annotations

import copy
import http.server
import json
import shutil
import subprocess
import sys
import threading

import nbformat
import pytest

from grader import nbgrader as R
from tests.browser.lab_ui import free_port, new_page
from tests.integration import hostile

pytestmark = pytest.mark.browser


PAYLOAD = "window.__pwned=(window.__pwned||0)+1;document.title='pwned';new Image().src='/hit'"


def scripted(right: dict) -> bytes:
    """The right answers, plus script in every output and markdown form a notebook can hold."""
    js = PAYLOAD
    code = f'''\
from IPython.display import HTML, SVG, Javascript, Markdown, display
import ipywidgets as widgets
JS = {js!r}
display(HTML('<img src="x" onerror="' + JS + '">'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" onload="' + JS + '">'
            '<script>' + JS + '</script><circle cx="10" cy="10" r="5"/></svg>'))
display(HTML('<svg onload="' + JS + '"><script>' + JS + '</script></svg>'))
display(Javascript(JS))
display(HTML('<script>' + JS + '</script><b>isolated</b>'), metadata={{"isolated": True}})
display(HTML('<iframe srcdoc="<script>' + JS + '</script>"></iframe><iframe src="javascript:' + JS + '"></iframe>'
             '<object data="javascript:' + JS + '"></object><embed src="javascript:' + JS + '">'))
display(Markdown('<img src="x" onerror="' + JS + '"> [md link](<javascript:' + JS + '>)'))
display(widgets.HTML(value='<img src="x" onerror="' + JS + '">'))
'''
    markdown = (f'<a href="javascript:{js}">click me</a> <div onmouseover="{js}">hover me</div>\n\n'
                f'[click md](<javascript:{js}>) <img src="x" onerror="{js}">\n\n'
                f'<iframe src="javascript:{js}"></iframe> <details open ontoggle="{js}"><summary>s</summary></details>')
    nb = copy.deepcopy(right)
    nb.cells += [nbformat.v4.new_code_cell(code), nbformat.v4.new_markdown_cell(markdown)]
    return hostile._dump(nb)


class Beacon(http.server.SimpleHTTPRequestHandler):
    """Serves the feedback files; counts requests for /hit."""

    hits: list[str] = []

    def do_GET(self):
        if self.path.startswith("/hit"):
            self.hits.append(self.path)
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    """Both pipelines' feedback for the scripted submission, served on 127.0.0.1 (port, file names)."""
    base = tmp_path_factory.mktemp("feedback-script")
    course = hostile.tiny_course(base / "course")
    R.generate(course, hostile.TINY)
    submission = base / f"{hostile.TINY}.ipynb"
    submission.write_bytes(scripted(hostile.answered(hostile.TINY, "right", course)))
    served = base / "served"
    served.mkdir()
    # a driftlab grade worker's autograder process (nbgrader's autograde, then its feedback): one request, one reply
    request = json.dumps({"student": "mallory", "module": hostile.TINY, "notebook": str(submission)})
    proc = subprocess.run([sys.executable, "-m", "grader.batch.autograder", str(course), str(base / "out")],
                          input=request + "\n", capture_output=True, text=True, timeout=600, env=R.nbgrader_env())
    reply = json.loads(proc.stdout.splitlines()[-1])
    assert reply.get("feedback") and not reply.get("error"), (reply, proc.stderr[-3000:])
    assert sum(c["score"] for c in reply["cells"].values()) == hostile.max_score(hostile.TINY, course)
    shutil.copy(reply["feedback"], served / "driftlab.html")
    # plain nbgrader generate_feedback with the course config, on the same autograded notebook
    R.run_nbgrader(course, "generate_feedback", hostile.TINY, "--student=mallory", "--force", timeout=600)
    shutil.copy(course / "feedback" / "mallory" / hostile.TINY / f"{hostile.TINY}.html", served / "nbgrader.html")
    port = free_port()
    handler = lambda *a, **k: Beacon(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"port": port, "files": ["nbgrader.html", "driftlab.html"]}
    server.shutdown()
    server.server_close()


def test_opening_feedback_runs_no_learner_script(browser, feedback):
    port = feedback["port"]
    context, pg = new_page(browser, "feedback-script")
    # nothing leaves the machine (MathJax and the widget manager come from CDNs): abort, quickly
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(f"http://127.0.0.1:{port}/")
                  else route.abort())
    try:
        for name in feedback["files"]:
            pg.goto(f"http://127.0.0.1:{port}/{name}", wait_until="load")
            for bait in ("hover me", "click me", "click md", "md link"):
                for element in pg.get_by_text(bait).all():
                    if element.is_visible():
                        element.hover()
                        element.click(no_wait_after=True)
            pg.wait_for_timeout(300)
            pg.shots.take(name)
            assert pg.evaluate("window.__pwned") is None, name
            assert pg.title() != "pwned", name
            assert pg.get_by_text("Worked solution").first.is_visible(), name  # the judge's card is shown …
            assert pg.locator(".driftlab-check strong", has_text="Correct").count() == 3, name  # … readably
        assert Beacon.hits == []
    finally:
        context.close()
