"""The raw ASGI baseline: the app contract as one hand-written ASGI callable.

Written the way a competent engineer would write a fast endpoint without a framework, while
doing the same work as the frameworks: the path is routed, the query string parsed and its
integers converted, the POST body validated into a msgspec Struct, bad input answered with a
4xx JSON body, the database read through the shared :class:`~bench.frameworks._shared.world.World`.
``app_mw`` wraps a second instance in hand-written pure-ASGI middleware
(:mod:`bench.frameworks._shared.asgi_middleware`) — no framework code anywhere.

Integers in the URL must be written as integers (an optional ``-`` and ASCII digits): Python's
``int()`` alone would also take ``" 12 "``, ``"1_000"``, ``"+5"`` or ``"١٢"``. GET routes
answer HEAD with the GET response's headers and no body (RFC 9110 §9.3.2); HEAD is sorted out
where routing already failed to match GET, so the GET path does no extra work for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import msgspec
import orjson

from bench.frameworks._shared import contract
from bench.frameworks._shared.asgi_middleware import (
    CORSMiddleware,
    GZipMiddleware,
    RequestIDMiddleware,
)
from bench.frameworks._shared.world import World

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Item(msgspec.Struct):
    """The validated body of ``POST /items``."""

    name: str
    price: float
    tags: list[str] = []


class BadRequest(Exception):
    """Client error raised while parsing; becomes a 4xx JSON response."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


JSON_HEADERS = [(b"content-type", b"application/json")]
TEXT_HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
PLAINTEXT_BODY = b"Hello, World!"
JSON_MESSAGE = {"message": "Hello, World!"}
ITEM_DECODER = msgspec.json.Decoder(Item)
ITEM_ENCODER = msgspec.json.Encoder()


