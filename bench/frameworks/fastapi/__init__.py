"""FastAPI: FastAPI path operations, pydantic models."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="fastapi",
    display="FastAPI",
    summary="FastAPI path operations, pydantic models",
    packages=("fastapi", "pydantic", "pydantic-core", "starlette"),
    middleware=Middleware(
        cors="fastapi.middleware.cors.CORSMiddleware (Starlette's)",
        gzip="fastapi.middleware.gzip.GZipMiddleware (Starlette's)",
        request_id="pure-ASGI RequestIDMiddleware (bench.frameworks._shared.asgi_middleware)",
    ),
    colour="#009E73",
    order=30,
)
