"""The app contract in Django's idiom: async function views, a URLconf, ``HttpResponse`` and
``JsonResponse``, settings configured in code (no project scaffolding).

Pinned: django 5.2.19 (the newest for Python 3.11; Django 6 needs 3.12), django-cors-headers
4.9.0 (pyproject.toml).

This module is its own settings and URLconf: it calls ``settings.configure()`` (once per
process) with ``ROOT_URLCONF`` naming this module, whose ``urlpatterns`` use Django's ``int``
path converter (``[0-9]+``: ASCII digits only, so ``1e3`` or ``+5`` do not match: 404).
Query integers and the JSON body are checked by hand; bad input raises Django's
``BadRequest`` (its 400 page), a missing row ``Http404``; a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (the contract's 1 MiB) is Django's own 400. GET views are
``@require_safe`` (GET and HEAD), ``POST /items`` is ``@require_POST`` (405 otherwise).

Django's ASGI handler serves the ``http`` scope only: it raises ``ValueError`` on ``lifespan``
and ``websocket``, and Django has no startup hook for a per-process async resource (its own
database connections open lazily per request thread). The database is therefore opened the way
Django's deployment docs add anything to its ASGI application, by wrapping it in ASGI
middleware ("Applying ASGI middleware"): :class:`Lifespan` answers the lifespan scope, opens
the :class:`World` at startup into the lifespan ``state`` (which the server copies into each
request's scope: views read ``request.scope["state"]``), closes it at shutdown, and passes
every other scope to Django unchanged. A lazily opened resource is not an option: aiosqlite
runs each connection on a non-daemon thread that nothing would close, so the process could not
exit. (django-asgi-lifespan packages the same idea as a handler subclass and signals.)

``app_mw`` is built with ``MIDDLEWARE``, outermost first: django-cors-headers'
``CorsMiddleware`` (Django has no CORS of its own); Django's ``GZipMiddleware`` with the
contract's 500-byte minimum (:class:`GZipMiddleware` below: Django's compresses from a fixed
200 bytes, at a fixed level 6, and adds random bytes to the gzip header against BREACH); and
:func:`request_id`, an async-only middleware. One process can hold both stacks because the
handler reads ``MIDDLEWARE`` once, when it is built.

Forms: supported (``request.POST``). WebSocket: not applicable, with the reason, in Django's
spec (``bench/frameworks/django/__init__.py``): no stand-in is written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.exceptions import BadRequest
from django.core.handlers.asgi import ASGIHandler
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware
from django.test.utils import override_settings
from django.urls import URLPattern, path
from django.utils.decorators import async_only_middleware
from django.views.decorators.http import require_POST, require_safe

from bench.frameworks._shared import contract
from bench.frameworks._shared.world import World

WORLD = "bench.world"
"""The key of the :class:`World` in the lifespan state."""

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    f"{__name__}.GZipMiddleware",
    f"{__name__}.request_id",
]
"""``app_mw``'s stack, outermost first."""

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="velocix-lab-django-not-secret",  # no session, signing or CSRF uses it
        ALLOWED_HOSTS=["*"],  # the lab's clients and the conformance checks send any Host
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["corsheaders"],
        MIDDLEWARE=[],
        DATABASES={},  # the contract's database is the lab's World, not Django's ORM
        USE_I18N=False,
        DATA_UPLOAD_MAX_MEMORY_SIZE=contract.MAX_BODY_BYTES,
        CORS_ALLOWED_ORIGINS=list(contract.CORS_ORIGINS),
        CORS_ALLOW_METHODS=list(contract.CORS_METHODS),
    )


def query_int(request: HttpRequest, name: str, default: int | None = None) -> int:
    """An integer query parameter; 400 when it is missing (no default) or not an integer.

    Only an optional ``-`` and ASCII digits: ``int()`` alone would also take ``" 12 "``,
    ``"1_000"``, ``"+5"`` or non-ASCII digits, none of which writes an integer in a URL.
    """
    raw = request.GET.get(name)
    if raw is None:
        if default is None:
            raise BadRequest(f"{name} is required")
        return default
    if raw.isascii() and (raw.isdigit() or (raw[:1] == "-" and raw[1:].isdigit())):
        try:
            return int(raw)
        except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
            raise BadRequest(f"{name} has too many digits") from None
    raise BadRequest(f"{name} must be an integer, got {raw[:40]!r}")


def bounded(name: str, value: int, low: int, high: int) -> int:
    """Reject a value outside [low, high] with a 400."""
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


