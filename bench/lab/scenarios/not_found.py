"""GET of a path no route matches: the 404 path through each router."""

from __future__ import annotations

import random

from bench.lab.scenarios.base import Case, Context, Expect, HttpRequest, HttpScenario


def make_case(rng: random.Random, context: Context) -> Case:
    return Case(HttpRequest("GET", f"/missing/{rng.getrandbits(64):x}"), Expect(status=404))


SCENARIO = HttpScenario("not_found", "GET an unknown path, 404", make_case)
