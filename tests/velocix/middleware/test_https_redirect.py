"""HTTPSRedirectMiddleware: 307 to https with path, query and non-default port kept."""

from __future__ import annotations

from typing import Any

import pytest

from velocix.middleware import HTTPSRedirectMiddleware

pytestmark = pytest.mark.anyio


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.parametrize(
    ("host", "location"),
    [
        pytest.param("example.com", "https://example.com/p%20q?a=1", id="default"),
        pytest.param("example.com:80", "https://example.com/p%20q?a=1", id="port-80"),
        pytest.param("example.com:8080", "https://example.com:8080/p%20q?a=1", id="port-8080"),
        pytest.param("[::1]:8443", "https://[::1]:8443/p%20q?a=1", id="ipv6"),
    ],
)
async def test_redirects_to_https(asgi: Any, host: str, location: str) -> None:
    result = await asgi(
        HTTPSRedirectMiddleware(ok_app),
        path="/p%20q",
        headers=[("host", host)],
        query_string=b"a=1",
    )
    assert result.status == 307
    assert result.header("location") == location
    assert result.body == b""


async def test_https_passes_through(asgi: Any) -> None:
    result = await asgi(HTTPSRedirectMiddleware(ok_app), scheme="https")
    assert result.status == 200
    assert result.body == b"ok"


async def test_insecure_websocket_is_refused() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "scheme": "ws", "path": "/ws", "headers": []}
    await HTTPSRedirectMiddleware(ok_app)(scope, None, send)
    assert sent[0]["type"] == "websocket.close"
