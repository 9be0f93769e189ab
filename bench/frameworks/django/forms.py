"""The micro benchmark's form app in Django's idiom: an async view reading ``request.POST``
(DATA_UPLOAD_MAX_NUMBER_FIELDS 1000).

``POST /form`` urlencoded (``name``, ``age`` an integer, repeated ``tags``) answers
``{"name": ..., "age": ..., "tags": [...]}``; a missing field or a non-integer age is a 422.
The process's Django settings are the contract app's (:mod:`bench.frameworks.django.app`), whose
ROOT_URLCONF is the contract's: this app routes its requests through its own URLconf with
Django's documented per-request ``request.urlconf``, set by a middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.decorators import async_only_middleware
from django.views.decorators.http import require_POST

from bench.frameworks.django import app as contract


@require_POST
async def form(request: HttpRequest) -> HttpResponse:
    data = request.POST
    try:
        name, age = data["name"], int(data["age"])
    except (KeyError, ValueError):
        return JsonResponse({"detail": "Invalid form"}, status=422)
    return JsonResponse({"name": name, "age": age, "tags": data.getlist("tags")})


class FormURLs:
    """The form app's URLconf."""

    urlpatterns: ClassVar[list[Any]] = [path("form", form)]


@async_only_middleware
def form_urlconf(
    get_response: Callable[[HttpRequest], Awaitable[HttpResponse]],
) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
    """Route the form app's requests through :class:`FormURLs`."""

    async def middleware(request: HttpRequest) -> HttpResponse:
        request.urlconf = FormURLs  # type: ignore[attr-defined]
        return await get_response(request)

    return middleware


app = contract.django_application([f"{__name__}.form_urlconf"])
