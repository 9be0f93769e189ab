"""raw ASGI: the baseline: a hand-written ASGI callable (orjson, msgspec)."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="raw",
    display="raw ASGI",
    summary="the baseline: a hand-written ASGI callable (orjson, msgspec)",
    packages=(),
    middleware=Middleware(
        cors="hand-written pure-ASGI CORSMiddleware (bench.frameworks._shared.asgi_middleware)",
        gzip="hand-written pure-ASGI GZipMiddleware (zlib, level 9)",
        request_id="hand-written pure-ASGI RequestIDMiddleware",
    ),
    colour="#555555",
    order=0,
)
