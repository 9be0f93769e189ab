"""GET /r99/items/{id}: the last of 100 registered routes (router cost)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.lab.scenarios.base import ANY_4XX, Case, Context, Expect, HttpRequest, HttpScenario


def route_case(route: int, item_id: int, label: str = "valid") -> Case:
    return Case(
        HttpRequest("GET", f"/r{route}/items/{item_id}"),
        Expect(content_type="application/json", json={"route": route, "id": item_id}),
        label,
    )


def make_case(rng: random.Random, context: Context) -> Case:
    return route_case(99, rng.randint(1, 2**31))


def edge_cases(rng: random.Random, context: Context) -> Sequence[Case]:
    return [
        route_case(0, rng.randint(1, 1000), "first route"),
        route_case(rng.randint(1, 98), rng.randint(1, 1000), "a middle route"),
        Case(HttpRequest("GET", "/r100/items/1"), Expect(status=404), "route 100 does not exist"),
        Case(HttpRequest("GET", "/r99/items/abc"), Expect(status=ANY_4XX), "non-integer id"),
    ]


SCENARIO = HttpScenario(
    "router_100", "GET /r99/items/{id}, last of 100 routes", make_case, edge_cases
)
