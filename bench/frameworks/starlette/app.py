"""The app contract in Starlette's idiom: a route table, endpoints parsing requests by hand.

Path integers use Starlette's ``{name:int}`` convertor (ASCII digits only, so a non-integer id
such as ``1e3`` does not match: 404); query parameters and the JSON body are parsed and
validated manually, errors answered with a 4xx ``{"detail": ...}``. Query integers follow the
same notation (plus a leading ``-``) rather than all that ``int()`` takes.

``app_mw`` adds Starlette's own CORS and GZip middleware and a pure-ASGI request-id middleware.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.frameworks._shared import contract
from bench.frameworks._shared.asgi_middleware import RequestIDMiddleware
from bench.frameworks._shared.world import World


def query_int(request: Request, name: str, default: int | None = None) -> int:
    """An integer query parameter; 422 when it is missing (no default) or not an integer.

    Only an optional ``-`` and ASCII digits: ``int()`` alone would also take ``" 12 "``,
    ``"1_000"``, ``"+5"`` or non-ASCII digits, none of which writes an integer in a URL.
    """
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise HTTPException(422, f"{name} is required")
        return default
    if raw.isascii() and (raw.isdigit() or (raw[:1] == "-" and raw[1:].isdigit())):
        try:
            return int(raw)
        except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
            raise HTTPException(422, f"{name} has too many digits") from None
    raise HTTPException(422, f"{name} must be an integer, got {raw[:40]!r}")


def bounded(name: str, value: int, low: int, high: int) -> int:
    """Reject a value outside [low, high] with a 422."""
    if not low <= value <= high:
        raise HTTPException(422, f"{name} must be between {low} and {high}")
    return value


def validate_item(data: Any) -> dict[str, Any]:
    """Check the POST /items body by hand and return the normalised item."""
    if not isinstance(data, dict):
        raise HTTPException(422, "body must be a JSON object")
    name, price, tags = data.get("name"), data.get("price"), data.get("tags", [])
    if not isinstance(name, str):
        raise HTTPException(422, "name must be a string")
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise HTTPException(422, "price must be a number")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise HTTPException(422, "tags must be a list of strings")
    return {"name": name, "price": float(price), "tags": tags}


async def plaintext(request: Request) -> Response:
    return PlainTextResponse("Hello, World!")


async def json_message(request: Request) -> Response:
    return JSONResponse({"message": "Hello, World!"})


async def user(request: Request) -> Response:
    return JSONResponse({"user_id": request.path_params["user_id"]})


async def search(request: Request) -> Response:
    q = request.query_params.get("q")
    if q is None:
        raise HTTPException(422, "q is required")
    page = query_int(request, "page", contract.SEARCH_PAGE_DEFAULT)
    size = query_int(request, "size", contract.SEARCH_SIZE_DEFAULT)
    return JSONResponse({"q": q, "page": page, "size": size})


async def create_item(request: Request) -> Response:
    body = await request.body()
    if len(body) > contract.MAX_BODY_BYTES:
        raise HTTPException(413, "Request body too large")
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(400, "Malformed JSON") from None
    return JSONResponse(validate_item(data))


async def records(request: Request) -> Response:
    n = bounded("n", query_int(request, "n"), contract.RECORDS_MIN, contract.RECORDS_MAX)
    return JSONResponse([{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(n)])


async def stream(request: Request) -> Response:
    chunks = bounded(
        "chunks",
        query_int(request, "chunks", contract.STREAM_CHUNKS_DEFAULT),
        1,
        contract.STREAM_CHUNKS_MAX,
    )
    size = bounded(
        "size",
        query_int(request, "size", contract.STREAM_SIZE_DEFAULT),
        1,
        contract.STREAM_SIZE_MAX,
    )

    async def body() -> AsyncIterator[bytes]:
        chunk = b"x" * size
        for _ in range(chunks):
            yield chunk

    return StreamingResponse(body(), media_type="application/octet-stream")


def router_endpoint(route: int) -> Callable[[Request], Awaitable[Response]]:
    """The handler of ``/r{route}/items/{id}``."""

    async def endpoint(request: Request) -> Response:
        return JSONResponse({"route": route, "id": request.path_params["id"]})

    return endpoint


async def db(request: Request) -> Response:
    world_id: int = request.path_params["id"]
    number = await request.app.state.world.random_number(world_id)
    if number is None:
        raise HTTPException(404, "Not Found")
    return JSONResponse({"id": world_id, "randomNumber": number})


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


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.world = World()
    await app.state.world.open()
    try:
        yield
    finally:
        await app.state.world.close()


def routes() -> list[BaseRoute]:
    """The contract's route table (100 router routes registered in order, r0 first)."""
    table: list[BaseRoute] = [
        Route("/plaintext", plaintext),
        Route("/json", json_message),
        Route("/users/{user_id:int}", user),
        Route("/search", search),
        Route("/items", create_item, methods=["POST"]),
        Route("/records", records),
        Route("/stream", stream),
        Route("/db/{id:int}", db),
        WebSocketRoute("/ws/echo", ws_echo),
    ]
    table += [
        Route(f"/r{i}/items/{{id:int}}", router_endpoint(i)) for i in range(contract.ROUTER_ROUTES)
    ]
    return table


MIDDLEWARE = [
    Middleware(
        CORSMiddleware,
        allow_origins=list(contract.CORS_ORIGINS),
        allow_methods=list(contract.CORS_METHODS),
    ),
    Middleware(GZipMiddleware, minimum_size=contract.GZIP_MINIMUM_SIZE),
    Middleware(RequestIDMiddleware, header_name=contract.REQUEST_ID_HEADER),
]

app = Starlette(routes=routes(), lifespan=lifespan)
app_mw = Starlette(routes=routes(), lifespan=lifespan, middleware=MIDDLEWARE)
