"""Django: the lab's contract app plus the conformance endpoints, in Django's idiom.

The settings are the contract module's (one per process); this module is the URLconf of the
conformance app, chosen per request the way Django documents it: a middleware sets
``request.urlconf``. Django has no WebSocket (its spec says why), so
the WebSocket endpoints are left out (its spec has no ``websocket``); it has no
startup hook of its own either (the lifespan is the lab's ASGI middleware around Django), so
there is no ``app_failing_startup`` and the failing-startup case is not applicable. Files are
``FileResponse`` (no Range or ETag support in Django) and static files Django's
``django.views.static.serve``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import URLPattern, path, re_path, reverse
from django.utils.decorators import async_only_middleware
from django.views.decorators.http import require_POST, require_safe
from django.views.static import serve

from bench.frameworks._shared import conformance as support
from bench.frameworks.django import app as contract_app

NAME = "django"
FEATURES = frozenset({"url_for", "file", "static", "forms"})


@require_safe
async def scope_echo(request: HttpRequest) -> HttpResponse:
    generated = request.build_absolute_uri(reverse(support.SCOPE_ROUTE_NAME))
    scope = request.scope  # type: ignore[attr-defined]
    view = support.scope_view(scope, url=request.build_absolute_uri(), url_for=generated)
    return JsonResponse(view)


@require_POST
async def body_echo(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.body, content_type="application/octet-stream")


@require_safe
async def headers(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok", content_type="text/plain; charset=utf-8")
    response["X-Conformance-Case"] = "Mixed"
    response.set_cookie("first", "1")
    response.set_cookie("second", "2")
    return response


@require_safe
async def no_content(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=204)


@require_safe
async def file(request: HttpRequest) -> HttpResponseBase:
    return FileResponse(open(support.conformance_file(), "rb"), content_type="text/plain")  # noqa: ASYNC230 - FileResponse closes it


@require_safe
async def error(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("handler failed on purpose (conformance)")


@require_safe
async def disconnect_probe(request: HttpRequest) -> HttpResponseBase:
    record = support.probe_started(request.GET.get("id", ""), "stream")

    async def chunks() -> AsyncIterator[bytes]:
        try:
            for _ in range(support.PROBE_CHUNKS):
                yield support.PROBE_CHUNK
                record["sent"] += 1
                await asyncio.sleep(support.PROBE_INTERVAL)
            record["state"] = "completed"
        finally:
            if record["state"] == "running":
                record["state"] = "stopped"

    return StreamingHttpResponse(chunks(), content_type="application/octet-stream")


@require_safe
async def probe_result(request: HttpRequest) -> HttpResponse:
    result = support.probe_result(request.GET.get("id", ""))
    if result is None:
        return JsonResponse({"detail": "no such probe"}, status=404)
    return JsonResponse(result)


@require_POST
async def form(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"fields": len(request.POST)})


urlpatterns: list[URLPattern] = [
    *contract_app.urlpatterns,
    path("conformance/scope", scope_echo, name=support.SCOPE_ROUTE_NAME),
    path("conformance/echo", body_echo),
    path("conformance/headers", headers),
    path("conformance/no-content", no_content),
    path("conformance/file", file),
    path("conformance/error", error),
    path("conformance/disconnect", disconnect_probe),
    path("conformance/probe", probe_result),
    path("conformance/form", form),
    re_path(r"^conformance/static/(?P<path>.*)$", serve, {"document_root": support.static_dir()}),
]


@async_only_middleware
def conformance_urlconf(
    get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]],
) -> Callable[[HttpRequest], Awaitable[HttpResponseBase]]:
    """Route every request through this module's URLconf."""

    async def middleware(request: HttpRequest) -> HttpResponseBase:
        request.urlconf = __name__  # type: ignore[attr-defined]
        return await get_response(request)

    return middleware


app = contract_app.Lifespan(contract_app.django_application([f"{__name__}.conformance_urlconf"]))
