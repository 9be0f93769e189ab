"""The app contract in Sanic's idiom, served in ASGI mode: a blueprint, handlers taking the
request, ``json``/``text`` responses, ``request.respond()`` for streaming.

Pinned: sanic 25.12.1, sanic-ext 25.12.0 (pyproject.toml; sanic-routing comes with sanic).

ASGI mode has its own lifecycle: Sanic builds its routers and fires ``before_server_start``
and ``after_server_start`` on the ASGI ``lifespan.startup`` event (and the stop listeners on
``lifespan.shutdown``), and refuses HTTP requests before that (no event loop yet). The
database is opened in ``before_server_start`` and closed in ``after_server_stop``, kept on
``app.ctx``. Sanic apps are named singletons (``Sanic.get_app(name)``), so every app of this
module has its own name.

Path integers use a pattern registered with ``app.router.register_pattern``: Sanic's own
``int`` type casts with ``int()`` (its regex is not used for matching), which takes
``" 12 "``, ``"1_000"``, ``"+5"`` and non-ASCII digits. Query integers and the JSON body are
checked by hand (Sanic has no validation of its own; sanic-ext's needs pydantic or attrs
models), errors answered with a 4xx ``SanicException``. Blank query values are kept
(``request.get_args(keep_blank_values=True)``), as in the other apps: Sanic's
``request.args`` drops them. Sanic enforces ``REQUEST_MAX_SIZE`` only in its own server, so
the body limit is checked here.

``app`` is Sanic itself: ``AUTO_EXTEND`` is off, so the installed sanic-ext does not add its
extensions (OpenAPI routes, dependency injection, automatic HEAD/OPTIONS) to it. ``app_mw``
adds, outermost first: CORS from sanic-ext (its HTTP extension only, with the automatic
OPTIONS handlers CORS preflight needs; automatic HEAD stays off like in ``app``); GZip as a
response middleware (``app.on_response``), the approach Sanic documents for changing
responses, because neither Sanic nor sanic-ext compresses (level 9 like Starlette's, whole
bodies of 500 bytes or more, streamed responses left alone); a request id, also a response
middleware. Sanic runs response middleware last-registered first, so they are registered
outermost first.

Supported: everything in the contract, WebSocket echo (``@bp.websocket``) and forms
(``request.form``). Sanic core answers HEAD on a GET route with 405: automatic HEAD is a
sanic-ext feature.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Blueprint, HTTPResponse, Request, Sanic, Websocket
from sanic.exceptions import NotFound, SanicException
from sanic.response import json, text
from sanic_ext.extensions.http.extension import HTTPExtension

from bench.frameworks._shared import contract
from bench.frameworks._shared.world import World

NAME = "velocix-lab-sanic"
"""The registered name of :data:`app` (``app_mw`` is ``<NAME>-mw``)."""


def integer(value: str) -> int:
    """The ``integer`` path type: an optional ``-`` and ASCII digits, else no match (404)."""
    if value.isascii() and (value.isdigit() or (value[:1] == "-" and value[1:].isdigit())):
        return int(value)  # ValueError past int()'s digit limit: no match either
    raise ValueError(f"not an integer: {value[:40]!r}")


def unprocessable(message: str) -> SanicException:
    """A 422 for bad input; quiet, as Sanic's own 4xx exceptions are (no traceback logged)."""
    return SanicException(message, status_code=422, quiet=True)


def query_int(args: Any, name: str, default: int | None = None) -> int:
    """An integer query parameter; 422 when it is missing (no default) or not an integer.

    Only an optional ``-`` and ASCII digits: ``int()`` alone would also take ``" 12 "``,
    ``"1_000"``, ``"+5"`` or non-ASCII digits, none of which writes an integer in a URL.
    """
    raw = args.get(name)
    if raw is None:
        if default is None:
            raise unprocessable(f"{name} is required")
        return default
    try:
        return integer(raw)
    except ValueError:
        raise unprocessable(f"{name} must be an integer, got {raw[:40]!r}") from None


def bounded(name: str, value: int, low: int, high: int) -> int:
    """Reject a value outside [low, high] with a 422."""
    if not low <= value <= high:
        raise unprocessable(f"{name} must be between {low} and {high}")
    return value


def validate_item(data: Any) -> dict[str, Any]:
    """Check the POST /items body by hand and return the normalised item."""
    if not isinstance(data, dict):
        raise unprocessable("body must be a JSON object")
    name, price, tags = data.get("name"), data.get("price"), data.get("tags", [])
    if not isinstance(name, str):
        raise unprocessable("name must be a string")
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise unprocessable("price must be a number")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise unprocessable("tags must be a list of strings")
    return {"name": name, "price": float(price), "tags": tags}


bp = Blueprint("contract")


@bp.get("/plaintext")
async def plaintext(request: Request) -> HTTPResponse:
    return text("Hello, World!")


