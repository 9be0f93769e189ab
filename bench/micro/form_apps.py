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

__all__ = ["build_fastapi", "build_starlette", "build_velocix", "raw"]

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


_BUILDERS: dict[str, Callable[[], ASGIApp]] = {
    "velocix": build_velocix,
    "starlette": build_starlette,
    "fastapi": build_fastapi,
}
_BUILT: dict[str, ASGIApp] = {}


def __getattr__(name: str) -> ASGIApp:
    builder = _BUILDERS.get(name)
    if builder is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _BUILT:
        _BUILT[name] = builder()
    return _BUILT[name]
