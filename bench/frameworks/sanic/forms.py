"""The micro benchmark's form app in Sanic's idiom (ASGI mode, core only): ``request.form`` and
conversion. Like every Sanic app it serves only after lifespan startup (its spec's
``needs_lifespan``).

``POST /form`` urlencoded (``name``, ``age`` an integer, repeated ``tags``) answers
``{"name": ..., "age": ..., "tags": [...]}``; a missing field or a non-integer age is a 422.
"""

from __future__ import annotations

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
