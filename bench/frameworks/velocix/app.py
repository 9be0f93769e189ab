"""The app contract in Velocix's idiom: decorators, typed parameters, msgspec Structs.

Handlers return dicts and Structs (encoded by the framework), parameters are typed by
annotation (bad input is the framework's own 4xx), the lifespan opens the database.
``app_mw`` adds Velocix's CORS, GZip and request-id middleware with ``add_middleware``,
which wraps the app built so far (the last added is the outermost, as in Starlette), so they
are added innermost first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from bench.frameworks._shared import contract
from bench.frameworks._shared.world import World
from velocix import (
    HTTPException,
    PlainTextResponse,
    StreamingResponse,
    Velocix,
    WebSocket,
    WebSocketDisconnect,
)
from velocix.middleware.cors import CORSMiddleware
from velocix.middleware.gzip import GZipMiddleware
from velocix.middleware.request_id import RequestIDMiddleware


class Item(msgspec.Struct):
    """The validated body of ``POST /items``."""

    name: str
    price: float
    tags: list[str] = []


def bounded(name: str, value: int, low: int, high: int) -> int:
    """Reject a value outside [low, high] with a 422."""
    if not low <= value <= high:
        raise HTTPException(422, detail=f"{name} must be between {low} and {high}")
    return value


def add_routes(app: Velocix, world: World) -> None:
    """Register the contract's endpoints on ``app``."""

    # A returned Response object, as users write it: it costs no more than returning the str.
    @app.get("/plaintext")
    async def plaintext() -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    @app.get("/json")
    async def json_message() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    @app.get("/search")
    async def search(
        q: str, page: int = contract.SEARCH_PAGE_DEFAULT, size: int = contract.SEARCH_SIZE_DEFAULT
    ) -> dict[str, Any]:
        return {"q": q, "page": page, "size": size}

    @app.post("/items")
    async def create_item(item: Item) -> Item:
        return item

    @app.get("/records")
    async def records(n: int) -> list[dict[str, Any]]:
        bounded("n", n, contract.RECORDS_MIN, contract.RECORDS_MAX)
        return [{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(n)]

    @app.get("/stream")
    async def stream(
        chunks: int = contract.STREAM_CHUNKS_DEFAULT, size: int = contract.STREAM_SIZE_DEFAULT
    ) -> StreamingResponse:
        bounded("chunks", chunks, 1, contract.STREAM_CHUNKS_MAX)
        bounded("size", size, 1, contract.STREAM_SIZE_MAX)

        async def body() -> AsyncIterator[bytes]:
            chunk = b"x" * size
            for _ in range(chunks):
                yield chunk

        return StreamingResponse(body(), media_type="application/octet-stream")

    for i in range(contract.ROUTER_ROUTES):
        add_router_route(app, i)

    @app.get("/db/{world_id}")
    async def db(world_id: int) -> dict[str, int]:
        number = await world.random_number(world_id)
        if number is None:
            raise HTTPException(404, detail="Not Found")
        return {"id": world_id, "randomNumber": number}

    @app.websocket("/ws/echo")
    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") is not None:
                    await websocket.send_text(message["text"])
                else:
                    await websocket.send_bytes(message.get("bytes") or b"")
        except WebSocketDisconnect:
            return


def add_router_route(app: Velocix, route: int) -> None:
    """Register ``/r{route}/items/{id}``."""

    @app.get(f"/r{route}/items/{{item_id}}")
    async def router_item(item_id: int) -> dict[str, int]:
        return {"route": route, "id": item_id}


def build(*, middleware: bool = False) -> Velocix:
    """A Velocix app with every contract endpoint; with ``middleware`` the three-layer stack."""
    world = World()

    @asynccontextmanager
    async def lifespan(app: Velocix) -> AsyncIterator[None]:
        await world.open()
        try:
            yield
        finally:
            await world.close()

    app = Velocix(lifespan=lifespan)
    add_routes(app, world)
    if middleware:
        app.add_middleware(RequestIDMiddleware, header_name=contract.REQUEST_ID_HEADER)
        app.add_middleware(GZipMiddleware, minimum_size=contract.GZIP_MINIMUM_SIZE)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(contract.CORS_ORIGINS),
            allow_methods=list(contract.CORS_METHODS),
        )
    return app


app = build()
app_mw = build(middleware=True)
