"""The app contract in Falcon's idiom: ``falcon.asgi.App``, resource classes, middleware.

- Pinned: ``falcon==4.4.0`` (pyproject's ``test``, ``lab`` and ``micro`` groups); JSON goes
  through msgspec (Falcon's msgspec recipe: a ``JSONHandler`` with msgspec's ``encode`` and
  ``decode``) and the ``POST /items`` body is validated into a msgspec Struct.
- ``app_mw``: CORS is Falcon's own ``falcon.CORSMiddleware(allow_origins=...)`` (its preflight
  allows the methods the resource answers, so ``POST`` on ``/items``, ``GET`` elsewhere), the
  request id :class:`RequestIDMiddleware`, a Falcon middleware component (as in Falcon's
  request-id recipe). GZip: Falcon has no compression, and the add-on its catalogue lists,
  falcon-compression 0.2.1, is WSGI-only (a synchronous ``process_response``, which
  ``falcon.asgi.App`` refuses, and a fixed 200-byte threshold). So the Falcon app is wrapped,
  as Falcon's FAQ shows for server-level middleware, in Starlette's pure-ASGI
  ``GZipMiddleware(minimum_size=500)`` (``starlette==1.10.0``, already pinned): GZip is
  therefore the outermost layer and CORS inside it; the answers are the same.
- WebSocket: yes (``on_websocket``; text and binary frames echoed by type through identity
  WebSocket media handlers, Falcon's extension point for payload types). Forms: yes
  (``await req.get_media()`` of an urlencoded body, the micro form app).
- Every contract endpoint is served; nothing is left out. The lifespan is a middleware
  component's ``process_startup``/``process_shutdown``. Falcon's own ways: a resource with
  ``on_get`` does not answer HEAD (405), a streamed ``resp.stream`` runs to its end after the
  client has left, and routing ignores ``root_path`` (served under ``uvicorn --root-path``,
  every path is a 404).

Path integers use :class:`IntegerConverter`, registered as the ``integer`` field converter
(Falcon's ``router_options.converters``): Falcon's own ``int`` converter is ``int()`` minus
surrounding spaces, so it takes ``"+5"``, ``"1_000"`` and non-ASCII digits; a segment that is
not an integer does not match the route (Falcon's 404). Query integers are read with
:func:`query_integer`, which answers a bad one with Falcon's ``HTTPInvalidParam`` (400).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import falcon
import falcon.asgi
import falcon.media
import msgspec
from falcon.routing import BaseConverter
from starlette.middleware.gzip import GZipMiddleware

from bench.frameworks._shared import contract
from bench.frameworks._shared.world import World


def is_integer(value: str) -> bool:
    """Integer notation in a URL: an optional ``-`` and ASCII digits."""
    digits = value[1:] if value[:1] == "-" else value
    return value.isascii() and digits.isdigit()


class IntegerConverter(BaseConverter):
    """The ``{name:integer}`` field converter: integer notation only (else no match: 404)."""

    def convert(self, value: str) -> int | None:
        if not is_integer(value):
            return None
        try:
            return int(value)
        except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
            return None


def query_integer(req: falcon.asgi.Request, name: str, default: int | None = None) -> int:
    """An integer query parameter (Falcon's 400 when missing without default, or malformed)."""
    raw = req.get_param(name)
    if raw is None:
        if default is None:
            raise falcon.HTTPMissingParam(name)
        return default
    if is_integer(raw):
        try:
            return int(raw)
        except ValueError:
            pass
    raise falcon.HTTPInvalidParam("expected an integer written as digits", name)


def bounded(name: str, value: int, low: int, high: int) -> int:
    """Reject a value outside [low, high] with Falcon's 400."""
    if not low <= value <= high:
        raise falcon.HTTPInvalidParam(f"must be between {low} and {high}", name)
    return value


class Item(msgspec.Struct):
    """The validated body of ``POST /items``."""

    name: str
    price: float
    tags: list[str] = []


class Plaintext:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class Json:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"message": "Hello, World!"}


class User:
    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, user_id: int
    ) -> None:
        resp.media = {"user_id": user_id}


class Search:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        q = req.get_param("q", required=True)
        page = query_integer(req, "page", contract.SEARCH_PAGE_DEFAULT)
        size = query_integer(req, "size", contract.SEARCH_SIZE_DEFAULT)
        resp.media = {"q": q, "page": page, "size": size}


class Items:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if (req.content_length or 0) > contract.MAX_BODY_BYTES:
            raise falcon.HTTPContentTooLarge()
        try:
            item = msgspec.convert(await req.get_media(), Item)
        except msgspec.ValidationError as exc:
            raise falcon.HTTPUnprocessableEntity(description=str(exc)) from None
        resp.media = item


