"""One colour per framework, the same in every chart of every report.

Each framework's colour is in its spec (:mod:`bench.frameworks`, Okabe-Ito and Tol's colours:
distinguishable with the common colour-vision deficiencies). An app the registry no longer
knows (an old run) gets one of the spare colours by a stable hash of its name, so adding a
framework never recolours the others.
"""

from __future__ import annotations

import zlib

from bench import frameworks

SPARE = ("#999933", "#44AA99", "#AA4499", "#DDCC77", "#000000")
FAILED = "#B00020"
"""Colour of failure markers (never used for a framework)."""


def colour(app: str) -> str:
    """The colour of ``app`` in every chart."""
    spec = frameworks.specs().get(app)
    if spec is not None:
        return spec.colour
    return SPARE[zlib.crc32(app.encode()) % len(SPARE)]
