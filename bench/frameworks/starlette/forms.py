"""The micro benchmark's form app in Starlette's idiom: ``request.form()`` and manual conversion.

``POST /form`` urlencoded (``name``, ``age`` an integer, repeated ``tags``) answers
``{"name": ..., "age": ..., "tags": [...]}``; a missing field or a non-integer age is a 4xx.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.frameworks._shared.contract import FORM_MAX_FIELDS as MAX_FIELDS


async def form(request: Request) -> JSONResponse:
    async with request.form(max_fields=MAX_FIELDS) as data:
        try:
            name, age = data["name"], int(str(data["age"]))
        except (KeyError, ValueError):
            return JSONResponse({"detail": "Invalid form"}, 422)
        return JSONResponse({"name": name, "age": age, "tags": data.getlist("tags")})


app = Starlette(routes=[Route("/form", form, methods=["POST"])])
