"""The app contract in Quart's idiom: a blueprint of routes, ``request``/``websocket`` globals.

Pinned: quart 0.22.0 (the newest for Python 3.11; 0.23.1 needs 3.13), quart-cors 0.8.0
(pyproject.toml).

The contract's routes live on one :class:`~quart.Blueprint`, registered on both apps. Path
integers use a werkzeug converter with an ASCII pattern: werkzeug's own ``int`` matches
``\\d+``, which takes non-ASCII digits (Arabic-Indic ``/users/%D9%A1%D9%A2`` would answer
``{"user_id": 12}``). Query integers and the JSON body are checked by hand (Quart has no
validation of its own), errors raised as werkzeug's HTTP exceptions (422, 404). The database
is opened in ``before_serving`` and closed in ``after_serving`` (Quart's lifespan hooks) and
kept in ``app.extensions``.

``app_mw`` adds, outermost first: CORS from quart-cors (``cors(app, ...)``, the CORS extension
by Quart's author); GZip as an ``after_request`` function, Quart's documented hook for changing
a response (level 9 like Starlette's, whole bodies of 500 bytes or more, streamed bodies left
alone); and a request id, also an ``after_request`` function. Quart runs ``after_request``
functions last-registered first, so they are registered outermost first. Quart ships no
compression, and neither extension its docs list is usable: quart-compress 0.2.1 installs a
top-level ``tests`` package into site-packages (its wheel's RECORD), which shadows this
repository's ``tests`` for every process that imports ``tests.*`` (the Locust flow tests'
servers failed with it installed), and quart-compress2 1.1.0 imports ``quart.local``, gone
since Quart 0.19.

Supported: everything in the contract, WebSocket echo (``@bp.websocket``) and forms
(``await request.form``).
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from quart import Blueprint, Quart, Response, current_app, request, websocket
from quart.wrappers.response import DataBody
from quart_cors import cors
from werkzeug.exceptions import NotFound, UnprocessableEntity
from werkzeug.routing import IntegerConverter

from bench.frameworks._shared import contract
from bench.frameworks._shared.world import World

WORLD = "bench.world"
"""The key of the app's :class:`World` in ``app.extensions``."""


class AsciiIntegerConverter(IntegerConverter):
    """werkzeug's ``int`` converter matching ASCII digits only (``\\d`` matches U+0661...)."""

    regex = "[0-9]+"


def query_int(name: str, default: int | None = None) -> int:
    """An integer query parameter; 422 when it is missing (no default) or not an integer.

    Only an optional ``-`` and ASCII digits: ``int()`` alone would also take ``" 12 "``,
    ``"1_000"``, ``"+5"`` or non-ASCII digits, none of which writes an integer in a URL.
    """
    raw = request.args.get(name)
    if raw is None:
        if default is None:
            raise UnprocessableEntity(f"{name} is required")
        return default
    if raw.isascii() and (raw.isdigit() or (raw[:1] == "-" and raw[1:].isdigit())):
        try:
            return int(raw)
        except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
            raise UnprocessableEntity(f"{name} has too many digits") from None
    raise UnprocessableEntity(f"{name} must be an integer, got {raw[:40]!r}")


def bounded(name: str, value: int, low: int, high: int) -> int:
    """Reject a value outside [low, high] with a 422."""
    if not low <= value <= high:
        raise UnprocessableEntity(f"{name} must be between {low} and {high}")
    return value


def validate_item(data: Any) -> dict[str, Any]:
    """Check the POST /items body by hand and return the normalised item."""
    if not isinstance(data, dict):
        raise UnprocessableEntity("body must be a JSON object")
    name, price, tags = data.get("name"), data.get("price"), data.get("tags", [])
    if not isinstance(name, str):
        raise UnprocessableEntity("name must be a string")
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise UnprocessableEntity("price must be a number")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise UnprocessableEntity("tags must be a list of strings")
    return {"name": name, "price": float(price), "tags": tags}


bp = Blueprint("contract", __name__)


@bp.get("/plaintext")
async def plaintext() -> Response:
    return Response("Hello, World!", content_type="text/plain; charset=utf-8")


@bp.get("/json")
async def json_message() -> dict[str, str]:
    return {"message": "Hello, World!"}


