"""Report server-side durations in the ``Server-Timing`` response header (W3C Server Timing).

The middleware measures the time from receiving the request to the start of the response
(``app;dur=12.3``). Handlers can add their own entries with :func:`record_timing`. The header
reveals processing times to clients (and to cross-origin scripts only if the response also
sends ``Timing-Allow-Origin``); enable it where that is acceptable.
"""

from __future__ import annotations

import re
import time
from typing import Any

from velocix.middleware._asgi import ASGIApp, Message, Receive, Scope, Send, request_state

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
STATE_KEY = "server_timing"


def record_timing(
    request: Any, name: str, duration_ms: float, description: str | None = None
) -> None:
    """Add an entry to the current response's ``Server-Timing`` header.

    ``request`` is a :class:`~velocix.Request` (anything with ``.scope``) or an ASGI scope
    handled by :class:`ServerTimingMiddleware`; ``name`` must be an HTTP token.
    """
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"Server-Timing metric name must be an HTTP token, got {name!r}")
    scope = getattr(request, "scope", request)
    entries = scope.get("state", {}).get(STATE_KEY)
    if entries is None:
        raise RuntimeError("record_timing() needs ServerTimingMiddleware in the middleware stack")
    entry = f"{name};dur={duration_ms:.1f}"
    if description is not None:
        escaped = description.replace("\\", "\\\\").replace('"', '\\"')
        entry += f';desc="{_printable(escaped)}"'
    entries.append(entry)


def _printable(text: str) -> str:
    # Header values must not carry control characters (CR/LF would split the header).
    return "".join(ch for ch in text if " " <= ch <= "~")


class ServerTimingMiddleware:
    """Add ``Server-Timing: <metric_name>;dur=<ms>`` (plus recorded entries) to responses."""

    def __init__(self, app: ASGIApp, metric_name: str = "app") -> None:
        if not _TOKEN.fullmatch(metric_name):
            raise ValueError(f"ServerTimingMiddleware: invalid metric name {metric_name!r}")
        self.app = app
        self.metric_name = metric_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        entries: list[str] = []
        scope, state = request_state(scope)
        state[STATE_KEY] = entries
        metric_name = self.metric_name

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                value = ", ".join([f"{metric_name};dur={elapsed_ms:.1f}", *entries])
                headers = list(message.get("headers", ()))
                headers.append((b"server-timing", value.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_timing)
