"""Turn a matplotlib figure into SVG markup that can sit inline in an HTML page.

Inline SVGs share the page's id namespace, so every id matplotlib wrote (clip paths, glyphs)
is prefixed with the chart's key; the XML prolog goes, the fixed size becomes a responsive
width, and the chart gets ``role="img"`` with a ``<title>`` and ``<desc>`` for screen
readers. Text stays text (``svg.fonttype: none``): small, searchable, no embedded fonts.
"""

from __future__ import annotations

import io
import re
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^")]+)')
_ROOT = re.compile(r"<svg\b[^>]*>")
_SIZE = re.compile(r'\s(width|height)="[^"]*"')


def figure_svg(figure: Figure, key: str, title: str, description: str) -> str:
    """The figure as inline SVG markup, ids prefixed with ``key``, titled and described."""
    buffer = io.StringIO()
    # No date or creator: rendering the same records twice gives the same bytes.
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return inline(buffer.getvalue(), key, title, description)


def inline(markup: str, key: str, title: str, description: str) -> str:
    """Rewrite a standalone SVG document for inline use (see the module docstring)."""
    start = markup.find("<svg")
    if start < 0:
        raise ValueError("not an SVG document")
    body = markup[start:]
    body = _ID.sub(lambda m: f'id="{key}-{m[1]}"', body)
    body = _REF.sub(lambda m: f"{m[1]}{key}-{m[2]}", body)
    root = _ROOT.search(body)
    if root is None:
        raise ValueError("no <svg> element")
    opening = _SIZE.sub("", root[0])[:-1]
    labels = f"{key}-title {key}-desc"
    opening += f' class="chart" role="img" aria-labelledby="{labels}">'
    heading = (
        f'<title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(description)}</desc>'
    )
    return opening + heading + body[root.end() :]
