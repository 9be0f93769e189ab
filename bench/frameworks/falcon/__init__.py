"""Falcon: falcon.asgi.App resources, msgspec media handlers (details in its ``app.py``)."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="falcon",
    display="Falcon",
    summary="falcon.asgi.App resources, msgspec media handlers",
    packages=("falcon", "starlette"),
    middleware=Middleware(
        cors="falcon.CORSMiddleware",
        gzip="Starlette's GZipMiddleware around the app (Falcon has none for ASGI)",
        request_id="a Falcon middleware component",
    ),
    colour="#CC79A7",
    order=60,
)
