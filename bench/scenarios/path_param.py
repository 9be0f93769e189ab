"""GET /users/{user_id}: routing with one integer path parameter."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bench.scenarios.base import ANY_4XX, Case, Context, Expect, HttpRequest, HttpScenario


def make_case(rng: random.Random, context: Context) -> Case:
    user_id = rng.randint(1, 2**31)
    return Case(
        HttpRequest("GET", f"/users/{user_id}"),
        Expect(content_type="application/json", json={"user_id": user_id}),
    )


def edge_cases(rng: random.Random, context: Context) -> Sequence[Case]:
    # Only spellings that are not integers by any reading: "1e3" or "1.0" have integral values
    # and the frameworks legitimately differ on them (pydantic takes "1.0", msgspec "1e3").
    return [
        Case(HttpRequest("GET", f"/users/{path}"), Expect(status=ANY_4XX), f"non-integer id {path}")
        for path in ("abc", f"{rng.randint(1, 99)}.5", f"{rng.randint(1, 99)}abc")
    ]


SCENARIO = HttpScenario(
    "path_param", "GET /users/{id}, integer path parameter", make_case, edge_cases
)
