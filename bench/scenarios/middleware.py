"""app_mw: CORS, GZip and request-id middleware around GET /records (~1-3 KB, compressed)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.scenarios._records import records
from bench.scenarios.base import ANY_2XX, Case, Context, Expect, HttpRequest, HttpScenario

ORIGIN = "https://example.com"
HEADERS = (("origin", ORIGIN), ("accept-encoding", "gzip"))
REQUEST_ID = r"[0-9a-f]{32}"


def make_case(rng: random.Random, context: Context) -> Case:
    n = rng.randint(20, 60)  # always above GZip's 500-byte minimum
    return Case(
        HttpRequest("GET", f"/records?n={n}", HEADERS),
        Expect(
            content_type="application/json",
            json=records(n),
            gzip=True,
            headers={"access-control-allow-origin": ORIGIN},
            header_patterns={"x-request-id": REQUEST_ID},
        ),
    )


def edge_cases(rng: random.Random, context: Context) -> Sequence[Case]:
    small = Case(
        HttpRequest("GET", "/json", HEADERS),
        Expect(
            content_type="application/json",
            json={"message": "Hello, World!"},
            headers={"access-control-allow-origin": ORIGIN},
            header_patterns={"x-request-id": REQUEST_ID},
        ),
        "small body stays uncompressed",
    )
    preflight = Case(
        HttpRequest(
            "OPTIONS", "/items", (("origin", ORIGIN), ("access-control-request-method", "POST"))
        ),
        # Fetch: a preflight succeeds with any "ok status" (200-299); Starlette answers 200,
        # sanic-ext 204.
        Expect(status=ANY_2XX, headers={"access-control-allow-origin": ORIGIN}),
        "CORS preflight",
    )
    foreign = Case(
        HttpRequest("GET", "/json", (("origin", "https://evil.example"),)),
        Expect(json={"message": "Hello, World!"}, absent_headers=("access-control-allow-origin",)),
        "other origin gets no CORS header",
    )
    return [small, preflight, foreign]


SCENARIO = HttpScenario(
    "middleware",
    "app_mw (CORS + GZip + request id) around GET /records?n≈40",
    make_case,
    edge_cases,
    variant="app_mw",
)
