"""Starlette: Starlette routes, requests parsed by hand."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="starlette",
    display="Starlette",
    summary="Starlette routes, requests parsed by hand",
    packages=("starlette",),
    middleware=Middleware(
        cors="starlette.middleware.cors.CORSMiddleware",
        gzip="starlette.middleware.gzip.GZipMiddleware",
        request_id="pure-ASGI RequestIDMiddleware (bench.frameworks._shared.asgi_middleware)",
    ),
    colour="#0072B2",
    order=20,
)
