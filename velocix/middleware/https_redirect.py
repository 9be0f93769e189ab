"""Redirect plain ``http``/``ws`` requests to ``https``/``wss`` on the same host and path.

Put :class:`TrustedHostMiddleware` in front of it: the redirect target is built from the
request's ``Host`` header.
"""

from __future__ import annotations

from urllib.parse import quote

from velocix.middleware._asgi import ASGIApp, Receive, Scope, Send
from velocix.middleware.trusted_host import split_host

_SECURE = {"http": "https", "ws": "wss"}


def secure_url(scope: Scope) -> bytes:
    """Return the ``https``/``wss`` URL for the request in ``scope``."""
    scheme = _SECURE[scope.get("scheme", "http")]
    host_header = None
    for key, value in scope["headers"]:
        if key == b"host":
            host_header = value.decode("latin-1").strip()
            break
    if host_header:
        host = split_host(host_header)
        port = host_header.rpartition(":")[2] if host_header.lower() != host else ""
        netloc = host if port in ("", "80", "443") else f"{host}:{port}"
    else:
        server = scope.get("server") or ("localhost", None)
        netloc = server[0]
    path = scope.get("raw_path") or quote(scope.get("root_path", "") + scope["path"]).encode()
    url = f"{scheme}://{netloc}".encode("latin-1") + path
    if scope.get("query_string"):
        url += b"?" + scope["query_string"]
    return url


class HTTPSRedirectMiddleware:
    """Answer insecure requests with a 307 (method-preserving) redirect to the secure URL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("scheme") in ("https", "wss"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # A WebSocket handshake cannot follow redirects: refuse it (the server answers 403).
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        headers = [(b"location", secure_url(scope)), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 307, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
