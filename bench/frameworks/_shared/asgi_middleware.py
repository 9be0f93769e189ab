"""Hand-written pure-ASGI middleware for the raw baseline's ``app_mw``: CORS, GZip, request id.

No framework code: headers are handled as the raw ``list[tuple[bytes, bytes]]`` of the ASGI
spec. Behaviour follows Starlette's middleware of the same name (what the other apps use),
so ``app_mw`` does comparable work everywhere: CORS mirrors an allowed ``Origin`` and answers
preflights; GZip compresses at level 9 from ``minimum_size`` bytes up, also streamed bodies
(sync-flushed per chunk), and leaves already-encoded responses alone.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Awaitable, Callable, Collection
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


def header(headers: Headers, name: bytes) -> bytes | None:
    """First value of a (lower-case) header name, or None."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def without(headers: Headers, name: bytes) -> Headers:
    """The headers minus every occurrence of ``name``."""
    return [(key, value) for key, value in headers if key.lower() != name]


def add_vary(headers: Headers, token: bytes) -> Headers:
    """Append ``token`` to the Vary header (creating it when absent)."""
    existing = header(headers, b"vary")
    if existing is None:
        return [*headers, (b"vary", token)]
    return [*without(headers, b"vary"), (b"vary", existing + b", " + token)]


class RequestIDMiddleware:
    """Adds a fresh uuid4 hex request id to every HTTP response."""

    def __init__(self, app: ASGIApp, header_name: str = "x-request-id") -> None:
        self.app = app
        self.header_name = header_name.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", ()), (self.header_name, request_id)],
                }
            await send(message)

        await self.app(scope, receive, send_with_id)


class CORSMiddleware:
    """CORS for an explicit origin list: mirrors allowed origins, answers preflight requests."""

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Collection[str] = (),
        allow_methods: Collection[str] = ("GET",),
        max_age: int = 600,
    ) -> None:
        self.app = app
        self.allow_origins = frozenset(origin.encode("latin-1") for origin in allow_origins)
        self.allow_methods = frozenset(method.encode("latin-1") for method in allow_methods)
        self.preflight_headers: Headers = [
            (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
            (b"access-control-allow-methods", ", ".join(allow_methods).encode("latin-1")),
            (b"access-control-max-age", str(max_age).encode("ascii")),
            (
                b"access-control-allow-headers",
                b"Accept, Accept-Language, Content-Language, Content-Type",
            ),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers: Headers = scope["headers"]
        origin = header(request_headers, b"origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        requested_method = header(request_headers, b"access-control-request-method")
        if scope["method"] == "OPTIONS" and requested_method is not None:
            await self.preflight(send, origin, requested_method)
            return
        allowed = origin in self.allow_origins

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: Headers = list(message.get("headers", ()))
                if allowed:
                    headers.append((b"access-control-allow-origin", origin))
                message = {**message, "headers": add_vary(headers, b"Origin")}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def preflight(self, send: Send, origin: bytes, method: bytes) -> None:
        failures = []
        headers = list(self.preflight_headers)
        if origin in self.allow_origins:
            headers.append((b"access-control-allow-origin", origin))
        else:
            failures.append("origin")
        if method not in self.allow_methods:
            failures.append("method")
        status, body = (
            (400, ("Disallowed CORS " + ", ".join(failures)).encode()) if failures else (200, b"OK")
        )
        headers += [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class GZipMiddleware:
    """Gzip-encodes responses of at least ``minimum_size`` bytes when the client accepts gzip."""

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 9) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or b"gzip" not in (
            header(scope["headers"], b"accept-encoding") or b""
        ):
            await self.app(scope, receive, send)
            return
        await _GZipResponder(self, send).run(scope, receive)


class _GZipResponder:
    """Per-request state: holds the response start until the first body decides on encoding."""

    def __init__(self, config: GZipMiddleware, send: Send) -> None:
        self.config = config
        self.send = send
        self.start: Message | None = None
        self.passthrough = False
        self.compressor: Any = None

    async def run(self, scope: Scope, receive: Receive) -> None:
        await self.config.app(scope, receive, self.intercept)

    async def intercept(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.start = message
            # An encoded response (or a range) must not be re-encoded.
            headers = message.get("headers", ())
            self.passthrough = header(list(headers), b"content-encoding") is not None or (
                message["status"] == 206
            )
            if self.passthrough:
                await self.send(message)
            return
        if kind != "http.response.body" or self.passthrough:
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if self.start is not None:
            await self.first_body(self.start, body, more_body)
            self.start = None
            return
        if self.compressor is None:
            await self.send(message)
            return
        await self.send(
            {
                "type": "http.response.body",
                "body": self.compress(body, more_body),
                "more_body": more_body,
            }
        )

    async def first_body(self, start: Message, body: bytes, more_body: bool) -> None:
        headers: Headers = list(start.get("headers", ()))
        if not more_body and len(body) < self.config.minimum_size:
            await self.send(start)
            await self.send({"type": "http.response.body", "body": body})
            return
        self.compressor = zlib.compressobj(
            self.config.compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS
        )
        encoded = self.compress(body, more_body)
        headers = add_vary(without(headers, b"content-length"), b"Accept-Encoding")
        headers.append((b"content-encoding", b"gzip"))
        if not more_body:
            headers.append((b"content-length", str(len(encoded)).encode("ascii")))
        await self.send({**start, "headers": headers})
        await self.send({"type": "http.response.body", "body": encoded, "more_body": more_body})

    def compress(self, body: bytes, more_body: bool) -> bytes:
        # A sync flush per streamed chunk lets the client decode what it has received so far.
        flush_mode = zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH
        compressed: bytes = self.compressor.compress(body) + self.compressor.flush(flush_mode)
        return compressed
