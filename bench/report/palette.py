"""One colour per framework, the same in every chart of every report.

Okabe-Ito colours (distinguishable with the common colour-vision deficiencies). Known apps
have fixed colours; any other app gets one from the rest of the palette by a stable hash of
its name, so adding a framework never recolours the others.
"""

from __future__ import annotations

import zlib

KNOWN = {
    "raw": "#555555",
    "velocix": "#D55E00",
    "starlette": "#0072B2",
    "fastapi": "#009E73",
}
SPARE = ("#E69F00", "#56B4E9", "#CC79A7", "#8C6D1F", "#000000", "#F0E442")
FAILED = "#B00020"
"""Colour of failure markers (never used for a framework)."""


def colour(app: str) -> str:
    """The colour of ``app`` in every chart."""
    known = KNOWN.get(app)
    if known is not None:
        return known
    return SPARE[zlib.crc32(app.encode()) % len(SPARE)]
