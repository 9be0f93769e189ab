"""Building ASGI connection scopes from :class:`httpx.Request` objects."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from velocix.testing.asgi_types import ASGI_WWW, Scope

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def http_scope(
    request: httpx.Request,
    *,
    root_path: str,
    client: tuple[str, int] | None,
    state: dict[str, Any],
) -> Scope:
    """The ``http`` scope a server would build for ``request``."""
    path, raw_path = _paths(request.url, root_path)
    return {
        "type": "http",
        "asgi": dict(ASGI_WWW),
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.url.scheme,
        "path": path,
        "raw_path": raw_path,
        "query_string": request.url.query,
        "root_path": root_path,
        "headers": request_headers(request),
        "client": client,
        "server": _server(request.url),
        "state": dict(state),  # the lifespan spec asks for a shallow copy per connection
        "extensions": {},
    }


def websocket_scope(
    request: httpx.Request,
    *,
    root_path: str,
    client: tuple[str, int] | None,
    state: dict[str, Any],
) -> Scope:
    """The ``websocket`` scope a server would build for the handshake ``request``."""
    path, raw_path = _paths(request.url, root_path)
    return {
        "type": "websocket",
        "asgi": dict(ASGI_WWW),
        "http_version": "1.1",
        "scheme": _WEBSOCKET_SCHEMES.get(request.url.scheme, request.url.scheme),
        "path": path,
        "raw_path": raw_path,
        "query_string": request.url.query,
        "root_path": root_path,
        "headers": request_headers(request),
        "client": client,
        "server": _server(request.url),
        "subprotocols": _subprotocols(request.headers),
        "state": dict(state),
        "extensions": {"websocket.http.response": {}},
    }


def request_headers(request: httpx.Request) -> list[tuple[bytes, bytes]]:
    """Request headers as ASGI wants them: lowercase byte names, order and repeats kept."""
    return [(name.lower(), value) for name, value in request.headers.raw]


def _paths(url: httpx.URL, root_path: str) -> tuple[str, bytes]:
    """``path`` (percent-decoded) and ``raw_path`` (as sent, no query) for the scope.

    ASGI's ``path`` includes ``root_path``. A URL that already starts with the root path
    is taken as the full request target (as with Starlette's client); one that does not
    is taken as seen behind a proxy that stripped the prefix, so it is put back (as
    uvicorn's ``--root-path`` does). Either way the application sees a consistent scope.
    """
    path = url.path
    raw_path = url.raw_path.split(b"?", 1)[0]
    if root_path and not _under(path, root_path):
        path = root_path + path
        raw_path = quote(root_path).encode("ascii") + raw_path
    return path, raw_path


def _under(path: str, root_path: str) -> bool:
    prefix = root_path.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def _server(url: httpx.URL) -> tuple[str, int | None]:
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme)
    return url.host, port


def _subprotocols(headers: httpx.Headers) -> list[str]:
    offered = ",".join(headers.get_list("sec-websocket-protocol"))
    return [name.strip() for name in offered.split(",") if name.strip()]