@bp.get("/json")
async def json_message(request: Request) -> HTTPResponse:
    return json({"message": "Hello, World!"})


@bp.get("/users/<user_id:integer>")
async def user(request: Request, user_id: int) -> HTTPResponse:
    return json({"user_id": user_id})


@bp.get("/search")
async def search(request: Request) -> HTTPResponse:
    args = request.get_args(keep_blank_values=True)
    q = args.get("q")
    if q is None:
        raise unprocessable("q is required")
    page = query_int(args, "page", contract.SEARCH_PAGE_DEFAULT)
    size = query_int(args, "size", contract.SEARCH_SIZE_DEFAULT)
    return json({"q": q, "page": page, "size": size})


@bp.post("/items")
async def create_item(request: Request) -> HTTPResponse:
    if len(request.body) > contract.MAX_BODY_BYTES:
        raise SanicException("Request body too large", status_code=413, quiet=True)
    return json(validate_item(request.json))  # malformed JSON: Sanic's 400


@bp.get("/records")
async def records(request: Request) -> HTTPResponse:
    n = bounded("n", query_int(request.args, "n"), contract.RECORDS_MIN, contract.RECORDS_MAX)
    return json([{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(n)])


@bp.get("/stream")
async def stream(request: Request) -> None:
    args = request.args
    chunks = bounded(
        "chunks",
        query_int(args, "chunks", contract.STREAM_CHUNKS_DEFAULT),
        1,
        contract.STREAM_CHUNKS_MAX,
    )
    size = bounded(
        "size", query_int(args, "size", contract.STREAM_SIZE_DEFAULT), 1, contract.STREAM_SIZE_MAX
    )
    response = await request.respond(content_type="application/octet-stream")
    chunk = b"x" * size
    for _ in range(chunks):
        await response.send(chunk)
    await response.eof()


def router_handler(route: int) -> Callable[[Request, int], Awaitable[HTTPResponse]]:
    """The handler of ``/r{route}/items/<id>``."""

    async def handler(request: Request, item_id: int) -> HTTPResponse:
        return json({"route": route, "id": item_id})

    return handler


for _route in range(contract.ROUTER_ROUTES):
    bp.add_route(
        router_handler(_route),
        f"/r{_route}/items/<item_id:integer>",
        methods=["GET"],
        name=f"router_{_route}",
    )


@bp.get("/db/<world_id:integer>")
async def db(request: Request, world_id: int) -> HTTPResponse:
    number = await request.app.ctx.world.random_number(world_id)
    if number is None:
        raise NotFound("Not Found")
    return json({"id": world_id, "randomNumber": number})


@bp.websocket("/ws/echo")
async def ws_echo(request: Request, ws: Websocket) -> None:
    while True:
        message = await ws.recv()
        if message is None:  # the client went away
            return
        await ws.send(message)


async def open_world(app: Sanic) -> None:
    app.ctx.world = World()
    await app.ctx.world.open()


async def close_world(app: Sanic) -> None:
    await app.ctx.world.close()


def build(name: str = NAME) -> Sanic:
    """A Sanic app (core only) serving the contract blueprint, the database opened at startup."""
    app = Sanic(name)
    app.config.AUTO_EXTEND = False
    app.router.register_pattern("integer", integer, r"^-?[0-9]+$")
    app.before_server_start(open_world)
    app.after_server_stop(close_world)
    app.blueprint(bp)
    return app


async def gzip_response(request: Request, response: HTTPResponse) -> None:
    """Gzip a whole body of at least the contract's minimum when the client accepts gzip."""
    body = response.body
    if (
        body is None  # a streamed response: request.respond() runs middleware before the body
        or len(body) < contract.GZIP_MINIMUM_SIZE
        or "gzip" not in request.headers.get("accept-encoding", "")
        or "content-encoding" in response.headers
    ):
        return
    response.body = gzip.compress(body, compresslevel=9)
    response.headers["content-encoding"] = "gzip"
    response.headers["content-length"] = str(len(response.body))
    vary = response.headers.get("vary")
    response.headers["vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"


async def add_request_id(request: Request, response: HTTPResponse) -> None:
    response.headers[contract.REQUEST_ID_HEADER] = uuid.uuid4().hex


def build_mw(name: str = f"{NAME}-mw") -> Sanic:
    """:func:`build` plus CORS (sanic-ext), GZip and request id, outermost first."""
    app = build(name)
    app.config.AUTO_EXTEND = True
    app.extend(
        built_in_extensions=False,
        extensions=[HTTPExtension],
        config={
            "cors_origins": list(contract.CORS_ORIGINS),
            "cors_methods": list(contract.CORS_METHODS),
            "http_auto_head": False,
            "http_all_methods": False,
        },
    )
    app.on_response(gzip_response)
    app.on_response(add_request_id)
    return app


app = build()
app_mw = build_mw()
