"""Litestar: Litestar handlers, msgspec Structs (details in its ``app.py``)."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="litestar",
    display="Litestar",
    summary="Litestar handlers, msgspec Structs",
    packages=("litestar",),
    middleware=Middleware(
        cors="Litestar's CORSConfig",
        gzip='Litestar\'s CompressionConfig(backend="gzip", minimum_size=500)',
        request_id="a Litestar ASGIMiddleware",
    ),
    colour="#E69F00",
    order=40,
)
