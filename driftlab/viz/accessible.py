"""Accessible names for the course's ipywidgets: slider handles and figure images (WCAG 2.1 A/AA).

Two gaps of ipywidgets 8 that axe-core reports in JupyterLab, and how the course closes them:

* A slider's handle (the ``role="slider"`` element noUiSlider draws) has no accessible name: the
  widget's ``description`` is a ``<label>`` that is not tied to it, and ipywidgets offers no way to
  set attributes on the handle. :func:`name_slider_handles` adds a hidden ``Output`` widget to a
  box; its one output is a few lines of JavaScript (run by JupyterLab's trusted widget output
  area) that give every slider handle in that box the text of its label as ``aria-label``, again
  whenever a handle is redrawn. Nothing outside the box is touched.
* ``ipywidgets.Image`` renders an ``<img>`` without ``alt``. :class:`DescribedImage` shows the
  figure as an ``<img alt=…>`` inside an ``HTML`` widget instead, and its alternative text is
  updated with every frame, so it always says what the figure shows now.
"""
from __future__ import annotations

import ipywidgets as W

from driftlab.viz.figures import img_tag

__all__ = ["WIDGET_CLASS", "DescribedImage", "name_slider_handles"]

WIDGET_CLASS = "driftlab-widget"

# Runs with `element` = the output's node (JupyterLab's JavaScript renderer); idempotent.
SLIDER_NAMES_JS = """
(function (element) {
  var tries = 0;
  function nameOf(slider) {
    var label = slider.querySelector(':scope > .widget-label');
    var text = label ? ((label.textContent || '').trim() || label.title || '') : '';
    return text || slider.title || '';
  }
  function apply(box) {
    box.querySelectorAll('.widget-slider').forEach(function (slider) {
      var text = nameOf(slider);
      if (!text) { return; }
      slider.querySelectorAll('[role="slider"]').forEach(function (handle) {
        if (handle.getAttribute('aria-label') !== text) { handle.setAttribute('aria-label', text); }
      });
    });
  }
  function attach() {
    var box = element.closest('.%s');
    if (!box) { if (tries++ < 200) { setTimeout(attach, 50); } return; }
    apply(box);
    new MutationObserver(function () { apply(box); }).observe(box, {childList: true, subtree: true});
  }
  attach();
})(element);
""" % WIDGET_CLASS


def name_slider_handles(box: W.Box) -> W.Box:
    """Give every slider handle inside ``box`` its label as accessible name (in JupyterLab); returns ``box``."""
    script = W.Output(layout=W.Layout(display="none"))
    script.outputs = ({"output_type": "display_data", "metadata": {},
                       "data": {"application/javascript": SLIDER_NAMES_JS}},)
    box.children = tuple(box.children) + (script,)
    box.add_class(WIDGET_CLASS)
    return box


class DescribedImage:
    """A figure frame shown as ``<img alt=…>`` in an ``HTML`` widget (``widget``).

    ``value`` is the current frame (JPEG bytes, as an ``ipywidgets.Image`` would hold) and ``alt``
    its alternative text; :meth:`show` sets both and redraws once. ``size`` (pixels) reserves the
    image's box so the page does not jump while a new frame decodes; ``width`` / ``max_width``
    are CSS lengths for the displayed size.
    """

    def __init__(self, size: tuple[int, int], width: str = "100%", max_width: str | None = None,
                 fmt: str = "jpeg") -> None:
        self.size, self.fmt = size, fmt
        self.style = f"display:block;width:{width};height:auto;" + (f"max-width:{max_width};" if max_width else "")
        self.value: bytes = b""
        self.alt = ""
        self.widget = W.HTML(layout=W.Layout(width=width, max_width=max_width))
        self.widget.add_class("driftlab-figure")

    def show(self, frame: bytes, alt: str) -> None:
        """Display ``frame`` described by ``alt``."""
        self.value, self.alt = frame, alt
        width, height = self.size
        self.widget.value = img_tag(frame, alt, self.fmt, width, height, self.style)
