"""GET /db/{id}: one random row read from the lab's SQLite (or PostgreSQL) ``world`` table."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.lab.scenarios.base import ANY_4XX, Case, Context, Expect, HttpRequest, HttpScenario


def make_case(rng: random.Random, context: Context) -> Case:
    world_id = rng.randint(1, len(context.world))
    return Case(
        HttpRequest("GET", f"/db/{world_id}"),
        Expect(
            content_type="application/json",
            json={"id": world_id, "randomNumber": context.world[world_id]},
        ),
    )


def edge_cases(rng: random.Random, context: Context) -> Sequence[Case]:
    return [
        Case(HttpRequest("GET", "/db/0"), Expect(status=404), "id 0 has no row"),
        Case(HttpRequest("GET", f"/db/{len(context.world) + 1}"), Expect(status=404), "no row"),
        Case(HttpRequest("GET", "/db/abc"), Expect(status=ANY_4XX), "non-integer id"),
    ]


SCENARIO = HttpScenario("db", "GET /db/{id}, one row from SQLite", make_case, edge_cases)
