"""POST /items: a JSON body validated into a model and echoed back."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from bench.lab.scenarios.base import (
    ANY_4XX,
    Case,
    Context,
    Expect,
    HttpRequest,
    HttpScenario,
    random_word,
)

JSON_HEADERS = (("content-type", "application/json"),)


def post(body: bytes) -> HttpRequest:
    return HttpRequest("POST", "/items", JSON_HEADERS, body)


def make_case(rng: random.Random, context: Context) -> Case:
    item: dict[str, Any] = {"name": random_word(rng), "price": round(rng.uniform(0.01, 9999), 2)}
    tags = [random_word(rng) for _ in range(rng.randint(0, 4))]
    if tags or rng.random() < 0.5:
        item["tags"] = tags
    body = json.dumps(item, ensure_ascii=False).encode()
    return Case(post(body), Expect(content_type="application/json", json={"tags": [], **item}))


def edge_cases(rng: random.Random, context: Context) -> Sequence[Case]:
    bad: list[tuple[bytes, str]] = [
        (b'{"name": "x", "price": ', "malformed JSON"),
        (b'{"price": 1.5}', "missing name"),
        (b'{"name": "x", "price": "cheap"}', "non-numeric price"),
        (b'{"name": "x", "price": 2, "tags": "a"}', "tags not a list"),
        (b"[1, 2]", "not an object"),
    ]
    return [Case(post(body), Expect(status=ANY_4XX), label) for body, label in bad]


SCENARIO = HttpScenario(
    "post_validated", "POST /items, JSON body validated and echoed", make_case, edge_cases
)