@bp.get("/users/<integer:user_id>")
async def user(user_id: int) -> dict[str, int]:
    return {"user_id": user_id}


@bp.get("/search")
async def search() -> dict[str, Any]:
    q = request.args.get("q")
    if q is None:
        raise UnprocessableEntity("q is required")
    page = query_int("page", contract.SEARCH_PAGE_DEFAULT)
    size = query_int("size", contract.SEARCH_SIZE_DEFAULT)
    return {"q": q, "page": page, "size": size}


@bp.post("/items")
async def create_item() -> dict[str, Any]:
    # Malformed JSON is Quart's 400, a body over MAX_CONTENT_LENGTH its 413.
    return validate_item(await request.get_json())


@bp.get("/records")
async def records() -> list[dict[str, Any]]:
    n = bounded("n", query_int("n"), contract.RECORDS_MIN, contract.RECORDS_MAX)
    return [{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(n)]


@bp.get("/stream")
async def stream() -> Response:
    chunks = bounded(
        "chunks",
        query_int("chunks", contract.STREAM_CHUNKS_DEFAULT),
        1,
        contract.STREAM_CHUNKS_MAX,
    )
    size = bounded(
        "size", query_int("size", contract.STREAM_SIZE_DEFAULT), 1, contract.STREAM_SIZE_MAX
    )

    async def body() -> AsyncIterator[bytes]:
        chunk = b"x" * size
        for _ in range(chunks):
            yield chunk

    return Response(body(), content_type="application/octet-stream")


def router_view(route: int) -> Callable[[int], Awaitable[dict[str, int]]]:
    """The view of ``/r{route}/items/<id>``."""

    async def view(item_id: int) -> dict[str, int]:
        return {"route": route, "id": item_id}

    return view


for _route in range(contract.ROUTER_ROUTES):
    bp.add_url_rule(
        f"/r{_route}/items/<integer:item_id>",
        f"router_{_route}",
        router_view(_route),
        methods=["GET"],
    )


@bp.get("/db/<integer:world_id>")
async def db(world_id: int) -> dict[str, int]:
    number = await current_app.extensions[WORLD].random_number(world_id)
    if number is None:
        raise NotFound()
    return {"id": world_id, "randomNumber": number}


@bp.websocket("/ws/echo")
async def ws_echo() -> None:
    # Quart accepts on the first receive; a client disconnect cancels this handler.
    while True:
        await websocket.send(await websocket.receive())


async def open_world() -> None:
    world = World()
    await world.open()
    current_app.extensions[WORLD] = world


async def close_world() -> None:
    world = current_app.extensions.pop(WORLD, None)
    if world is not None:
        await world.close()


def build(name: str = __name__) -> Quart:
    """A Quart app serving the contract blueprint, the database opened while it serves."""
    app = Quart(name)
    app.url_map.converters["integer"] = AsciiIntegerConverter
    app.config["MAX_CONTENT_LENGTH"] = contract.MAX_BODY_BYTES
    app.before_serving(open_world)
    app.after_serving(close_world)
    app.register_blueprint(bp)
    return app


async def gzip_response(response: Response) -> Response:
    """Gzip a whole body of at least the contract's minimum when the client accepts gzip."""
    if (
        not isinstance(response.response, DataBody)  # streamed or a file: left alone
        or "gzip" not in request.headers.get("Accept-Encoding", "")
        or "Content-Encoding" in response.headers
    ):
        return response
    body = await response.get_data()
    if len(body) < contract.GZIP_MINIMUM_SIZE:
        return response
    response.set_data(gzip.compress(body, compresslevel=9))  # also sets Content-Length
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


async def add_request_id(response: Response) -> Response:
    response.headers[contract.REQUEST_ID_HEADER] = uuid.uuid4().hex
    return response


def build_mw(name: str = f"{__name__}.mw") -> Quart:
    """:func:`build` plus CORS, GZip and request id (``after_request``: outermost first)."""
    app = build(name)
    cors(
        app,
        allow_origin=list(contract.CORS_ORIGINS),
        allow_methods=list(contract.CORS_METHODS),
        send_origin_wildcard=False,
    )
    app.after_request(gzip_response)
    app.after_request(add_request_id)
    return app


app = build()
app_mw = build_mw()
