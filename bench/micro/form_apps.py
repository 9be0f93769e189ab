"""The form-post micro case's apps: ``POST /form`` with an urlencoded body, per framework.

Not part of the app contract (forms are a battery, not a lab scenario), so the four apps live
here, each in its framework's idiom, built on first access (``form_apps.velocix``...) so a
competitor that is not installed fails alone. Every one parses ``name`` (str), ``age`` (int)
and the repeated ``tags`` and answers ``{"name": ..., "age": ..., "tags": [...]}``; a missing
field or a non-integer age is a 4xx.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson

__all__ = [
    "build_blacksheep",
    "build_falcon",
    "build_fastapi",
    "build_litestar",
    "build_starlette",
    "build_velocix",
    "raw",
]

Message = dict[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
MAX_FIELDS = 1000  # the same field limit everywhere (Starlette's default)


async def raw(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """Hand-written: read the body, ``parse_qsl`` with a field limit, validate, encode."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/form":
        await _send(send, 404, b'{"detail":"Not Found"}')
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    try:
        pairs = parse_qsl(b"".join(chunks).decode(), max_num_fields=MAX_FIELDS, strict_parsing=True)
        fields: dict[str, Any] = {}
        tags = []
        for key, value in pairs:
            if key == "tags":
                tags.append(value)
            else:
                fields[key] = value
        body = orjson.dumps({"name": fields["name"], "age": int(fields["age"]), "tags": tags})
    except (KeyError, ValueError):
        await _send(send, 422, b'{"detail":"Invalid form"}')
        return
    await _send(send, 200, body)


async def _send(send: Callable[[Message], Awaitable[None]], status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_velocix() -> ASGIApp:
    """Velocix: ``Form()`` parameters typed by annotation."""
    from velocix import Velocix
    from velocix.forms import Form

    app = Velocix()

    @app.post("/form")
    async def form(
        name: str = Form(), age: int = Form(), tags: list[str] = Form([])
    ) -> dict[str, Any]:
        return {"name": name, "age": age, "tags": tags}

    return app


def build_starlette() -> ASGIApp:
    """Starlette: ``request.form()`` and manual conversion."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def form(request: Request) -> JSONResponse:
        async with request.form(max_fields=MAX_FIELDS) as data:
            try:
                name, age = data["name"], int(str(data["age"]))
            except (KeyError, ValueError):
                return JSONResponse({"detail": "Invalid form"}, 422)
            return JSONResponse({"name": name, "age": age, "tags": data.getlist("tags")})

    return Starlette(routes=[Route("/form", form, methods=["POST"])])


def build_fastapi() -> ASGIApp:
    """FastAPI: ``Form()`` parameters typed by annotation (pydantic)."""
    from fastapi import FastAPI, Form

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/form")
    async def form(
        name: str = Form(), age: int = Form(), tags: list[str] = Form([])
    ) -> dict[str, Any]:
        return {"name": name, "age": age, "tags": tags}

    return app


def build_litestar() -> ASGIApp:
    """Litestar: a msgspec Struct bound from the urlencoded body (``URLEncodedBody``).

    No field limit: Litestar parses urlencoded bodies with ``parse_qsl`` and no cap. A lone
    ``tags=a`` is refused (400): Litestar keeps a key seen once as a ``str``, which msgspec
    does not convert to ``list[str]``; the case sends two tags.
    """
    import msgspec
    from litestar import Litestar, post
    from litestar.params import URLEncodedBody

    class FormData(msgspec.Struct):
        name: str
        age: int
        tags: list[str] = []

    @post("/form", status_code=200)
    async def form(data: URLEncodedBody[FormData]) -> FormData:
        return data

    # The annotations are strings (PEP 563) naming this function's locals.
    namespace = {"FormData": FormData, "URLEncodedBody": URLEncodedBody}
    return Litestar(route_handlers=[form], openapi_config=None, signature_namespace=namespace)


def build_blacksheep() -> ASGIApp:
    """BlackSheep: ``request.form()`` and manual conversion (its ``FromForm`` binding turns a
    single ``tags=ab`` into ``["a", "b"]``). No field limit: BlackSheep has none."""
    from blacksheep import Application, Router, json

    router = Router()

    # Unannotated: BlackSheep evaluates a handler's (PEP 563 string) annotations in the
    # module's globals, where this function's local imports are not; a lone parameter named
    # ``request`` is bound to the request by its name.
    @router.post("/form")
    async def form(request):  # type: ignore[no-untyped-def]
        data = await request.form() or {}
        try:
            name, age = data["name"], int(data["age"])
        except (KeyError, TypeError, ValueError):
            return json({"detail": "Invalid form"}, 422)
        tags = data.get("tags", [])
        return json({"name": name, "age": age, "tags": [tags] if isinstance(tags, str) else tags})

    return Application(router=router)


def build_falcon() -> ASGIApp:
    """Falcon: ``await req.get_media()`` of the urlencoded body and manual conversion. No
    field limit: Falcon's ``URLEncodedFormHandler`` has none."""
    import falcon
    import falcon.asgi

    class Form:
        async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
            data = await req.get_media()
            try:
                name, age = data["name"], int(data["age"])
            except (KeyError, TypeError, ValueError):
                raise falcon.HTTPUnprocessableEntity(description="Invalid form") from None
            tags = data.get("tags", [])
            resp.media = {
                "name": name,
                "age": age,
                "tags": [tags] if isinstance(tags, str) else tags,
            }

    app = falcon.asgi.App()
    app.add_route("/form", Form())
    return app


_BUILDERS: dict[str, Callable[[], ASGIApp]] = {
    "velocix": build_velocix,
    "starlette": build_starlette,
    "fastapi": build_fastapi,
    "litestar": build_litestar,
    "blacksheep": build_blacksheep,
    "falcon": build_falcon,
}
_BUILT: dict[str, ASGIApp] = {}


def __getattr__(name: str) -> ASGIApp:
    builder = _BUILDERS.get(name)
    if builder is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _BUILT:
        _BUILT[name] = builder()
    return _BUILT[name]
