"""GET /users/{user_id}: routing with one integer path parameter."""

from __future__ import annotations

import random
from collections.abc import Sequence
from urllib.parse import quote

from bench.lab.scenarios.base import ANY_4XX, Case, Context, Expect, HttpRequest, HttpScenario


def make_case(rng: random.Random, context: Context) -> Case:
    user_id = rng.randint(1, 2**31)
    return Case(
        HttpRequest("GET", f"/users/{user_id}"),
        Expect(content_type="application/json", json={"user_id": user_id}),
    )


def not_integers(rng: random.Random) -> list[tuple[str, str]]:
    """Path segments that are not an integer written in a URL, each with what it shows.

    The contract's "a non-integer id is a 4xx", read strictly: integer notation is an optional
    ``-`` and ASCII digits, so spellings with an integral value are out too: ``1e3`` (msgspec's
    lax mode reads it as 1000), ``1.0`` (pydantic's lax mode reads it as 1; the FastAPI app
    checks the notation first), spaces, ``_`` separators and ``+`` (``int()`` and pydantic take
    them), non-ASCII digits (``int()`` takes them). Segments go on the wire percent-encoded
    where they need it. A negative id is an integer and is left out: Starlette's ``{id:int}``
    convertor does not match it (404) while the others answer it.
    """
    n = rng.randint(1, 99)
    exponent = rng.randint(1, 6)
    arabic = "".join(chr(0x660 + int(digit)) for digit in str(rng.randint(10, 999)))
    return [
        ("abc", "letters"),
        (f"{n}.5", "a fraction"),
        (f"{n}abc", "trailing letters"),
        ("1e3", "exponent notation"),
        (f"{n}e{exponent}", "exponent notation"),
        (f"{n}.0", "an integral decimal"),
        (f"%20{n}%20", "surrounding spaces"),
        (f"{n}_{rng.randint(0, 999):03d}", "a digit separator"),
        (f"+{n}", "a plus sign"),
        (quote(arabic), "non-ASCII digits"),
    ]


def edge_cases(rng: random.Random, context: Context) -> Sequence[Case]:
    bad = [
        Case(HttpRequest("GET", f"/users/{path}"), Expect(status=ANY_4XX), f"id with {what}")
        for path, what in not_integers(rng)
    ]
    # Any integer is an id, also one past 64 bits (orjson alone cannot encode it).
    big = rng.randint(2**64, 2**80)
    return [
        *bad,
        Case(
            HttpRequest("GET", f"/users/{big}"),
            Expect(content_type="application/json", json={"user_id": big}),
            "id beyond 64 bits",
        ),
    ]


SCENARIO = HttpScenario(
    "path_param", "GET /users/{id}, integer path parameter", make_case, edge_cases
)
