"""The app contract in Litestar's idiom: msgspec Structs, typed handlers, layered config.

- Pinned: ``litestar==2.25.0`` (pyproject's ``test``, ``lab`` and ``micro`` groups); Litestar
  brings its own msgspec, which encodes and validates everything here.
- ``app_mw``: CORS is Litestar's own ``CORSConfig``, GZip its own ``CompressionConfig(backend=
  "gzip", minimum_size=500)``, the request id :class:`RequestIDMiddleware`, a Litestar
  ``ASGIMiddleware``. Litestar fixes where its built-ins sit: CORS wraps the whole app
  (outermost, as the contract says), compression is the innermost layer of every route's stack,
  so user middleware (the request id) ends up between them; the answers are the same.
- WebSocket: yes (``@websocket``, text and binary echoed by frame type). Forms: yes
  (``Body(media_type=RequestEncodingType.URL_ENCODED)``, the micro form app).
- Every contract endpoint is served; nothing is left out. Litestar's own ways, not the
  contract's business: a ``@get`` handler does not answer HEAD (405, an explicit ``@head`` is
  needed), its CORS preflight answers 204, and the body is validated in msgspec's lax mode
  (``"price": "2"`` is read as 2.0, as pydantic does for FastAPI).

Integers in the path and the query are :class:`Integer`, decoded by a Litestar type decoder
(``type_decoders``): Litestar's ``{id:int}`` path type is ``int()``, which also takes ``" 12 "``,
``"+5"``, ``"1_000"`` and non-ASCII digits, and msgspec's lax conversion of query values takes
``"1e3"`` and ``"12.0"``; none of those writes an integer in a URL. A bad value is Litestar's
own 400 ``ValidationException``. Handlers answer Structs (``POST /items`` echoes the validated
:class:`Item`); ``POST`` answers 200, not Litestar's default 201, as the contract says.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, MediaType, get, post, websocket
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.connection import WebSocket
from litestar.datastructures import MutableScopeHeaders, State
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException, ValidationException, WebSocketDisconnect
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from bench.frameworks._shared import contract
from bench.frameworks._shared.world import World


class Integer(int):
    """An integer path or query parameter written as an integer: optional ``-``, ASCII digits."""


def is_integer_type(target: Any) -> bool:
    """The predicate of :func:`decode_integer` in ``type_decoders``."""
    return target is Integer


def decode_integer(target: type[Integer], value: Any) -> Integer:
    """Decode a raw path or query string into an :class:`Integer` (ValueError: Litestar's 400)."""
    if isinstance(value, str) and value.isascii():
        digits = value[1:] if value[:1] == "-" else value
        if digits.isdigit():
            return target(value)  # ValueError past sys.get_int_max_str_digits(): also a 400
    raise ValueError(f"expected an integer written as digits, got {str(value)[:40]!r}")


def bounded(name: str, value: int, low: int, high: int) -> int:
    """Reject a value outside [low, high] with Litestar's validation error."""
    if not low <= value <= high:
        raise ValidationException(f"{name} must be between {low} and {high}")
    return value


class Item(msgspec.Struct):
    """The validated body of ``POST /items``."""

    name: str
    price: float
    tags: list[str] = []


class Greeting(msgspec.Struct):
    message: str


class User(msgspec.Struct):
    user_id: int


class Search(msgspec.Struct):
    q: str
    page: int
    size: int


class Record(msgspec.Struct):
    id: int
    name: str
    price: float


class RouteItem(msgspec.Struct):
    route: int
    id: int


class WorldRow(msgspec.Struct, rename={"random_number": "randomNumber"}):
    id: int
    random_number: int


HELLO = Greeting("Hello, World!")


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/json")
async def json_message() -> Greeting:
    return HELLO


@get("/users/{user_id:str}")
async def user(user_id: FromPath[Integer]) -> User:
    return User(int(user_id))


@get("/search")
async def search(
    q: FromQuery[str],
    page: FromQuery[Integer] = Integer(contract.SEARCH_PAGE_DEFAULT),
    size: FromQuery[Integer] = Integer(contract.SEARCH_SIZE_DEFAULT),
) -> Search:
    return Search(q, int(page), int(size))


@post("/items", status_code=200)
async def create_item(data: JSONBody[Item]) -> Item:
    return data


@get("/records")
async def records(n: FromQuery[Integer]) -> list[Record]:
    bounded("n", n, contract.RECORDS_MIN, contract.RECORDS_MAX)
    return [Record(i, f"item-{i}", i * 1.5) for i in range(n)]


@get("/stream")
async def stream(
    chunks: FromQuery[Integer] = Integer(contract.STREAM_CHUNKS_DEFAULT),
    size: FromQuery[Integer] = Integer(contract.STREAM_SIZE_DEFAULT),
) -> Stream:
    count = bounded("chunks", chunks, 1, contract.STREAM_CHUNKS_MAX)
    chunk = b"x" * bounded("size", size, 1, contract.STREAM_SIZE_MAX)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk

    return Stream(body(), media_type="application/octet-stream")


@get("/db/{world_id:str}")
async def db(world_id: FromPath[Integer], state: State) -> WorldRow:
    number = await state.world.random_number(world_id)
    if number is None:
        raise NotFoundException()
    return WorldRow(int(world_id), number)


@websocket("/ws/echo")
async def ws_echo(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await socket.send_text(message["text"])
            else:
                await socket.send_bytes(message.get("bytes") or b"")
    except WebSocketDisconnect:
        return


def router_handler(route: int) -> HTTPRouteHandler:
    """The handler of ``/r{route}/items/{id}``."""

    async def router_item(item_id: FromPath[Integer]) -> RouteItem:
        return RouteItem(route, int(item_id))

    return get(f"/r{route}/items/{{item_id:str}}", name=f"router-{route}")(router_item)


class RequestIDMiddleware(ASGIMiddleware):
    """Adds a fresh uuid4 hex ``x-request-id`` to every HTTP response."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, header_name: str = contract.REQUEST_ID_HEADER) -> None:
        self.header_name = header_name

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request_id = uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[self.header_name] = request_id
            await send(message)

        await next_app(scope, receive, send_with_id)


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    world = World()
    await world.open()
    app.state.world = world
    try:
        yield
    finally:
        await world.close()


def route_handlers() -> list[Any]:
    """The contract's handlers (100 router routes registered in order, r0 first)."""
    handlers: list[Any] = [plaintext, json_message, user, search, create_item, records, stream]
    handlers += [router_handler(i) for i in range(contract.ROUTER_ROUTES)]
    return [*handlers, db, ws_echo]


def build(*, middleware: bool = False, extra: list[Any] | None = None, **options: Any) -> Litestar:
    """A Litestar app with every contract endpoint (plus ``extra`` handlers); with
    ``middleware`` the three-layer stack. OpenAPI is off: not part of the contract."""
    if middleware:
        options.update(
            cors_config=CORSConfig(
                allow_origins=list(contract.CORS_ORIGINS),
                allow_methods=list(contract.CORS_METHODS),  # type: ignore[arg-type]
            ),
            compression_config=CompressionConfig(
                backend="gzip", minimum_size=contract.GZIP_MINIMUM_SIZE
            ),
            middleware=[RequestIDMiddleware()],
        )
    options.setdefault("lifespan", [lifespan])
    return Litestar(
        route_handlers=[*route_handlers(), *(extra or [])],
        type_decoders=[(is_integer_type, decode_integer)],
        request_max_body_size=contract.MAX_BODY_BYTES,
        openapi_config=None,
        **options,
    )


app = build()
app_mw = build(middleware=True)
