"""GET /plaintext: the smallest response, measuring server + framework overhead only."""

from __future__ import annotations

import random

from bench.lab.scenarios.base import Case, Context, Expect, HttpRequest, HttpScenario

EXPECT = Expect(content_type="text/plain; charset=utf-8", text=b"Hello, World!")


def make_case(rng: random.Random, context: Context) -> Case:
    # No input to randomise: the body is fixed by the contract.
    return Case(HttpRequest("GET", "/plaintext"), EXPECT)


SCENARIO = HttpScenario("plaintext", "GET /plaintext, 13-byte text body", make_case)
