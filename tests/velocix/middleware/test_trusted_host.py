"""TrustedHostMiddleware: exact and wildcard hosts, ports, IPv6, www redirect, 400 bodies."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from velocix.middleware import TrustedHostMiddleware
from velocix.middleware.trusted_host import split_host

pytestmark = pytest.mark.anyio


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


ALLOWED = ["example.com", "*.api.example.com", "[::1]", "www.shop.test"]


@pytest.mark.parametrize(
    ("host", "status"),
    [
        pytest.param("example.com", 200, id="exact"),
        pytest.param("EXAMPLE.com:8000", 200, id="case-and-port"),
        pytest.param("v1.api.example.com", 200, id="wildcard-subdomain"),
        pytest.param("api.example.com", 400, id="wildcard-excludes-bare"),
        pytest.param("evilapi.example.com", 400, id="wildcard-needs-dot"),
        pytest.param("example.com.evil.net", 400, id="suffix-attack"),
        pytest.param("[::1]:8080", 200, id="ipv6-port"),
        pytest.param("evil.net", 400, id="other"),
        pytest.param("shop.test", 301, id="www-redirect"),
    ],
)
async def test_hosts(asgi: Any, host: str, status: int) -> None:
    app = TrustedHostMiddleware(ok_app, allowed_hosts=ALLOWED)
    result = await asgi(app, headers=[("host", host)], path="/a b", query_string=b"x=1")
    assert result.status == status
    if status == 400:
        body = orjson.loads(result.body)
        assert body == {"detail": "Invalid host header", "status": 400}
    if status == 301:
        assert result.header("location") == "http://www.shop.test/a b?x=1"


async def test_missing_and_duplicate_host_are_400() -> None:
    app = TrustedHostMiddleware(ok_app, allowed_hosts=["example.com"])
    for headers in ([], [(b"host", b"example.com"), (b"host", b"example.com")]):
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": headers,
            "query_string": b"",
        }
        await app(scope, receive, send)
        assert sent[0]["status"] == 400


async def test_www_redirect_can_be_disabled(asgi: Any) -> None:
    app = TrustedHostMiddleware(ok_app, allowed_hosts=["www.shop.test"], www_redirect=False)
    assert (await asgi(app, headers=[("host", "shop.test")])).status == 400


async def test_websocket_with_bad_host_is_closed() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [(b"host", b"evil.net")]}
    await TrustedHostMiddleware(ok_app, allowed_hosts=["example.com"])(scope, None, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_bad_pattern_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        TrustedHostMiddleware(ok_app, allowed_hosts=["api.*.example.com"])


@pytest.mark.parametrize(
    ("value", "host"),
    [("Example.COM", "example.com"), ("a.b:80", "a.b"), ("[::1]:1", "[::1]"), ("[::1]", "[::1]")],
)
def test_split_host(value: str, host: str) -> None:
    assert split_host(value) == host
