"""Cross-Origin Resource Sharing (Fetch standard, "CORS protocol").

Preflight requests (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) are
answered here, before routing, so they work for every path: GET-only routes, unknown paths
and mounted apps alike.

Credentials and wildcards: ``allow_origins=["*"]`` together with ``allow_credentials=True``
would either be rejected by browsers (``*`` with credentials) or, if the request origin were
echoed back, let any web site read authenticated responses. That combination is refused at
construction with a ``ValueError``; list the trusted origins explicitly (or use
``allow_origin_regex``) when credentials are needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from velocix.core.exceptions import error_response
from velocix.middleware._asgi import (
    ASGIApp,
    Message,
    RawHeaders,
    Receive,
    Scope,
    Send,
)

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# Request headers a browser may send without a preflight naming them (Fetch "CORS-safelisted").
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
_CORS_RESPONSE_HEADERS = frozenset(
    {
        b"access-control-allow-origin",
        b"access-control-allow-credentials",
        b"access-control-expose-headers",
    }
)


class CORSMiddleware:
    """Answer CORS preflights and add ``Access-Control-*`` headers to cross-origin responses.

    Options use Starlette's names: ``allow_origins``, ``allow_methods``, ``allow_headers``,
    ``allow_credentials``, ``allow_origin_regex``, ``expose_headers`` and ``max_age``
    (seconds a browser may cache a preflight answer).
    """

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        if isinstance(allow_origins, str) or isinstance(allow_methods, str):
            raise TypeError("allow_origins and allow_methods must be sequences of strings")
        allow_all_origins = "*" in allow_origins
        if allow_all_origins and allow_credentials:
            raise ValueError(
                "CORSMiddleware: allow_origins=['*'] cannot be combined with "
                "allow_credentials=True (any site could read credentialed responses); "
                "list the trusted origins explicitly or use allow_origin_regex"
            )
        if max_age < 0:
            raise ValueError("CORSMiddleware: max_age must be >= 0")
        self.app = app
        self.allow_all_origins = allow_all_origins
        self.allow_origins = frozenset(origin.rstrip("/") for origin in allow_origins)
        self._allowed_raw = frozenset(origin.encode("latin-1") for origin in self.allow_origins)
        self.allow_origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        self.allow_credentials = allow_credentials
        methods = ALL_METHODS if "*" in allow_methods else tuple(m.upper() for m in allow_methods)
        self.allow_methods = frozenset(methods)
        self.allow_all_headers = "*" in allow_headers
        self.allow_headers = SAFELISTED_HEADERS | {h.lower() for h in allow_headers if h != "*"}
        # With wildcard origins the answer never depends on the request's Origin, so caches
        # need no ``Vary: Origin``; otherwise every response varies on it (Fetch §3.2.5).
        self.vary_origin = not allow_all_origins
        self._simple_headers = self._build_simple_headers(expose_headers)
        self._preflight_headers = self._build_preflight_headers(methods, max_age)

    def _build_simple_headers(self, expose_headers: Sequence[str]) -> RawHeaders:
        headers: RawHeaders = []
        if self.allow_credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        if expose_headers:
            headers.append((b"access-control-expose-headers", ", ".join(expose_headers).encode()))
        return headers

    def _build_preflight_headers(self, methods: Sequence[str], max_age: int) -> RawHeaders:
        headers: RawHeaders = [
            (b"access-control-allow-methods", ", ".join(methods).encode()),
            (b"access-control-max-age", str(max_age).encode()),
        ]
        if self.allow_credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        if self.vary_origin:
            headers.append((b"vary", b"Origin"))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin: bytes | None = None
        request_method: bytes | None = None
        for key, value in scope["headers"]:
            if key == b"origin":
                origin = value
            elif key == b"access-control-request-method":
                request_method = value
        if origin is None:
            if self.vary_origin:
                await self.app(scope, receive, _VaryOriginSend(send))
            else:
                await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and request_method is not None:
            await self._preflight(scope, receive, send, origin, request_method)
            return
        extra = self._simple_response_headers(origin)
        await self.app(scope, receive, _SimpleResponseSend(send, extra, self.vary_origin))

    def _simple_response_headers(self, origin: bytes) -> RawHeaders:
        """The CORS headers for a response to a request from ``origin`` (Vary excluded)."""
        allow_origin = self.allow_origin_value(origin)
        if allow_origin is None:
            return []
        return [(b"access-control-allow-origin", allow_origin), *self._simple_headers]

    def is_allowed_origin(self, origin: str) -> bool:
        """Tell whether ``origin`` (as sent in the ``Origin`` header) may read responses."""
        if self.allow_all_origins or origin in self.allow_origins:
            return True
        return self.allow_origin_regex is not None and (
            self.allow_origin_regex.fullmatch(origin) is not None
        )

    def allow_origin_value(self, origin: bytes) -> bytes | None:
        """Value for ``Access-Control-Allow-Origin`` given the request origin, or ``None``."""
        if self.allow_all_origins:
            return b"*"
        if origin in self._allowed_raw or self.is_allowed_origin(origin.decode("latin-1")):
            return origin
        return None

    async def _preflight(
        self, scope: Scope, receive: Receive, send: Send, origin: bytes, request_method: bytes
    ) -> None:
        allow_origin = self.allow_origin_value(origin)
        problems: list[str] = []
        if allow_origin is None:
            problems.append("origin")
        if request_method.decode("latin-1").upper() not in self.allow_methods:
            problems.append("method")
        requested = _requested_headers(scope["headers"])
        if not self.allow_all_headers and not requested <= self.allow_headers:
            problems.append("headers")
        if problems:
            # A refusal grants nothing: no Access-Control-* header at all (in particular no
            # Allow-Credentials), only Vary so that caches keep answers per origin apart.
            detail = "Disallowed CORS " + ", ".join(problems)
            response = error_response(400, detail)
            if self.vary_origin:
                response.raw_headers.append((b"vary", b"Origin"))
            await response(scope, receive, send)
            return
        headers = list(self._preflight_headers)
        assert allow_origin is not None
        headers.append((b"access-control-allow-origin", allow_origin))
        if requested:
            # Echo the (validated) requested names: ``*`` is not a wildcard when credentials
            # are allowed, and an explicit list works in every browser.
            headers.append((b"access-control-allow-headers", ", ".join(sorted(requested)).encode()))
        headers.append((b"content-length", b"0"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _requested_headers(headers: RawHeaders) -> frozenset[str]:
    names: set[str] = set()
    for key, value in headers:
        if key == b"access-control-request-headers":
            names.update(
                part.strip().lower() for part in value.decode("latin-1").split(",") if part.strip()
            )
    return frozenset(names)


class _VaryOriginSend:
    """``send`` wrapper adding ``Vary: Origin`` to responses of requests without ``Origin``."""

    __slots__ = ("send",)

    def __init__(self, send: Send) -> None:
        self.send = send

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = _merged(message.get("headers", ()), [], True)
        await self.send(message)


class _SimpleResponseSend:
    """``send`` wrapper adding the (precomputed) CORS headers to a cross-origin response."""

    __slots__ = ("extra", "send", "vary")

    def __init__(self, send: Send, extra: RawHeaders, vary: bool = True) -> None:
        self.send = send
        self.extra = extra
        self.vary = vary

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = _merged(message.get("headers", ()), self.extra, self.vary)
        await self.send(message)


def _merged(headers: RawHeaders, extra: RawHeaders, vary_origin: bool) -> RawHeaders:
    """One pass over the app's headers: drop its CORS headers, add ``extra``, merge Vary."""
    merged: RawHeaders = []
    has_vary = False
    for key, value in headers:
        name = key.lower()
        if name in _CORS_RESPONSE_HEADERS:
            continue
        if vary_origin and name == b"vary":
            has_vary = True
            tokens = [part.strip().lower() for part in value.split(b",")]
            if b"origin" not in tokens and b"*" not in tokens:
                value = value + b", Origin"
        merged.append((key, value))
    merged.extend(extra)
    if vary_origin and not has_vary:
        merged.append((b"vary", b"Origin"))
    return merged
