"""Lifespan: context with state, startup/shutdown handlers, failures, servers without lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from velocix import Request, Velocix
from velocix.testing import TestClient

Message = dict[str, Any]


async def drive_lifespan(app: Any, scope: dict[str, Any] | None = None) -> list[Message]:
    """Startup then shutdown through the raw protocol; returns what the app sent."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    lifespan_scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    if scope is not None:
        lifespan_scope = scope
    await app(lifespan_scope, receive, send)
    return sent


def test_lifespan_context_state_reaches_requests_and_handlers_run_in_order() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Velocix) -> AsyncIterator[dict[str, Any]]:
        events.append("enter")
        app.state.ready = True
        yield {"pool": "the-pool"}
        events.append("exit")

    def sync_startup() -> None:
        events.append("sync startup")

    async def async_shutdown() -> None:
        events.append("async shutdown")

    app = Velocix(lifespan=lifespan, on_startup=[sync_startup], on_shutdown=[async_shutdown])

    @app.get("/state")
    async def state(request: Request) -> dict[str, Any]:
        return {"pool": request.state.pool, "ready": request.app.state.ready}

    with TestClient(app) as client:
        assert events == ["sync startup", "enter"]
        assert client.get("/state").json() == {"pool": "the-pool", "ready": True}
    assert events == ["sync startup", "enter", "exit", "async shutdown"]


def test_startup_failure_is_reported_with_its_message() -> None:
    async def fail() -> None:
        raise ConnectionError("database unreachable")

    sent = asyncio.run(drive_lifespan(Velocix(on_startup=[fail])))
    assert sent == [
        {"type": "lifespan.startup.failed", "message": "ConnectionError: database unreachable"}
    ]
    with (
        pytest.raises(RuntimeError, match="database unreachable"),
        TestClient(Velocix(on_startup=[fail])),
    ):
        pass


def test_shutdown_failure_is_reported() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Velocix) -> AsyncIterator[None]:
        yield
        raise RuntimeError("close failed")

    sent = asyncio.run(drive_lifespan(Velocix(lifespan=lifespan)))
    assert sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.failed", "message": "RuntimeError: close failed"},
    ]


def test_state_without_server_support_fails_startup_clearly() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Velocix) -> AsyncIterator[dict[str, int]]:
        yield {"x": 1}

    sent = asyncio.run(drive_lifespan(Velocix(lifespan=lifespan), {"type": "lifespan"}))
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "does not support lifespan state" in sent[0]["message"]


def test_lifespan_must_be_a_context_manager_factory() -> None:
    with pytest.raises(TypeError, match="async context manager"):
        Velocix(lifespan=42)  # type: ignore[arg-type]

    async def not_a_manager(app: Velocix) -> None:
        return None

    sent = asyncio.run(drive_lifespan(Velocix(lifespan=not_a_manager)))  # type: ignore[arg-type]
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "asynccontextmanager" in sent[0]["message"]


def test_server_without_lifespan_still_serves() -> None:
    started: list[bool] = []
    app = Velocix(on_startup=[lambda: started.append(True)])

    @app.get("/")
    async def index() -> str:
        return "ok"

    client = TestClient(app)  # no `with`: no lifespan events at all
    try:
        assert client.get("/").json() == "ok"
    finally:
        client.close()
    assert started == []
