"""The app contract in FastAPI's idiom: pydantic models, typed path and query parameters.

Validation errors are FastAPI's own 422 responses. Integer parameters are :data:`Integer`:
pydantic's lax mode reads ``"1.0"``, ``" 12 "``, ``"1_000"`` and ``"+5"`` as integers, which
are not how an integer is written in a URL, so a ``BeforeValidator`` checks the notation
first (one regex match on the raw string; pydantic still does the conversion).

``app_mw`` adds Starlette's CORS and GZip middleware (what FastAPI re-exports) and a pure-ASGI
request-id middleware.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, BeforeValidator
from starlette.middleware import Middleware

from bench.frameworks._shared import contract
from bench.frameworks._shared.asgi_middleware import RequestIDMiddleware
from bench.frameworks._shared.world import World

_INTEGER = re.compile(r"-?[0-9]+")


def integer_notation(value: object) -> object:
    """Let through only strings written as integers (optional ``-``, ASCII digits)."""
    if isinstance(value, str) and _INTEGER.fullmatch(value) is None:
        raise ValueError("Input should be an integer written as digits")
    return value


Integer = Annotated[int, BeforeValidator(integer_notation)]
"""An ``int`` path or query parameter in integer notation (FastAPI's own 422 otherwise)."""


class Item(BaseModel):
    """The validated body of ``POST /items``."""

    name: str
    price: float
    tags: list[str] = []


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.world = World()
    await app.state.world.open()
    try:
        yield
    finally:
        await app.state.world.close()


def add_routes(app: FastAPI) -> None:
    """Register the contract's endpoints on ``app``."""

    @app.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return "Hello, World!"

    @app.get("/json")
    async def json_message() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/users/{user_id}")
    async def user(user_id: Integer) -> dict[str, int]:
        return {"user_id": user_id}

    @app.get("/search")
    async def search(
        q: str,
        page: Integer = contract.SEARCH_PAGE_DEFAULT,
        size: Integer = contract.SEARCH_SIZE_DEFAULT,
    ) -> dict[str, Any]:
        return {"q": q, "page": page, "size": size}

    @app.post("/items")
    async def create_item(item: Item) -> Item:
        return item

    @app.get("/records")
    async def records(
        n: Annotated[Integer, Query(ge=contract.RECORDS_MIN, le=contract.RECORDS_MAX)],
    ) -> list[dict[str, Any]]:
        return [{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(n)]

    @app.get("/stream")
    async def stream(
        chunks: Annotated[Integer, Query(ge=1, le=contract.STREAM_CHUNKS_MAX)] = (
            contract.STREAM_CHUNKS_DEFAULT
        ),
        size: Annotated[Integer, Query(ge=1, le=contract.STREAM_SIZE_MAX)] = (
            contract.STREAM_SIZE_DEFAULT
        ),
    ) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            chunk = b"x" * size
            for _ in range(chunks):
                yield chunk

        return StreamingResponse(body(), media_type="application/octet-stream")

    for i in range(contract.ROUTER_ROUTES):
        add_router_route(app, i)

    @app.get("/db/{world_id}")
    async def db(world_id: Integer, request: Request) -> dict[str, int]:
        number = await request.app.state.world.random_number(world_id)
        if number is None:
            raise HTTPException(404, "Not Found")
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


def add_router_route(app: FastAPI, route: int) -> None:
    """Register ``/r{route}/items/{id}``."""

    @app.get(f"/r{route}/items/{{item_id}}")
    async def router_item(item_id: Integer) -> dict[str, int]:
        return {"route": route, "id": item_id}


def build(middleware: list[Middleware] | None = None) -> FastAPI:
    """A FastAPI app with every contract endpoint (OpenAPI docs off: not part of the contract)."""
    app = FastAPI(
        lifespan=lifespan, middleware=middleware, docs_url=None, redoc_url=None, openapi_url=None
    )
    add_routes(app)
    return app


MIDDLEWARE = [
    Middleware(
        CORSMiddleware,
        allow_origins=list(contract.CORS_ORIGINS),
        allow_methods=list(contract.CORS_METHODS),
    ),
    Middleware(GZipMiddleware, minimum_size=contract.GZIP_MINIMUM_SIZE),
    Middleware(RequestIDMiddleware, header_name=contract.REQUEST_ID_HEADER),
]

app = build()
app_mw = build(MIDDLEWARE)
