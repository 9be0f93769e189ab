"""Run a scenario's cases against an app and report every mismatch.

The same functions serve the in-process test of every app (a TestClient) and the lab's
correctness gate over a real server (an ``httpx.Client`` to ``http://127.0.0.1:<port>``,
a ``websockets`` connection), so the apps are held to one definition of "correct".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import httpx

from bench.lab.scenarios.base import Case, HttpRequest, Reply, WsMessage, check, check_echo


def fetch(client: httpx.Client, request: HttpRequest) -> Reply:
    """Send ``request`` exactly (no headers added but Host/Content-Length) and read the reply.

    The body is read raw (``iter_raw``), so a gzip-encoded response is checked as sent.
    """
    built = client.build_request(
        request.method, request.path, headers=list(request.headers), content=request.body or None
    )
    # httpx adds client-side defaults the load driver would not send: keep the wire identical.
    sent = {name.lower() for name, _ in request.headers}
    for default in ("accept-encoding", "accept", "user-agent", "connection"):
        if default not in sent and default in built.headers:
            del built.headers[default]
    response = client.send(built, stream=True)
    try:
        body = b"".join(response.iter_raw())
    finally:
        response.close()
    headers = tuple(
        (name.decode("latin-1").lower(), value.decode("latin-1"))
        for name, value in response.headers.raw
    )
    return Reply(response.status_code, headers, body)


def probe_http(client: httpx.Client, cases: Iterable[Case]) -> list[str]:
    """Every failing case as ``"<label> <METHOD> <path>: <reason>"``."""
    failures = []
    for case in cases:
        request = case.request
        try:
            reason = check(case, fetch(client, request))
        except httpx.HTTPError as exc:
            reason = f"request failed: {exc!r}"
        if reason:
            failures.append(f"{case.label} {request.method} {request.path}: {reason}")
    return failures


class WsSession(Protocol):
    """The two operations an echo check needs from any WebSocket client."""

    def send(self, data: str | bytes) -> None: ...

    def receive(self) -> str | bytes: ...


def probe_ws(session: WsSession, messages: Sequence[WsMessage]) -> list[str]:
    """Send each message and check its echo; every mismatch as a readable line."""
    failures = []
    for index, message in enumerate(messages):
        session.send(message.data)
        reason = check_echo(message, session.receive())
        if reason:
            failures.append(f"message {index}: {reason}")
    return failures
