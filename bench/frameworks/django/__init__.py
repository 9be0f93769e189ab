"""Django: Django async views under its ASGI handler (details in its ``app.py``)."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="django",
    display="Django",
    summary="Django async views under its ASGI handler",
    packages=("django", "django-cors-headers"),
    middleware=Middleware(
        cors="django-cors-headers' CorsMiddleware",
        gzip="Django's GZipMiddleware with the 500-byte minimum",
        request_id="an async-only Django middleware",
    ),
    colour="#332288",
    order=90,
    unsupported={
        "websocket": (
            "has no WebSocket without the Channels add-on: its ASGI handler serves HTTP only "
            "(it raises ValueError on a websocket scope)"
        ),
    },
)
