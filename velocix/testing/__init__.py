"""Test client for Velocix and any other ASGI 3 application.

Needs the ``testing`` extra (httpx): ``pip install velocix[testing]``. ::

    from velocix.testing import TestClient

    def test_items() -> None:
        with TestClient(app) as client:              # runs lifespan startup/shutdown
            assert client.get("/items/1").json() == {"id": 1}
            with client.websocket_connect("/ws") as ws:
                ws.send_text("hi")
                assert ws.receive_text() == "hi"

    async def test_items_async() -> None:            # the application on the test's loop
        async with AsyncTestClient(app) as client:
            assert (await client.get("/items/1")).json() == {"id": 1}
            async with client.websocket_connect("/ws") as ws:
                await ws.send_text("hi")
                assert await ws.receive_text() == "hi"
"""

from __future__ import annotations

try:
    import httpx as _httpx  # noqa: F401  (checked here so the message is the first error)
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "velocix.testing needs httpx, which is not installed. "
        "Install it with: pip install velocix[testing]"
    ) from exc

from velocix.testing.async_client import AsyncASGITransport, AsyncTestClient, AsyncWebSocketSession
from velocix.testing.client import TestClient
from velocix.testing.exceptions import ASGIProtocolError, ClientDisconnected, WebSocketDenied
from velocix.testing.transport import ASGITransport
from velocix.testing.websocket import WebSocketTestSession

__all__ = [
    "ASGIProtocolError",
    "ASGITransport",
    "AsyncASGITransport",
    "AsyncTestClient",
    "AsyncWebSocketSession",
    "ClientDisconnected",
    "TestClient",
    "WebSocketDenied",
    "WebSocketTestSession",
]
