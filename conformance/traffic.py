"""Generated in-process traffic over an app's own routes, through ``conformance.validate``.

Each HTTP route gets its declared methods plus HEAD, OPTIONS and an unknown method, and odd
inputs: the body in random chunks, the client leaving mid-body and mid-response, a
Content-Type nobody serves, a hundred 1 KB header fields, and conditional requests when the
GET answer carries an ETag or Last-Modified. Each WebSocket route gets sessions with and
without subprotocol offers (and one on a spec 2.0 scope, where accept headers are not yet
allowed), text and binary messages, and a client that leaves right after the accept.

The traffic is generated once per cell (deterministic: the random chunking is seeded by the
route) and every G case reads the violations it is about from it.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from conformance.inprocess import WebSocketSession, http_call, http_scope, websocket_scope
from conformance.routes import BODY_METHODS, HTTPRoute, Routes, WebSocketRoute
from conformance.targets import CONNECTION_HEADER, InProcessTarget, new_connection_id
from conformance.validator.rules import Violation

CALL_LIMIT = 3.0
"""Seconds an app call may take before it counts as hanging."""
UNKNOWN_METHOD = "CONFORMANCE"
HUGE_HEADERS = [(f"x-conformance-pad-{i}", "p" * 1000) for i in range(100)]
ODD_CONTENT_TYPE = "application/x-conformance-unknown"
OFFERED = ("conformance.v1", "conformance.v2")


@dataclass
class Call:
    """One generated HTTP call and what the validator saw."""

    kind: str
    method: str
    path: str
    status: int | None
    headers: list[tuple[bytes, bytes]]
    body: bytes
    violations: list[Violation]
    error: str | None = None
    timed_out: bool = False

    @property
    def label(self) -> str:
        """``GET /x (head)``-style description."""
        return f"{self.method} {self.path} ({self.kind})"

    def header(self, name: bytes) -> bytes | None:
        """First value of a response header."""
        return next((v for k, v in self.headers if k.lower() == name), None)


@dataclass
class Session:
    """One generated WebSocket session and what the validator saw."""

    kind: str
    path: str
    offered: tuple[str, ...]
    answer: str
    subprotocol: str | None
    violations: list[Violation]
    error: str | None = None
    timed_out: bool = False

    @property
    def label(self) -> str:
        """``WS /ws (offers ...)``-style description."""
        return f"WS {self.path} ({self.kind})"


@dataclass
class Traffic:
    """Everything generated for one app."""

    calls: list[Call] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)

    def violations(self, kinds: set[str] | None = None) -> list[Violation]:
        """Violations over every call and session (or those of some call kinds)."""
        found = [v for c in self.calls if kinds is None or c.kind in kinds for v in c.violations]
        if kinds is None:
            found += [v for s in self.sessions for v in s.violations]
        return found


def generate(target: InProcessTarget, routes: Routes) -> Traffic:
    """Run the generated traffic of ``routes`` against the in-process target."""
    traffic = Traffic()
    for route in routes.http:
        traffic.calls.extend(_route_calls(target, route))
    for ws_route in routes.websocket:
        traffic.sessions.extend(_sessions(target, ws_route))
    return traffic


def _route_calls(target: InProcessTarget, route: HTTPRoute) -> list[Call]:
    rng = random.Random(route.path)
    calls = []
    for method in route.methods:
        if method in BODY_METHODS:
            calls += _body_calls(target, route, method, rng)
        else:
            calls.append(_call(target, "plain", method, route.path))
            calls.append(_call(target, "huge headers", method, route.path, HUGE_HEADERS))
            calls.append(_call(target, "client leaves mid-response", method, route.path, gone=1))
    if "GET" in route.methods:
        get = next(c for c in calls if c.method == "GET" and c.kind == "plain")
        calls.append(_call(target, "head", "HEAD", route.path))
        calls += _conditional_calls(target, route.path, get)
    calls.append(_call(target, "options", "OPTIONS", route.path))
    calls.append(_call(target, "unknown method", UNKNOWN_METHOD, route.path))
    return calls


def _body_calls(
    target: InProcessTarget, route: HTTPRoute, method: str, rng: random.Random
) -> list[Call]:
    body = route.body or b"{}"
    typed = [("content-type", route.content_type)]
    odd = [("content-type", ODD_CONTENT_TYPE)]
    return [
        _call(target, "plain", method, route.path, typed, [body]),
        _call(target, "body in random chunks", method, route.path, typed, _chunks(body, rng)),
        _call(target, "client leaves mid-body", method, route.path, typed, [body[:1]], cut=True),
        _call(target, "unserved Content-Type", method, route.path, odd, [body]),
        _call(target, "huge headers", method, route.path, [*typed, *HUGE_HEADERS], [body]),
    ]  # fmt: skip


def _chunks(body: bytes, rng: random.Random) -> list[bytes]:
    """``body`` cut at random places, with an empty chunk somewhere (legal, and often missed)."""
    cuts = sorted(rng.sample(range(1, len(body)), min(3, max(len(body) - 1, 0))))
    parts = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    parts.insert(rng.randrange(len(parts) + 1), b"")
    return parts


def _conditional_calls(target: InProcessTarget, path: str, get: Call) -> list[Call]:
    calls = []
    etag = get.header(b"etag")
    if etag is not None:
        header = [("if-none-match", etag.decode("latin-1"))]
        calls.append(_call(target, "If-None-Match", "GET", path, header))
    modified = get.header(b"last-modified")
    if modified is not None:
        header = [("if-modified-since", modified.decode("latin-1"))]
        calls.append(_call(target, "If-Modified-Since", "GET", path, header))
    return calls


def _call(
    target: InProcessTarget,
    kind: str,
    method: str,
    path: str,
    headers: list[tuple[str, str]] | None = None,
    body: list[bytes] | None = None,
    *,
    gone: int | None = None,
    cut: bool = False,
) -> Call:
    connection = new_connection_id("g")
    route, _, query = path.partition("?")
    chunks = body or [b""]
    fields = [(name.lower().encode(), value.encode("latin-1")) for name, value in headers or []]
    fields.append((CONNECTION_HEADER.encode(), connection.encode()))
    size = sum(len(chunk) for chunk in chunks)
    if size:
        fields.append((b"content-length", str(size).encode()))
    scope = http_scope(
        method,
        route,
        query_string=query.encode("latin-1"),
        headers=fields,
        extensions=dict(target.extensions),
        state=target.state,
    )
    result = target.loop.run(
        http_call(
            target.app, scope, chunks, disconnect_after=gone, body_cut=cut, time_limit=CALL_LIMIT
        ),
        CALL_LIMIT + 5,
    )
    timed_out = isinstance(result.error, TimeoutError)
    return Call(
        kind,
        method,
        path,
        result.status,
        result.headers,
        result.body,
        target.log.violations(connection),
        None if result.error is None else f"{type(result.error).__name__}: {result.error}",
        timed_out,
    )


# --- WebSocket ----------------------------------------------------------------------------------
def _sessions(target: InProcessTarget, route: WebSocketRoute) -> list[Session]:
    own = route.subprotocols
    return [
        _session(target, route.path, "no subprotocol offered", ()),
        _session(target, route.path, f"offers {', '.join(OFFERED + own)}", OFFERED + own),
        _session(target, route.path, "client leaves right after accept", own, leave_early=True),
        _session(target, route.path, "spec_version 2.0 scope", own, spec="2.0"),
    ]


def _session(
    target: InProcessTarget,
    path: str,
    kind: str,
    offered: tuple[str, ...],
    *,
    leave_early: bool = False,
    spec: str = "2.4",
) -> Session:
    connection = new_connection_id("gw")
    route, _, query = path.partition("?")
    scope = websocket_scope(
        route,
        subprotocols=offered,
        query_string=query.encode("latin-1"),
        headers=[(CONNECTION_HEADER.encode(), connection.encode())],
        spec_version=spec,
        extensions=dict(target.extensions),
    )
    session = WebSocketSession(target.app, scope, CALL_LIMIT)
    answer, error = target.loop.run(_converse(session, leave_early), CALL_LIMIT * 4)
    accept = next((m for m in session.sent if m.get("type") == "websocket.accept"), None)
    return Session(
        kind,
        path,
        offered,
        answer,
        accept.get("subprotocol") if accept else None,
        target.log.violations(connection),
        error or (None if session.error is None else repr(session.error)),
        answer == "no answer",
    )


async def _converse(session: WebSocketSession, leave_early: bool) -> tuple[str, str | None]:
    """Connect, exchange a text and a binary message, close; what the app answered."""
    try:
        answer = await session.connect()
    except TimeoutError:
        await session.aclose()
        return "no answer", f"no reply to websocket.connect within {CALL_LIMIT:g} s"
    kind = str(answer.get("type"))
    try:
        if kind == "websocket.accept":
            if not leave_early:
                for message in ("conformance", b"\x00conformance"):
                    await (
                        session.send_text(message)
                        if isinstance(message, str)
                        else session.send_bytes(message)
                    )
                    await _drain(session)
            await session.disconnect(1001 if leave_early else 1000)
        else:
            await session.wait_closed()
    finally:
        await session.aclose()
    return kind, None


async def _drain(session: WebSocketSession) -> None:
    """Take whatever the app sends in reply (an echo, a push) for a short while."""
    try:
        while True:
            message: dict[str, Any] = dict(await asyncio.wait_for(session.from_app.get(), 0.2))
            if message.get("type") in ("websocket.close", "conformance.app-returned"):
                return
    except TimeoutError:
        return
