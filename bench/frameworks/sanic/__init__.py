"""Sanic: Sanic in ASGI mode, sanic-ext CORS (details in its ``app.py``)."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="sanic",
    display="Sanic",
    summary="Sanic in ASGI mode, sanic-ext CORS",
    packages=("sanic", "sanic-ext"),
    middleware=Middleware(
        cors="sanic-ext's CORS (its HTTP extension only)",
        gzip="on_response middleware (neither Sanic nor sanic-ext compresses)",
        request_id="on_response middleware",
    ),
    colour="#882255",
    order=80,
    needs_lifespan=True,
    several_apps="bench.frameworks.sanic.hosting:allow_several_apps",
)
