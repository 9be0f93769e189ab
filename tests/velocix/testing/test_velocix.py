"""The TestClient driving a Velocix application (the seed client's defects, fixed)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from velocix import (
    JSONResponse,
    Request,
    StreamingResponse,
    Velocix,
    WebSocket,
    WebSocketDisconnect,
)
from velocix.testing import TestClient, WebSocketDenied


class Pool:
    """Stands for a connection pool: bound to the loop that created it."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.closed = False

    async def query(self) -> str:
        assert asyncio.get_running_loop() is self.loop, "pool used from another loop"
        await asyncio.sleep(0)
        return "row"


events: list[str] = []


@contextlib.asynccontextmanager
async def lifespan(app: Velocix) -> AsyncIterator[dict[str, Any]]:
    pool = Pool()
    events.append("lifespan enter")
    yield {"pool": pool}
    pool.closed = True
    events.append("lifespan exit")


app = Velocix(
    lifespan=lifespan,
    on_startup=[lambda: events.append("on_startup")],
    on_shutdown=[lambda: events.append("on_shutdown")],
)


@app.get("/query")
async def query(request: Request) -> dict[str, str]:
    return {"row": await request.state.pool.query()}


@app.post("/login")
async def login() -> JSONResponse:
    response = JSONResponse({"ok": True})
    response.set_cookie("session", "abc", httponly=True, max_age=600)
    response.set_cookie("theme", "dark")
    return response


@app.get("/cookies")
async def cookies(request: Request) -> dict[str, str]:
    return dict(request.cookies)


@app.get("/boom")
async def boom() -> None:
    raise LookupError("handler failed")


async def broken_lines() -> AsyncIterator[bytes]:
    yield b"first\n"
    raise ValueError("stream broke")


@app.get("/stream")
async def stream() -> StreamingResponse:
    return StreamingResponse(broken_lines(), media_type="text/plain")


@app.websocket("/ws/{room}")
async def room(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            if text == "leave":
                await websocket.close(4000, "left")
                return
            await websocket.send_json({"room": websocket.path_params["room"], "text": text})
    except WebSocketDisconnect:
        pass


@app.websocket("/private")
async def private(websocket: WebSocket) -> None:
    await websocket.close(1008)


@pytest.fixture
def client() -> Iterator[TestClient]:
    events.clear()
    with TestClient(app) as client:
        yield client


def test_startup_handlers_and_lifespan_run_once() -> None:
    events.clear()
    with TestClient(app) as client:
        assert events == ["on_startup", "lifespan enter"]
        client.get("/query")
    assert events == ["on_startup", "lifespan enter", "lifespan exit", "on_shutdown"]


def test_lifespan_resources_are_usable_from_requests(client: TestClient) -> None:
    assert client.get("/query").json() == {"row": "row"}
    assert client.get("/query").json() == {"row": "row"}


def test_cookie_jar_keeps_cookies_not_attributes(client: TestClient) -> None:
    client.post("/login")
    assert dict(client.cookies) == {"session": "abc", "theme": "dark"}
    assert client.get("/cookies").json() == {"session": "abc", "theme": "dark"}


def test_handler_error_is_velocixs_500() -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json()["detail"] == "Internal Server Error"


def test_error_after_the_response_started_is_raised(client: TestClient) -> None:
    with pytest.raises(ValueError, match="stream broke"):
        client.get("/stream")
    with TestClient(app, raise_server_exceptions=False) as quiet:
        assert quiet.get("/stream").content == b"first\n"


def test_websocket_echo_and_close(client: TestClient) -> None:
    with client.websocket_connect("/ws/lobby") as ws:
        ws.send_text("hi")
        assert ws.receive_json() == {"room": "lobby", "text": "hi"}
        ws.send_text("leave")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert (info.value.code, info.value.reason) == (4000, "left")


def test_websocket_close_before_accept_is_403(client: TestClient) -> None:
    with pytest.raises(WebSocketDenied) as info:
        client.websocket_connect("/private")
    assert info.value.status_code == 403
