"""AsyncTestClient: httpx.AsyncClient over the application on the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from velocix import (
    AsyncTestClient,
    HTTPException,
    Request,
    StreamingResponse,
    Velocix,
    WebSocket,
    WebSocketDisconnect,
)
from velocix.testing import ASGIProtocolError, WebSocketDenied

pytestmark = pytest.mark.anyio

events: list[str] = []


@asynccontextmanager
async def lifespan(app: Velocix) -> AsyncIterator[dict[str, Any]]:
    events.append("startup")
    yield {"loop": asyncio.get_running_loop()}
    events.append("shutdown")


app = Velocix(lifespan=lifespan)


@app.get("/items/{item_id}")
async def item(item_id: int, q: str = "") -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


@app.post("/echo")
async def echo(request: Request) -> dict[str, Any]:
    return {"body": (await request.body()).decode(), "cookie": request.cookies.get("c")}


@app.get("/same-loop")
async def same_loop(request: Request) -> dict[str, bool]:
    return {"same": request.state.loop is asyncio.get_running_loop()}


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("kaboom")


@app.get("/teapot")
async def teapot() -> None:
    raise HTTPException(418, "short and stout")


@app.get("/endless")
async def endless() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 10
            await asyncio.sleep(0)

    return StreamingResponse(chunks(), media_type="text/plain")


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol="chat")
    while True:
        try:
            text = await websocket.receive_text()
        except WebSocketDisconnect:
            return
        if text == "bye":
            await websocket.close(4000, "bye")
            return
        await websocket.send_json({"echo": text})


@app.websocket("/ws-refused")
async def ws_refused(websocket: WebSocket) -> None:
    await websocket.close()


async def test_requests_and_lifespan_on_the_tests_loop() -> None:
    events.clear()
    async with AsyncTestClient(app) as client:
        assert events == ["startup"]
        response = await client.get("/items/3", params={"q": "x"})
        assert response.status_code == 200
        assert response.json() == {"item_id": 3, "q": "x"}
        assert (await client.get("/same-loop")).json() == {"same": True}
        client.cookies.set("c", "v")
        posted = await client.post("/echo", content=b"payload")
        assert posted.json() == {"body": "payload", "cookie": "v"}
        assert (await client.get("/items/abc")).status_code == 422
        assert (await client.get("/teapot")).json() == {"detail": "short and stout", "status": 418}
    assert events == ["startup", "shutdown"]


async def test_server_errors_raise_or_become_500() -> None:
    async with AsyncTestClient(app) as client:  # Velocix answers its own errors
        response = await client.get("/boom")
        assert response.status_code == 500
        assert response.json() == {"detail": "Internal Server Error", "status": 500}

    async def raising(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("raw kaboom")

    async with AsyncTestClient(raising) as client:
        with pytest.raises(RuntimeError, match="raw kaboom"):
            await client.get("/")
    async with AsyncTestClient(raising, raise_server_exceptions=False) as client:
        response = await client.get("/")
        assert response.status_code == 500 and response.text == "Internal Server Error"


async def test_streaming_response_can_be_read_in_part_and_abandoned() -> None:
    async with AsyncTestClient(app) as client, client.stream("GET", "/endless") as response:
        assert response.status_code == 200
        received = b""
        async for chunk in response.aiter_bytes():
            received += chunk
            if len(received) >= 50:
                break
    assert received.startswith(b"x" * 50)


async def test_websocket_session() -> None:
    async with AsyncTestClient(app) as client:
        async with client.websocket_connect("/ws", subprotocols=["chat"]) as websocket:
            assert websocket.accepted_subprotocol == "chat"
            await websocket.send_text("hi")
            assert await websocket.receive_json() == {"echo": "hi"}
            await websocket.send_text("bye")
            with pytest.raises(WebSocketDisconnect) as closed:
                await websocket.receive_text()
            assert closed.value.code == 4000
        with pytest.raises(WebSocketDenied) as denied:
            async with client.websocket_connect("/ws-refused"):
                pass
        assert denied.value.response.status_code == 403


async def test_works_for_any_asgi_app_and_checks_what_it_sends() -> None:
    async def raw(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return  # no lifespan support: served without it
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async with AsyncTestClient(raw) as client:
        assert (await client.get("/")).text == "ok"

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})

    async with AsyncTestClient(broken) as client:
        with pytest.raises(ASGIProtocolError, match="Content-Length"):
            await client.get("/")


async def test_it_is_an_httpx_async_client() -> None:
    client = AsyncTestClient(app)
    assert isinstance(client, httpx.AsyncClient)
    await client.aclose()
    with pytest.raises(TypeError, match="ASGI application"):
        AsyncTestClient("not an app")  # type: ignore[arg-type]