class Records:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        n = bounded("n", query_integer(req, "n"), contract.RECORDS_MIN, contract.RECORDS_MAX)
        resp.media = [{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(n)]


class Stream:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        chunks = query_integer(req, "chunks", contract.STREAM_CHUNKS_DEFAULT)
        count = bounded("chunks", chunks, 1, contract.STREAM_CHUNKS_MAX)
        size = query_integer(req, "size", contract.STREAM_SIZE_DEFAULT)
        chunk = b"x" * bounded("size", size, 1, contract.STREAM_SIZE_MAX)

        async def body() -> AsyncIterator[bytes]:
            for _ in range(count):
                yield chunk

        resp.content_type = "application/octet-stream"
        resp.stream = body()


class RouterItem:
    """The resource of ``/r{route}/items/{id}``."""

    def __init__(self, route: int) -> None:
        self.route = route

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, item_id: int
    ) -> None:
        resp.media = {"route": self.route, "id": item_id}


class Db:
    def __init__(self, world: World) -> None:
        self.world = world

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, world_id: int
    ) -> None:
        number = await self.world.random_number(world_id)
        if number is None:
            raise falcon.HTTPNotFound()
        resp.media = {"id": world_id, "randomNumber": number}


class Echo:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                message = await ws.receive_media()  # str or bytes: the identity handlers
                kind = (
                    falcon.WebSocketPayloadType.TEXT
                    if isinstance(message, str)
                    else falcon.WebSocketPayloadType.BINARY
                )
                await ws.send_media(message, kind)
        except falcon.WebSocketDisconnected:
            return


class TextAsIs(falcon.media.TextBaseHandlerWS):
    """A text frame is its ``str`` payload, both ways."""

    def serialize(self, media: object) -> str:
        if not isinstance(media, str):
            raise TypeError(f"a text frame carries str, not {type(media).__name__}")
        return media

    def deserialize(self, payload: str) -> object:
        return payload


class BinaryAsIs(falcon.media.BinaryBaseHandlerWS):
    """A binary frame is its ``bytes`` payload, both ways."""

    def serialize(self, media: object) -> bytes:
        if not isinstance(media, bytes):
            raise TypeError(f"a binary frame carries bytes, not {type(media).__name__}")
        return media

    def deserialize(self, payload: bytes) -> object:
        return payload


class WorldLifecycle:
    """Opens the database at lifespan startup and closes it at shutdown."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        await self.world.open()

    async def process_shutdown(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        await self.world.close()


class RequestIDMiddleware:
    """Adds a fresh uuid4 hex ``x-request-id`` to every response."""

    async def process_response(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        resp.set_header(contract.REQUEST_ID_HEADER, uuid.uuid4().hex)


JSON_HANDLER = falcon.media.JSONHandler(dumps=msgspec.json.encode, loads=msgspec.json.decode)


def build(*, middleware: bool = False, components: list[Any] | None = None) -> falcon.asgi.App:
    """A ``falcon.asgi.App`` with every contract endpoint; with ``middleware`` the CORS and
    request-id components (GZip wraps the app: see :data:`app_mw`). ``components`` are
    added after the contract's own."""
    world = World()
    stack: list[Any] = [WorldLifecycle(world)]
    if middleware:
        stack += [
            falcon.CORSMiddleware(allow_origins=list(contract.CORS_ORIGINS)),
            RequestIDMiddleware(),
        ]
    app = falcon.asgi.App(middleware=[*stack, *(components or [])])
    app.req_options.media_handlers[falcon.MEDIA_JSON] = JSON_HANDLER
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = JSON_HANDLER
    app.ws_options.media_handlers[falcon.WebSocketPayloadType.TEXT] = TextAsIs()
    app.ws_options.media_handlers[falcon.WebSocketPayloadType.BINARY] = BinaryAsIs()
    app.router_options.converters["integer"] = IntegerConverter
    app.add_route("/plaintext", Plaintext())
    app.add_route("/json", Json())
    app.add_route("/users/{user_id:integer}", User())
    app.add_route("/search", Search())
    app.add_route("/items", Items())
    app.add_route("/records", Records())
    app.add_route("/stream", Stream())
    for i in range(contract.ROUTER_ROUTES):
        app.add_route(f"/r{i}/items/{{item_id:integer}}", RouterItem(i))
    app.add_route("/db/{world_id:integer}", Db(world))
    app.add_route("/ws/echo", Echo())
    return app


app = build()
app_mw = GZipMiddleware(build(middleware=True), minimum_size=contract.GZIP_MINIMUM_SIZE)
