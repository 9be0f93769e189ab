"""GET /search?q=&page=&size=: three typed query parameters (two with defaults)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from urllib.parse import quote, urlencode

from bench.lab.scenarios.base import (
    ANY_4XX,
    Case,
    Context,
    Expect,
    HttpRequest,
    HttpScenario,
    random_word,
)

DEFAULTS = {"page": 1, "size": 10}


def make_case(rng: random.Random, context: Context) -> Case:
    params: dict[str, str | int] = {"q": random_word(rng)}
    # Mostly all three; sometimes rely on a default so defaults are exercised under load too.
    for name in ("page", "size"):
        if rng.random() < 0.8:
            params[name] = rng.randint(1, 1000)
    expected = {**DEFAULTS, **params}
    return Case(
        HttpRequest("GET", "/search?" + urlencode(params, quote_via=quote)),
        Expect(content_type="application/json", json=expected),
    )


def edge_cases(rng: random.Random, context: Context) -> Sequence[Case]:
    bad = [
        ("page=2&size=3", "missing q"),
        ("q=x&page=abc", "non-integer page"),
        ("q=x&size=1.5", "non-integer size"),
    ]
    return [
        Case(HttpRequest("GET", "/search?" + query), Expect(status=ANY_4XX), label)
        for query, label in bad
    ]


SCENARIO = HttpScenario("query", "GET /search, three typed query parameters", make_case, edge_cases)