def validate_item(data: Any) -> dict[str, Any]:
    """Check the POST /items body by hand and return the normalised item."""
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    name, price, tags = data.get("name"), data.get("price"), data.get("tags", [])
    if not isinstance(name, str):
        raise BadRequest("name must be a string")
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise BadRequest("price must be a number")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise BadRequest("tags must be a list of strings")
    return {"name": name, "price": float(price), "tags": tags}


@require_safe
async def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"Hello, World!", content_type="text/plain; charset=utf-8")


@require_safe
async def json_message(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"message": "Hello, World!"})


@require_safe
async def user(request: HttpRequest, user_id: int) -> HttpResponse:
    return JsonResponse({"user_id": user_id})


@require_safe
async def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q")
    if q is None:
        raise BadRequest("q is required")
    page = query_int(request, "page", contract.SEARCH_PAGE_DEFAULT)
    size = query_int(request, "size", contract.SEARCH_SIZE_DEFAULT)
    return JsonResponse({"q": q, "page": page, "size": size})


@require_POST
async def create_item(request: HttpRequest) -> HttpResponse:
    try:
        data = json.loads(request.body)
    except ValueError:
        raise BadRequest("Malformed JSON") from None
    return JsonResponse(validate_item(data))


@require_safe
async def records(request: HttpRequest) -> HttpResponse:
    n = bounded("n", query_int(request, "n"), contract.RECORDS_MIN, contract.RECORDS_MAX)
    rows = [{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(n)]
    return JsonResponse(rows, safe=False)


@require_safe
async def stream(request: HttpRequest) -> HttpResponseBase:
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

    return StreamingHttpResponse(body(), content_type="application/octet-stream")


def router_view(route: int) -> Callable[[HttpRequest, int], Awaitable[HttpResponse]]:
    """The view of ``/r{route}/items/<id>``."""

    @require_safe
    async def view(request: HttpRequest, item_id: int) -> HttpResponse:
        return JsonResponse({"route": route, "id": item_id})

    return view


@require_safe
async def db(request: HttpRequest, world_id: int) -> HttpResponse:
    world: World = request.scope["state"][WORLD]  # type: ignore[attr-defined]
    number = await world.random_number(world_id)
    if number is None:
        raise Http404("no such row")
    return JsonResponse({"id": world_id, "randomNumber": number})


urlpatterns: list[URLPattern] = [
    path("plaintext", plaintext),
    path("json", json_message),
    path("users/<int:user_id>", user),
    path("search", search),
    path("items", create_item),
    path("records", records),
    path("stream", stream),
    path("db/<int:world_id>", db),
    *(
        path(f"r{i}/items/<int:item_id>", router_view(i), name=f"router-{i}")
        for i in range(contract.ROUTER_ROUTES)
    ),
]


class GZipMiddleware(DjangoGZipMiddleware):
    """Django's GZipMiddleware with the contract's 500-byte minimum (Django's is 200)."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if isinstance(response, HttpResponse) and len(response.content) < (
            contract.GZIP_MINIMUM_SIZE
        ):
            return response
        return super().process_response(request, response)  # type: ignore[no-any-return]


@async_only_middleware
def request_id(
    get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]],
) -> Callable[[HttpRequest], Awaitable[HttpResponseBase]]:
    """Adds a fresh uuid4 hex ``x-request-id`` to every response."""

    async def middleware(request: HttpRequest) -> HttpResponseBase:
        response = await get_response(request)
        response[contract.REQUEST_ID_HEADER] = uuid.uuid4().hex
        return response

    return middleware


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Lifespan:
    """Django's ASGI application plus the ASGI lifespan protocol, which opens the database.

    ``lifespan.startup`` opens a :class:`World` into the lifespan state and
    ``lifespan.shutdown`` closes it; any other scope goes to Django as it is (a websocket
    scope makes Django raise, as it does unwrapped).
    """

    def __init__(self, django: ASGIHandler) -> None:
        self.django = django

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.django(scope, receive, send)
            return
        world: World | None = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    world = await self.startup(scope)
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if world is not None:
                    await world.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self, scope: Scope) -> World:
        state = scope.get("state")
        if state is None:
            raise RuntimeError("the server gives no lifespan state: views could not find the db")
        world = World()
        await world.open()
        state[WORLD] = world
        return world


def django_application(middleware: list[str]) -> ASGIHandler:
    """Django's ASGI handler with ``middleware`` (read once, here, by the handler)."""
    with override_settings(MIDDLEWARE=middleware):
        return get_asgi_application()


app = Lifespan(django_application([]))
app_mw = Lifespan(django_application(MIDDLEWARE))
