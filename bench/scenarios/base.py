"""What a scenario is: randomised requests, the exact response each must get, and the check.

A scenario produces :class:`Case` objects — a request plus an :class:`Expect` computed from
the request's own inputs — so a cached or hard-coded answer fails. The same cases feed the
in-process test of every app, the correctness probe over a real server before any load, and
the load driver's request pool, so all three agree by construction. :func:`check` compares a
:class:`Reply` with its expectation and returns the first difference as a readable reason.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Variant = Literal["app", "app_mw"]


class _Unset:
    """Marker for "no JSON body expected" (``None`` is a valid JSON value)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
ANY_4XX = "4xx"
ANY_2XX = "2xx"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request exactly as it goes on the wire (``path`` includes the query string)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Reply:
    """A received response: lower-case header names, body as sent (content-encoding kept)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Expect:
    """The response a request must get. Unset fields are not checked.

    ``status`` is an exact code, ``"4xx"`` (frameworks answer bad input with 400 or 422 and
    their own error bodies, so those bodies are not compared) or ``"2xx"`` (where a standard
    allows any success status, as Fetch does for a CORS preflight). ``json`` is compared as a value
    (``1 == 1.0`` but ``True != 1``), ``text`` as bytes, ``repeat`` as ``byte * count`` without
    storing the body. ``gzip`` requires ``Content-Encoding: gzip`` and checks the decompressed
    body. ``headers`` must match exactly, ``header_patterns`` as full-match regexes.
    """

    status: int | str = 200
    content_type: str | None = None
    json: Any = UNSET
    text: bytes | None = None
    repeat: tuple[bytes, int] | None = None
    gzip: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    header_patterns: Mapping[str, str] = field(default_factory=dict)
    absent_headers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    """A request, its expected response and a label saying what it exercises."""

    request: HttpRequest
    expect: Expect
    label: str = "valid"


@dataclass(frozen=True, slots=True)
class WsMessage:
    """One WebSocket message: ``str`` is a text frame, ``bytes`` a binary one."""

    data: str | bytes


@dataclass(frozen=True, slots=True)
class Context:
    """Run-wide data scenarios compute expectations from (the ``world`` table's rows)."""

    world: Mapping[int, int]


def _normalise_media_type(value: str) -> str:
    return ";".join(part.strip() for part in value.lower().split(";"))


def _status_matches(expected: int | str, status: int) -> bool:
    if expected == ANY_4XX:
        return 400 <= status < 500
    if expected == ANY_2XX:
        return 200 <= status < 300
    return status == expected


def compare_json(expected: Any, actual: Any, where: str = "$") -> str | None:
    """First difference between two decoded JSON values, as ``"<path>: ..."``, or None."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        same = type(expected) is type(actual) and expected == actual
    elif isinstance(expected, int | float) and isinstance(actual, int | float):
        same = expected == actual
    elif isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return f"{where}: keys {sorted(actual)} != expected {sorted(expected)}"
        for key, value in expected.items():
            difference = compare_json(value, actual[key], f"{where}.{key}")
            if difference:
                return difference
        return None
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{where}: {len(actual)} items != expected {len(expected)}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            difference = compare_json(want, got, f"{where}[{index}]")
            if difference:
                return difference
        return None
    else:
        same = type(expected) is type(actual) and expected == actual
    return None if same else f"{where}: {actual!r} != expected {expected!r}"


def _check_headers(expect: Expect, reply: Reply) -> str | None:
    if expect.content_type is not None:
        got = reply.header("content-type")
        if got is None or _normalise_media_type(got) != _normalise_media_type(expect.content_type):
            return f"content-type {got!r} != expected {expect.content_type!r}"
    for name in expect.absent_headers:
        if reply.header(name) is not None:
            return f"header {name!r} must be absent, got {reply.header(name)!r}"
    for name, value in expect.headers.items():
        if reply.header(name) != value:
            return f"header {name!r} is {reply.header(name)!r}, expected {value!r}"
    for name, pattern in expect.header_patterns.items():
        got = reply.header(name)
        if got is None or not re.fullmatch(pattern, got):
            return f"header {name!r} is {got!r}, expected to match {pattern!r}"
    return None


def _decoded_body(expect: Expect, reply: Reply) -> tuple[bytes | None, str | None]:
    encoding = reply.header("content-encoding")
    if not expect.gzip:
        if encoding not in (None, "identity"):
            return None, f"unexpected content-encoding {encoding!r}"
        return reply.body, None
    if encoding != "gzip":
        return None, f"content-encoding {encoding!r}, expected 'gzip'"
    try:
        return gzip.decompress(reply.body), None
    except (OSError, EOFError, zlib.error) as exc:
        return None, f"body is not valid gzip: {exc}"


def _check_body(expect: Expect, body: bytes) -> str | None:
    if expect.text is not None and body != expect.text:
        return f"body {body[:80]!r} != expected {expect.text[:80]!r}"
    if expect.repeat is not None:
        byte, count = expect.repeat
        if len(body) != count or body.count(byte) != count:
            return f"body of {len(body)} bytes is not {count} x {byte!r}"
    if expect.json is not UNSET:
        try:
            value = json.loads(body)
        except ValueError as exc:
            return f"body is not JSON ({exc}): {body[:80]!r}"
        return compare_json(expect.json, value)
    return None


def check(case: Case, reply: Reply) -> str | None:
    """Why ``reply`` is not the expected response to ``case`` (None when it is)."""
    expect = case.expect
    if not _status_matches(expect.status, reply.status):
        return f"status {reply.status}, expected {expect.status} ({reply.body[:120]!r})"
    problem = _check_headers(expect, reply)
    if problem:
        return problem
    body, problem = _decoded_body(expect, reply)
    if problem or body is None:
        return problem
    return _check_body(expect, body)


def check_echo(sent: WsMessage, received: str | bytes) -> str | None:
    """Why a WebSocket echo differs from what was sent (None when identical, same frame type)."""
    if type(sent.data) is not type(received):
        return f"sent a {type(sent.data).__name__} frame, got {type(received).__name__} back"
    if sent.data != received:
        return f"echo {received[:60]!r} != sent {sent.data[:60]!r}"
    return None


CaseMaker = Callable[[random.Random, Context], Case]
EdgeMaker = Callable[[random.Random, Context], Sequence[Case]]


def pool_rng(seed: int, scenario: str) -> random.Random:
    """The random source of a scenario's load pool for a run seed: the lab's runner and the
    cost runner both draw from it, so they send the same requests for the same seed."""
    return random.Random(f"{seed}:pool:{scenario}")


def _no_edges(rng: random.Random, context: Context) -> Sequence[Case]:
    return ()


@dataclass(frozen=True, slots=True)
class HttpScenario:
    """A scenario driven with HTTP requests.

    ``make_case`` returns one valid, randomised case: the load pool is made of these, so all
    of them share ``load_status``. ``edge_cases`` adds cases checked before load only (bad
    input must be a 4xx, other routes of the same family must work).
    """

    name: str
    summary: str
    make_case: CaseMaker
    edge_cases: EdgeMaker = _no_edges
    variant: Variant = "app"
    protocol: Literal["http"] = "http"

    def pool(self, rng: random.Random, context: Context, size: int) -> list[Case]:
        """``size`` valid randomised cases for the load driver to cycle through."""
        return [self.make_case(rng, context) for _ in range(size)]

    def probe(self, rng: random.Random, context: Context, samples: int) -> list[Case]:
        """Cases checked against a server before it is loaded: samples plus every edge case."""
        return [*self.pool(rng, context, samples), *self.edge_cases(rng, context)]

    def load_status(self, rng: random.Random, context: Context) -> int:
        """The status every pooled request must get (anything else is an error under load)."""
        status = self.make_case(rng, context).expect.status
        if not isinstance(status, int):
            raise TypeError(f"scenario {self.name}: pooled cases need an exact status")
        return status


MessageMaker = Callable[[random.Random], WsMessage]


@dataclass(frozen=True, slots=True)
class WsScenario:
    """A scenario driven over one WebSocket per connection: each message must be echoed."""

    name: str
    summary: str
    path: str
    make_message: MessageMaker
    variant: Variant = "app"
    protocol: Literal["ws"] = "ws"

    def pool(self, rng: random.Random, context: Context, size: int) -> list[WsMessage]:
        """``size`` randomised messages for the load driver to cycle through."""
        return [self.make_message(rng) for _ in range(size)]

    def probe(self, rng: random.Random, context: Context, samples: int) -> list[WsMessage]:
        """Messages echoed once before load: at least one text and one binary frame."""
        messages = self.pool(rng, context, samples)
        messages += [WsMessage("é ü " + str(rng.random())), WsMessage(rng.randbytes(33))]
        return messages


Scenario = HttpScenario | WsScenario


# Random input helpers shared by the scenario modules.
WORDS = ("alpha", "beta", "gamma", "delta", "café", "naïve", "x y", "a&b", "100%", "straße")


def random_word(rng: random.Random) -> str:
    """A short word, sometimes with characters that need percent-encoding."""
    return rng.choice(WORDS) + str(rng.randint(0, 9999))
