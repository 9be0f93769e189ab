"""ASGITransport used on its own, under a plain httpx.Client."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from velocix.testing import ASGITransport

Scope = dict[str, Any]
Receive = Any
Send = Any


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    await receive()
    if scope["path"] == "/fail":
        raise RuntimeError("app failed")
    body = f"{scope['state'].get('name')} {scope['client']}".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def test_plain_httpx_client_over_the_transport() -> None:
    before = set(threading.enumerate())
    transport = ASGITransport(app, app_state={"name": "state"}, client=("10.0.0.1", 1))
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        assert client.get("/").text == "state ('10.0.0.1', 1)"
    assert set(threading.enumerate()) <= before


def test_transport_raise_server_exceptions_flag() -> None:
    with (
        httpx.Client(transport=ASGITransport(app), base_url="http://t") as client,
        pytest.raises(RuntimeError, match="app failed"),
    ):
        client.get("/fail")
    quiet = ASGITransport(app, raise_server_exceptions=False)
    with httpx.Client(transport=quiet, base_url="http://t") as client:
        assert client.get("/fail").status_code == 500


def test_async_request_bodies_are_refused() -> None:
    async def body() -> Any:
        yield b"x"

    request = httpx.Request("POST", "http://t/", content=body())
    with pytest.raises(TypeError, match="synchronous"):
        ASGITransport(app).handle_request(request)
