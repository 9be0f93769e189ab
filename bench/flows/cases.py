"""What each step of a journey sends and the exact answer it must get (no Locust here).

Steps are built from the lab's scenarios (:mod:`bench.lab.scenarios`), so a journey holds every
framework to the same definition of a correct answer as the throughput cells do, and are
checked with :func:`bench.lab.scenarios.base.check`: a wrong body, header or status is a
failure, never a success. Inputs are randomised per request so a cached or hard-coded
answer fails.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from bench.infra.db import load_world, world_path, world_rows
from bench.lab.scenarios import db, path_param, post_validated, ws_echo
from bench.lab.scenarios._records import records_case
from bench.lab.scenarios.base import (
    Case,
    Context,
    Expect,
    HttpRequest,
    Reply,
    WsMessage,
    check,
    random_word,
)

BROWSE_MIN = 5
BROWSE_MAX = 100
"""A listing page holds this many records (about 0.25 to 5 KB of JSON)."""

# Locust groups statistics by request name: ids and sizes are folded into one name per step.
BROWSE = "/records?n=[n]"
READ_USER = "/users/[id]"
READ_ROW = "/db/[id]"
CREATE_ITEM = "/items"
WS_CONNECT = "/ws/echo connect"
WS_MESSAGE = "/ws/echo message"
WS_TYPE = "WS"
WS_PATH = ws_echo.SCENARIO.path


class StepError(ValueError):
    """A response was correct but unusable by the next step of a journey."""


@cache
def context(seed: int | None, sqlite: str | None = None) -> Context:
    """The rows ``/db/{id}`` must answer: rebuilt from the lab's seed, else read from SQLite.

    The seed travels from the master to every worker with the other options, so a worker on
    another host needs no copy of the database file.
    """
    if seed is not None:
        return Context(world_rows(seed))
    return Context(load_world(Path(sqlite) if sqlite else world_path()))


def browse(rng: random.Random) -> Case:
    """``GET /records?n=`` with a random page size."""
    return records_case(rng.randint(BROWSE_MIN, BROWSE_MAX))


def read_user(rng: random.Random, world: Context) -> Case:
    """``GET /users/{id}`` with a random id."""
    return path_param.make_case(rng, world)


def read_random_row(rng: random.Random, world: Context) -> Case:
    """``GET /db/{id}`` of a random row."""
    return db.make_case(rng, world)


def read_row(world: Context, row_id: int) -> Case:
    """``GET /db/{row_id}``: the row must be the one in the lab's ``world`` table."""
    if row_id not in world.world:
        raise StepError(f"row {row_id} is not in the world table (1..{len(world.world)})")
    return Case(
        HttpRequest("GET", f"/db/{row_id}"),
        Expect(
            content_type="application/json",
            json={"id": row_id, "randomNumber": world.world[row_id]},
        ),
    )


def create_item(rng: random.Random, world: Context) -> Case:
    """``POST /items`` with a random valid item."""
    return post_validated.make_case(rng, world)


def create_from_record(rng: random.Random, record: Mapping[str, Any]) -> Case:
    """``POST /items`` of an item made from a browsed record; the echo must match it."""
    item = {
        "name": f"{record['name']} {random_word(rng)}",
        "price": record["price"],
        "tags": ["journey", random_word(rng)],
    }
    body = json.dumps(item, ensure_ascii=False).encode()
    return Case(post_validated.post(body), Expect(content_type="application/json", json=item))


def pick_record(body: bytes, rng: random.Random) -> dict[str, Any]:
    """One record of a listing already checked by :func:`browse`'s expectation."""
    listing = json.loads(body)
    if not isinstance(listing, list) or not listing:
        raise StepError(f"listing is not a non-empty JSON array: {body[:80]!r}")
    record: dict[str, Any] = rng.choice(listing)
    return record


def row_of(record: Mapping[str, Any], world: Context) -> int:
    """The ``world`` row a browsed record points at (listing ids start at 0, rows at 1)."""
    return int(record["id"]) % len(world.world) + 1


def ws_message(rng: random.Random) -> WsMessage:
    """A random text or binary WebSocket message."""
    return ws_echo.make_message(rng)


def reply(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> Reply:
    """A :class:`Reply` from any HTTP client's response parts (header names lower-cased)."""
    return Reply(status, tuple((name.lower(), value) for name, value in headers), body)


def verdict(case: Case, received: Reply) -> str | None:
    """Why ``received`` is not the exact answer to ``case`` (None when it is)."""
    return check(case, received)


_QUOTED = re.compile(r"b?'(?:[^'\\]|\\.)*'" + r'|b?"(?:[^"\\]|\\.)*"')
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def failure_label(reason: str) -> str:
    """``reason`` without its per-request values, as Locust's failure name.

    Locust keeps one failure entry per distinct message: ``$.randomNumber: 5455 != expected
    5454`` for every row would make thousands. The label keeps what went wrong and where
    (``$.randomNumber: N != expected N``, ``status 503, expected 200``); the first full
    reasons go to the worker's log.
    """
    if reason.startswith("status "):
        return reason.split(" (", 1)[0]  # the statuses are the point; the body varies
    return _NUMBER.sub("N", _QUOTED.sub("'…'", reason))


def ws_url(host: str) -> str:
    """The WebSocket URL of the echo endpoint on Locust's ``--host`` (http -> ws)."""
    base = host.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + WS_PATH
    if base.startswith("http://"):
        return "ws://" + base.removeprefix("http://") + WS_PATH
    raise ValueError(f"--host must be an http:// or https:// URL, got {host!r}")
