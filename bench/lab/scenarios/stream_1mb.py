"""GET /stream: ~1 MiB streamed in 16 chunks, without Content-Length."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.lab.scenarios.base import ANY_4XX, Case, Context, Expect, HttpRequest, HttpScenario

CHUNKS = 16


def make_case(rng: random.Random, context: Context) -> Case:
    # The chunk size varies around 64 KiB so a fixed-length answer fails the check.
    size = rng.randint(61_440, 69_632)
    return Case(
        HttpRequest("GET", f"/stream?chunks={CHUNKS}&size={size}"),
        Expect(
            content_type="application/octet-stream",
            repeat=(b"x", CHUNKS * size),
            absent_headers=("content-length",),
        ),
    )


def edge_cases(rng: random.Random, context: Context) -> Sequence[Case]:
    defaults = Case(
        HttpRequest("GET", "/stream"),
        Expect(content_type="application/octet-stream", repeat=(b"x", 16 * 65_536)),
        "defaults 16 x 65536",
    )
    bad = [("chunks=0", "chunks below 1"), ("size=abc", "non-integer size")]
    return [
        defaults,
        *(
            Case(HttpRequest("GET", f"/stream?{q}"), Expect(status=ANY_4XX), label)
            for q, label in bad
        ),
    ]


SCENARIO = HttpScenario(
    "stream_1mb", "GET /stream, ~1 MiB streamed in 16 chunks", make_case, edge_cases
)
