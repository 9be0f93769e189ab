"""Velocix: this repository's framework (msgspec, orjson)."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="velocix",
    display="Velocix",
    summary="this repository's framework (msgspec, orjson)",
    packages=("velocix", "msgspec", "orjson"),
    middleware=Middleware(
        cors="velocix.middleware.cors.CORSMiddleware",
        gzip="velocix.middleware.gzip.GZipMiddleware",
        request_id="velocix.middleware.request_id.RequestIDMiddleware",
    ),
    colour="#D55E00",
    order=10,
)
