"""GET /json: a small JSON object encoded per request."""

from __future__ import annotations

import random

from bench.lab.scenarios.base import Case, Context, Expect, HttpRequest, HttpScenario

EXPECT = Expect(content_type="application/json", json={"message": "Hello, World!"})


def make_case(rng: random.Random, context: Context) -> Case:
    return Case(HttpRequest("GET", "/json"), EXPECT)


SCENARIO = HttpScenario("json", "GET /json, small JSON object", make_case)