async def send_body(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Send a complete response with its Content-Length."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def dumps(content: Any) -> bytes:
    """``content`` as JSON: orjson, or msgspec for integers beyond 64 bits (orjson stops there).

    A URL may carry any integer; the frameworks' encoders echo it, so the baseline does too
    rather than failing with a 500. The ``try`` costs nothing when orjson succeeds.
    """
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        return ITEM_ENCODER.encode(content)


async def send_json(send: Send, content: Any, status: int = 200) -> None:
    """Encode ``content`` and send it."""
    await send_body(send, status, JSON_HEADERS, dumps(content))


def without_body(send: Send) -> Send:
    """The ``send`` of a HEAD request: the GET response's start as it is, then no body bytes.

    Content-Length stays the GET body's (RFC 9110 §9.3.2). Body chunks are dropped and only
    the last message is passed on, empty, to end the response, so a streamed GET answers HEAD
    with its headers alone.
    """

    async def send_head(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
        elif not message.get("more_body", False):
            await send({"type": "http.response.body", "body": b""})

    return send_head


async def read_body(receive: Receive) -> bytes:
    """Read the whole request body, refusing more than the contract's limit."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest(400, "Client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > contract.MAX_BODY_BYTES:
            raise BadRequest(413, "Request body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def query_of(scope: Scope) -> dict[str, str]:
    """The query string as a dict (last value wins, like the frameworks' scalar parameters)."""
    raw = scope["query_string"]
    return (
        dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8"))
        if raw
        else {}
    )


def to_int(value: str, name: str) -> int:
    """Convert a path or query value written as an integer, else a 422 naming the parameter.

    Only an optional ``-`` and ASCII digits: ``int()`` would also accept surrounding spaces,
    ``_`` separators, a ``+`` and non-ASCII digits, none of which writes an integer in a URL.
    """
    if value.isascii() and (value.isdigit() or (value[:1] == "-" and value[1:].isdigit())):
        try:
            return int(value)
        except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
            raise BadRequest(422, f"{name} has too many digits") from None
    raise BadRequest(422, f"{name} must be an integer, got {value[:40]!r}")


def bounded_int(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """An optional integer query parameter within [low, high]."""
    raw = query.get(name)
    value = default if raw is None else to_int(raw, name)
    if not low <= value <= high:
        raise BadRequest(422, f"{name} must be between {low} and {high}")
    return value


Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


def allowed(method: str) -> bytes:
    """The ``Allow`` header of a route answering ``method`` (a GET route answers HEAD too)."""
    return b"GET, HEAD" if method == "GET" else method.encode()


class RawApp:
    """The contract's endpoints, routed by hand: exact paths in a dict, prefixes parsed."""

    def __init__(self) -> None:
        self.world = World()
        routes: dict[str, tuple[str, Handler]] = {
            "/plaintext": ("GET", self.plaintext),
            "/json": ("GET", self.json),
            "/search": ("GET", self.search),
            "/items": ("POST", self.create_item),
            "/records": ("GET", self.records),
            "/stream": ("GET", self.stream),
        }
        # path -> (method, handler, Allow header), the header built once here.
        self.exact: dict[str, tuple[str, Handler, bytes]] = {
            path: (method, handler, allowed(method)) for path, (method, handler) in routes.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            try:
                await self.http(scope, receive, send)
            except BadRequest as exc:
                await send_json(send, {"detail": exc.detail}, exc.status)
        elif kind == "websocket":
            await self.websocket(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        else:  # the ASGI spec: an app raises on a scope type it does not understand
            raise ValueError(f"unsupported ASGI scope type {kind!r}")

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        endpoint = self.exact.get(path)
        if endpoint is not None:
            method, handler, allow = endpoint
            if scope["method"] == method:
                await handler(scope, receive, send)
            elif scope["method"] == "HEAD":
                await self.head(scope, receive, send)
            else:
                await send_body(
                    send,
                    405,
                    [*JSON_HEADERS, (b"allow", allow)],
                    b'{"detail":"Method Not Allowed"}',
                )
            return
        if scope["method"] == "GET":
            if path.startswith("/users/"):
                await self.user(send, path[7:])
                return
            if path.startswith("/db/"):
                await self.db(send, path[4:])
                return
            if path.startswith("/r"):
                parts = path.split("/")
                # "/r{i}/items/{id}" splits into ["", "r{i}", "items", "{id}"].
                if len(parts) == 4 and parts[2] == "items" and parts[1][1:].isdigit():
                    route = int(parts[1][1:])
                    if route < contract.ROUTER_ROUTES and parts[3]:
                        await send_json(send, {"route": route, "id": to_int(parts[3], "id")})
                        return
        elif scope["method"] == "HEAD":
            await self.head(scope, receive, send)
            return
        await send_body(send, 404, JSON_HEADERS, b'{"detail":"Not Found"}')

    async def head(self, scope: Scope, receive: Receive, send: Send) -> None:
        """HEAD: the request routed as GET, its response sent without the body.

        Reached only where GET routing did not match, so GET requests never pay for HEAD. A
        HEAD error response (404, 405, 422) loses its body too.
        """
        send = without_body(send)
        try:
            await self.http({**scope, "method": "GET"}, receive, send)
        except BadRequest as exc:
            await send_json(send, {"detail": exc.detail}, exc.status)

    async def plaintext(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_body(send, 200, TEXT_HEADERS, PLAINTEXT_BODY)

    async def json(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_json(send, JSON_MESSAGE)

    async def user(self, send: Send, raw_id: str) -> None:
        if not raw_id or "/" in raw_id:
            await send_body(send, 404, JSON_HEADERS, b'{"detail":"Not Found"}')
            return
        await send_json(send, {"user_id": to_int(raw_id, "user_id")})

    async def search(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = query_of(scope)
        q = query.get("q")
        if q is None:
            raise BadRequest(422, "q is required")
        page = to_int(query["page"], "page") if "page" in query else contract.SEARCH_PAGE_DEFAULT
        size = to_int(query["size"], "size") if "size" in query else contract.SEARCH_SIZE_DEFAULT
        await send_json(send, {"q": q, "page": page, "size": size})

    async def create_item(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        try:
            item = ITEM_DECODER.decode(body)
        except msgspec.ValidationError as exc:
            raise BadRequest(422, str(exc)) from None
        except msgspec.DecodeError as exc:
            raise BadRequest(400, f"Malformed JSON: {exc}") from None
        await send_body(send, 200, JSON_HEADERS, ITEM_ENCODER.encode(item))

    async def records(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = query_of(scope)
        if "n" not in query:
            raise BadRequest(422, "n is required")
        n = bounded_int(query, "n", 0, contract.RECORDS_MIN, contract.RECORDS_MAX)
        await send_json(send, [{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(n)])

    async def stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = query_of(scope)
        chunks = bounded_int(
            query, "chunks", contract.STREAM_CHUNKS_DEFAULT, 1, contract.STREAM_CHUNKS_MAX
        )
        size = bounded_int(query, "size", contract.STREAM_SIZE_DEFAULT, 1, contract.STREAM_SIZE_MAX)
        chunk = b"x" * size
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")],
            }
        )
        for _ in range(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def db(self, send: Send, raw_id: str) -> None:
        world_id = to_int(raw_id, "id")
        number = await self.world.random_number(world_id)
        if number is None:
            await send_body(send, 404, JSON_HEADERS, b'{"detail":"Not Found"}')
            return
        await send_json(send, {"id": world_id, "randomNumber": number})

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()  # websocket.connect
        if scope["path"] != "/ws/echo":
            await send({"type": "websocket.close", "code": 1000})
            return
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.world.open()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.world.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def build_mw() -> ASGIApp:
    """A fresh contract app wrapped, outermost first, in CORS, GZip and request-id middleware."""
    inner = RequestIDMiddleware(RawApp(), header_name=contract.REQUEST_ID_HEADER)
    zipped = GZipMiddleware(inner, minimum_size=contract.GZIP_MINIMUM_SIZE)
    return CORSMiddleware(
        zipped, allow_origins=contract.CORS_ORIGINS, allow_methods=contract.CORS_METHODS
    )


app: ASGIApp = RawApp()
app_mw: ASGIApp = build_mw()
