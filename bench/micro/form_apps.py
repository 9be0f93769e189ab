"""The form-post micro case's apps: ``POST /form`` with an urlencoded body, per framework.

Not part of the app contract (forms are a battery, not a lab scenario), so the apps live
here, each in its framework's idiom, built on first access (``form_apps.velocix``...) so a
competitor that is not installed fails alone. Every one parses ``name`` (str), ``age`` (int)
and the repeated ``tags`` and answers ``{"name": ..., "age": ..., "tags": [...]}``; a missing
field or a non-integer age is a 4xx.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson

__all__ = [
    "build_django",
    "build_fastapi",
    "build_quart",
    "build_sanic",
    "build_starlette",
    "build_velocix",
    "django_form_urlconf",
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


def build_quart() -> ASGIApp:
    """Quart: ``await request.form`` (werkzeug's parser, MAX_FORM_PARTS 1000) and conversion."""
    from quart import Quart, request

    app = Quart("velocix_micro_form")

    @app.post("/form")
    async def form() -> tuple[dict[str, Any], int]:
        data = await request.form
        try:
            name, age = data["name"], int(data["age"])
        except (KeyError, ValueError):
            return {"detail": "Invalid form"}, 422
        return {"name": name, "age": age, "tags": data.getlist("tags")}, 200

    return app


def build_sanic() -> ASGIApp:
    """Sanic (ASGI mode, core only): ``request.form`` and conversion. Like every Sanic app it
    serves only after lifespan startup (``bench.micro.frameworks.NEEDS_LIFESPAN``)."""
    from sanic import Request, Sanic
    from sanic.response import HTTPResponse, json

    app = Sanic("velocix-micro-form")
    app.config.AUTO_EXTEND = False

    @app.post("/form")
    async def form(request: Request) -> HTTPResponse:
        data = request.form
        try:
            name, age = data["name"][0], int(data["age"][0])
        except (KeyError, ValueError):
            return json({"detail": "Invalid form"}, status=422)
        return json({"name": name, "age": age, "tags": data.getlist("tags", [])})

    return app


class _DjangoFormURLs:
    """The URLconf of the Django form app (``urlpatterns`` filled in by :func:`build_django`)."""

    urlpatterns: ClassVar[list[Any]] = []


def django_form_urlconf(get_response: Any) -> Any:
    """Django middleware (named by path in the handler's MIDDLEWARE): route the form app's
    requests through :class:`_DjangoFormURLs`, Django's documented per-request URLconf, since
    the process's ROOT_URLCONF is the contract app's."""

    async def middleware(request: Any) -> Any:
        request.urlconf = _DjangoFormURLs
        return await get_response(request)

    return middleware


# What django.utils.decorators.async_only_middleware sets, without importing Django here.
django_form_urlconf.sync_capable = False  # type: ignore[attr-defined]
django_form_urlconf.async_capable = True  # type: ignore[attr-defined]


def build_django() -> ASGIApp:
    """Django: an async view reading ``request.POST`` (DATA_UPLOAD_MAX_NUMBER_FIELDS 1000)."""
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path
    from django.views.decorators.http import require_POST

    from bench.apps import django as contract  # the process's Django settings

    @require_POST
    async def form(request: HttpRequest) -> HttpResponse:
        data = request.POST
        try:
            name, age = data["name"], int(data["age"])
        except (KeyError, ValueError):
            return JsonResponse({"detail": "Invalid form"}, status=422)
        return JsonResponse({"name": name, "age": age, "tags": data.getlist("tags")})

    _DjangoFormURLs.urlpatterns = [path("form", form)]
    handler: ASGIApp = contract.django_application([f"{__name__}.django_form_urlconf"])
    return handler


_BUILDERS: dict[str, Callable[[], ASGIApp]] = {
    "velocix": build_velocix,
    "starlette": build_starlette,
    "fastapi": build_fastapi,
    "quart": build_quart,
    "sanic": build_sanic,
    "django": build_django,
}
_BUILT: dict[str, ASGIApp] = {}


def __getattr__(name: str) -> ASGIApp:
    builder = _BUILDERS.get(name)
    if builder is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _BUILT:
        _BUILT[name] = builder()
    return _BUILT[name]
