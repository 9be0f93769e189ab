"""Shared builder for the ``/records`` scenarios (large JSON responses)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from bench.lab.scenarios.base import ANY_4XX, Case, Context, Expect, HttpRequest, HttpScenario


def records(n: int) -> list[dict[str, Any]]:
    """The body ``GET /records?n=`` must return."""
    return [{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(n)]


def records_case(n: int) -> Case:
    return Case(
        HttpRequest("GET", f"/records?n={n}"),
        Expect(content_type="application/json", json=records(n)),
    )


def edge_cases(rng: random.Random, context: Context) -> Sequence[Case]:
    bad = [("n=0", "n below 1"), ("n=10001", "n above 10000"), ("n=abc", "non-integer n")]
    cases = [
        Case(HttpRequest("GET", f"/records?{query}"), Expect(status=ANY_4XX), label)
        for query, label in bad
    ]
    cases.append(Case(HttpRequest("GET", "/records"), Expect(status=ANY_4XX), "missing n"))
    return cases


def records_scenario(name: str, low: int, high: int, summary: str) -> HttpScenario:
    """A scenario asking for between ``low`` and ``high`` records per request."""

    def make_case(rng: random.Random, context: Context) -> Case:
        return records_case(rng.randint(low, high))

    return HttpScenario(name, summary, make_case, edge_cases)
