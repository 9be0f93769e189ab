"""The app contract in BlackSheep's idiom: a router, binders, DI and response helpers.

- Pinned: ``blacksheep==2.6.4`` and ``pydantic==2.13.4`` (pyproject's ``test``, ``lab`` and
  ``micro`` groups); BlackSheep's docs recommend pydantic models for validated bodies (its own
  dataclass binding converts fields but does not validate them: ``"tags": "ab"`` would bind
  as ``["a", "b"]``).
- ``app_mw``: CORS is BlackSheep's own ``app.use_cors(...)`` (a middleware in its first, INIT
  category, so outermost), GZip its own ``blacksheep.server.compression.GzipMiddleware
  (min_size=500)``, the request id :func:`request_id_middleware`, a BlackSheep middleware
  function; BlackSheep chains them in that order. BlackSheep's GZip compresses bodies
  *larger* than ``min_size`` (Starlette's: at least), in its default thread-pool executor.
- WebSocket: yes (``router.ws``, text and binary echoed by frame type). Forms: yes
  (``request.form()``, the micro form app).
- Every contract endpoint is served. What BlackSheep 2.6.4 answers differently, all its own
  behaviour: its CORS middleware refuses a request from an origin it does not allow with 400
  (empty body, a ``CORS-Error`` header) instead of serving it without
  ``Access-Control-Allow-Origin``, so the middleware scenario's "other origin" case fails on
  every server; it sends header names as spelt (``Access-Control-Allow-Origin``, ``Vary``),
  not lowercased as ASGI asks; a blank query value (``?q=``) counts as missing (400); a GET
  route does not answer HEAD (404). An ``Application`` cannot be started again after a
  shutdown (its handlers get wrapped a second time), which a server never does.

Path integers use BlackSheep's ``{int:name}`` route pattern, ``\\d+`` on the raw path bytes, so
only ASCII digits match (a non-integer id such as ``1e3`` or ``%2012%20`` is BlackSheep's
404). Query integers are :class:`Integer`, converted by a BlackSheep ``TypeConverter``
registered in its ``converters`` list (its documented extension point): the built-in ``int``
converter is ``int()``, which also takes ``" 12 "``, ``"+5"``, ``"1_000"`` and non-ASCII
digits. A bad value is BlackSheep's own 400. ``q`` is read from ``request.query``: binding it
as ``FromQuery[str]`` would percent-decode it a second time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from blacksheep import Application, Content, Request, Response, Router, StreamedContent, text
from blacksheep.exceptions import BadRequest, NotFound
from blacksheep.server.bindings import FromJSON, FromQuery, FromServices
from blacksheep.server.bindings.converters import TypeConverter, converters
from blacksheep.server.compression import GzipMiddleware
from blacksheep.server.websocket import WebSocket, WebSocketDisconnectError
from pydantic import BaseModel

from bench.frameworks._shared import contract
from bench.frameworks._shared.world import World


class Integer(int):
    """An integer query parameter written as an integer: optional ``-``, ASCII digits."""


class IntegerConverter(TypeConverter):
    """Binds :class:`Integer` from a query value (ValueError: BlackSheep's 400)."""

    def can_convert(self, expected_type: Any) -> bool:
        return expected_type is Integer

    def convert(self, value: Any, expected_type: Any) -> Integer | None:
        if value is None:
            return None
        if isinstance(value, str) and value.isascii():
            digits = value[1:] if value[:1] == "-" else value
            if digits.isdigit():
                return Integer(value)  # ValueError past sys.get_int_max_str_digits()
        raise ValueError(f"expected an integer written as digits, got {str(value)[:40]!r}")


if not any(isinstance(converter, IntegerConverter) for converter in converters):
    converters.append(IntegerConverter())


class Item(BaseModel):
    """The validated body of ``POST /items``."""

    name: str
    price: float
    tags: list[str] = []


def bounded(name: str, value: int, low: int, high: int) -> int:
    """Reject a value outside [low, high] with BlackSheep's 400."""
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


def json_response(content: bytes) -> Response:
    return Response(200, None, Content(b"application/json", content))


def add_routes(router: Router) -> None:
    """Register the contract's endpoints on ``router`` (router routes r0 first)."""

    @router.get("/plaintext")
    async def plaintext() -> Response:
        return text("Hello, World!")

    @router.get("/json")
    async def json_message() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @router.get("/users/{int:user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    @router.get("/search")
    async def search(
        request: Request,
        page: FromQuery[Integer] = FromQuery(Integer(contract.SEARCH_PAGE_DEFAULT)),
        size: FromQuery[Integer] = FromQuery(Integer(contract.SEARCH_SIZE_DEFAULT)),
    ) -> dict[str, Any]:
        # Not FromQuery[str]: its converter unquotes the already decoded value again
        # ("100%2541" arrives as "100%41" and binds as "100A").
        q = request.query.get("q")
        if not q:
            raise BadRequest("q is required")
        return {"q": q[0], "page": int(page.value), "size": int(size.value)}

    @router.post("/items")
    async def create_item(item: FromJSON[Item]) -> dict[str, Any]:
        return item.value.model_dump()

    @router.get("/records")
    async def records(n: FromQuery[Integer]) -> list[dict[str, Any]]:
        count = bounded("n", n.value, contract.RECORDS_MIN, contract.RECORDS_MAX)
        return [{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(count)]

    @router.get("/stream")
    async def stream(
        chunks: FromQuery[Integer] = FromQuery(Integer(contract.STREAM_CHUNKS_DEFAULT)),
        size: FromQuery[Integer] = FromQuery(Integer(contract.STREAM_SIZE_DEFAULT)),
    ) -> Response:
        count = bounded("chunks", chunks.value, 1, contract.STREAM_CHUNKS_MAX)
        chunk = b"x" * bounded("size", size.value, 1, contract.STREAM_SIZE_MAX)

        async def body() -> AsyncIterator[bytes]:
            for _ in range(count):
                yield chunk

        return Response(200, None, StreamedContent(b"application/octet-stream", body))

    for i in range(contract.ROUTER_ROUTES):
        router.add_get(f"/r{i}/items/{{int:item_id}}", router_handler(i))

    @router.get("/db/{int:world_id}")
    async def db(world_id: int, world: FromServices[World]) -> dict[str, int]:
        number = await world.value.random_number(world_id)
        if number is None:
            raise NotFound()
        return {"id": world_id, "randomNumber": number}

    @router.ws("/ws/echo")
    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive()
                if message.get("text") is not None:
                    await websocket.send_text(message["text"])
                else:
                    await websocket.send_bytes(message.get("bytes") or b"")
        except WebSocketDisconnectError:
            return


def router_handler(route: int) -> Callable[[int], Awaitable[dict[str, int]]]:
    """The handler of ``/r{route}/items/{id}``."""

    async def router_item(item_id: int) -> dict[str, int]:
        return {"route": route, "id": item_id}

    return router_item


async def request_id_middleware(
    request: Request, handler: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Adds a fresh uuid4 hex ``x-request-id`` to every response."""
    response = await handler(request)
    response.add_header(contract.REQUEST_ID_HEADER.encode(), uuid.uuid4().hex.encode())
    return response


def build(*, middleware: bool = False, router: Router | None = None) -> Application:
    """A BlackSheep app with every contract endpoint (on ``router`` when given, so callers can
    add their own first); with ``middleware`` the three-layer stack."""
    router = router or Router()
    add_routes(router)
    app = Application(router=router)
    world = World()
    app.services.add_instance(world)

    async def open_world(application: Application) -> None:
        await world.open()

    async def close_world(application: Application) -> None:
        await world.close()

    app.on_start += open_world
    app.on_stop += close_world
    if middleware:
        app.use_cors(
            allow_origins=list(contract.CORS_ORIGINS), allow_methods=list(contract.CORS_METHODS)
        )
        app.middlewares.append(GzipMiddleware(min_size=contract.GZIP_MINIMUM_SIZE))
        app.middlewares.append(request_id_middleware)
    return app


app = build()
app_mw = build(middleware=True)
