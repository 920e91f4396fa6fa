"""Per-learner feedback HTML from real ``nbgrader generate_feedback``: sanitised, and checked for hidden-test text.

The course's ``nbgrader_config.py`` ends ``GenerateFeedback.preprocessors`` (both ``nbgrader
generate_feedback`` and ``driftlab grade``) with :class:`SanitizeFeedback`: nbconvert's ``SanitizeHTML``
(bleach) with an allow-list that keeps the judge's cards, tables and text readable and lets no script
run when the file is opened — no ``<script>``, event handler, ``javascript:`` link, iframe, object or
embed, from learner outputs or markdown cells; SVG only as an image; no widget state.

Hidden tests never reach the graded notebook (the judge runs them in a cell it removes again), and
``ClearHiddenTests`` stays in the feedback steps (nbgrader#917). As a second line of defence every
feedback file is scanned for the hidden tests' markers and code before it is copied to the output
folder; a file that holds any is withheld.
"""
from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

from bleach.css_sanitizer import CSSSanitizer
from bleach.html5lib_shim import Filter
from bleach.sanitizer import Cleaner
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets import Bool, Set

from driftlab.protocol import HIDDEN_MARKERS

# What feedback HTML may hold: text structure, tables, images, the judge's cards (driftlab/exercises/cards.py).
TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "style", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
})  # "style" only so that _DropStyle can remove it with its text (pandas puts one before every table)
GLOBAL_ATTRIBUTES = frozenset({"class", "title", "role", "style", "lang", "dir", "aria-label", "aria-live",
                               "aria-hidden", "aria-describedby"})
TAG_ATTRIBUTES = {
    "a": {"href"}, "img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"}, "col": {"span"}, "colgroup": {"span"}, "ol": {"start"},
    "details": {"open"}, "table": {"border"}, **{f"h{n}": {"id"} for n in range(1, 7)},  # heading anchors
}
# No property that can load a URL (background-image, cursor, border-image, list-style-image, ...).
CSS_PROPERTIES = frozenset({
    "background-color", "border", "border-bottom", "border-collapse", "border-color", "border-left",
    "border-radius", "border-right", "border-spacing", "border-style", "border-top", "border-width", "clear",
    "color", "direction", "display", "float", "font", "font-family", "font-size", "font-style", "font-variant",
    "font-weight", "height", "letter-spacing", "line-height", "list-style-type", "margin", "margin-bottom",
    "margin-left", "margin-right", "margin-top", "max-height", "max-width", "min-height", "min-width", "overflow",
    "padding", "padding-bottom", "padding-left", "padding-right", "padding-top", "text-align", "text-decoration",
    "text-indent", "text-transform", "vertical-align", "white-space", "width", "word-break",
})
PROTOCOLS = frozenset({"http", "https", "mailto", "data"})  # data: only in an image's src (see _attribute)


def _attribute(tag: str, name: str, value: str) -> bool:
    """Whether ``tag`` may keep attribute ``name`` (bleach checks the protocols of URLs after this)."""
    if name not in GLOBAL_ATTRIBUTES and name not in TAG_ATTRIBUTES.get(tag, ()):
        return False
    if value.strip().lower().startswith("data:"):
        return tag == "img" and name == "src" and value.strip().lower().startswith("data:image/")
    return True


class _DropStyle(Filter):
    """html5lib filter: every ``<style>`` element goes, its text with it."""

    def __iter__(self):
        inside = 0
        for token in super().__iter__():
            if token.get("name") == "style" and token["type"] in ("StartTag", "EndTag", "EmptyTag"):
                inside = max(0, inside + {"StartTag": 1, "EndTag": -1}.get(token["type"], 0))
            elif not inside:
                yield token


@functools.cache
def _cleaner() -> Cleaner:
    return Cleaner(tags=TAGS, attributes=_attribute, protocols=PROTOCOLS, strip=True, strip_comments=True,
                   filters=[_DropStyle], css_sanitizer=CSSSanitizer(allowed_css_properties=CSS_PROPERTIES))


def clean(html: str) -> str:
    """``html`` with nothing that can run script or load a page: the feedback's allow-list (bleach)."""
    return _cleaner().clean(html)


def markdown_html(source: str, attachments: dict | None = None) -> str:
    """Markdown rendered as nbconvert's HTML exporter renders it (math kept for MathJax), then cleaned, as
    one HTML block: rendering it again as markdown (the feedback template does) leaves it as it is."""
    renderer = IPythonRenderer(escape=False, attachments=attachments or {})
    html = clean(MarkdownWithMath(renderer=renderer).render(source))
    return '<div class="driftlab-markdown">' + html.replace("\r", "").replace("\n", "&#10;") + "</div>"


class SanitizeFeedback(SanitizeHTML):
    """nbconvert's ``SanitizeHTML`` with the feedback's allow-list; markdown (cells and outputs) cleaned after
    rendering, not before (bleach on markdown source misses markdown links, garbles code spans); SVG kept
    (nbconvert shows it as an ``<img>``, where no script runs); the notebook's widget state dropped (widgets
    render learner HTML)."""

    enabled = Bool(True).tag(config=True)
    safe_output_keys = Set({"metadata", "text/plain", "text/latex", "application/json", "image/png", "image/jpeg",
                            "image/gif", "image/svg+xml"}).tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: Any, resources: dict, cell_index: int) -> tuple[Any, dict]:
        if cell.cell_type == "markdown":
            cell.source = markdown_html(cell.source, cell.get("attachments"))
            cell.pop("attachments", None)
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)

    def sanitize_code_outputs(self, outputs: list[Any]) -> list[Any]:
        for output in outputs:  # a markdown output is shown as its cleaned rendering
            data = output.get("data") if output.get("output_type") in ("display_data", "execute_result") else None
            if data and "text/markdown" in data:
                markdown = data.pop("text/markdown")
                markdown = "".join(markdown) if isinstance(markdown, list) else markdown
                data.setdefault("text/html", markdown_html(markdown))
        return super().sanitize_code_outputs(outputs)

    def sanitize_html_tags(self, html_str: str) -> str:
        return clean(html_str)


def leaks(text: str) -> list[str]:
    """The hidden-test markers found in a text (empty when it is clean)."""
    return [m for m in HIDDEN_MARKERS if m in text]


def collect(course: Path, module: str, student: str, dest: Path) -> tuple[Path | None, str]:
    """Copy a student's feedback to ``dest/STUDENT/MODULE.html`` if it holds no hidden test."""
    found = sorted((course / "feedback" / student / module).glob("*.html"))
    if not found:
        return None, "nbgrader wrote no feedback file"
    text = found[0].read_text(encoding="utf-8", errors="replace")
    bad = leaks(text)
    if bad:
        return None, "feedback withheld: it contains hidden-test text (" + ", ".join(bad) + ")"
    target = dest / student / f"{module}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(found[0], target)
    return target, ""
