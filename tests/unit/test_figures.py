"""driftlab.viz.figures: a static figure shown as <img alt=…> (escaped), a real PNG, the figure closed."""
from __future__ import annotations

import base64
import html
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from driftlab.viz import figures  # noqa: E402
from driftlab.viz.accessible import DescribedImage  # noqa: E402

ALT = 'Accuracy by month (blue) falls below the "0.85" threshold in month 11 <& recovers>'


@pytest.fixture
def shown(monkeypatch):
    """What `figures.show` passed to IPython's display: a list of (bundle, kwargs)."""
    calls = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: calls.extend((o, kw) for o in objs))
    return calls


def test_show_displays_an_img_with_escaped_alt_and_a_decodable_png(shown):
    fig, ax = plt.subplots(figsize=(4, 2.5), layout="constrained")
    ax.plot([1, 2, 3], [0.9, 0.88, 0.8])
    expected = figures.png_bytes(fig)

    figures.show(fig, alt=ALT)

    [(bundle, kwargs)] = shown
    assert kwargs == {"raw": True}
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/plain"] == ALT
    tag = bundle["text/html"]
    assert tag.startswith("<img ") and tag.count("<") == 1, tag[:200]
    assert f'alt="{html.escape(ALT)}"' in tag and '"0.85"' not in tag
    data = base64.b64decode(re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', tag).group(1))
    assert data == expected and data.startswith(b"\x89PNG\r\n\x1a\n")
    # the figure's dpi; a constrained layout already fits the canvas, so it is drawn once at its own size
    from PIL import Image

    width, height = Image.open(io.BytesIO(data)).size
    assert f'width="{width}" height="{height}"' in tag
    assert (width, height) == (round(4 * fig.dpi), round(2.5 * fig.dpi))


def test_a_figure_without_layout_engine_is_cropped_as_the_inline_backend_does():
    """Its x label hangs below a short canvas: the tight bounding box (IPython's printer) keeps it."""
    from IPython.core.pylabtools import print_figure
    from PIL import Image

    fig, ax = plt.subplots(figsize=(4, 1.2))
    ax.plot([1, 2, 3], [0.9, 0.88, 0.8])
    ax.set_xlabel("month")
    data = figures.png_bytes(fig)
    ours, ipython = (Image.open(io.BytesIO(png)) for png in (data, print_figure(fig, "png", bbox_inches="tight")))
    assert ours.size == ipython.size and ours.tobytes() == ipython.tobytes()   # the same pixels (compressed less)
    assert ours.size[1] > 1.2 * fig.dpi   # taller than the canvas: nothing cut off
    plt.close(fig)


def test_show_closes_the_figure(shown):
    fig, _ = plt.subplots()
    number = fig.number
    assert plt.fignum_exists(number)
    figures.show(fig, alt="an empty set of axes")
    assert not plt.fignum_exists(number)
    assert len(shown) == 1


def test_widget_figures_use_the_same_tag():
    image = DescribedImage((3, 2), width="100%")
    image.show(b"\xff\xd8frame", 'a "quoted" <alt>')
    assert image.widget.value == figures.img_tag(b"\xff\xd8frame", 'a "quoted" <alt>', "jpeg", 3, 2, image.style)
    assert 'alt="a &quot;quoted&quot; &lt;alt&gt;"' in image.widget.value
    assert image.widget.value.startswith('<img src="data:image/jpeg;base64,')
