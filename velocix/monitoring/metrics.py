"""Prometheus metrics through prometheus_client: a middleware and a ``/metrics`` endpoint.

::

    metrics = install_metrics(app)      # middleware + GET /metrics, own CollectorRegistry

Series (``prefix`` defaults to ``velocix``):

* ``<prefix>_requests_total{method, route, status}`` — counter;
* ``<prefix>_request_duration_seconds{method, route}`` — histogram, until the response ends;
* ``<prefix>_requests_in_progress{method}`` — gauge (the route is unknown until routing).

``route`` is the matched route's *template* (``scope["route"].path``, e.g. ``/users/{id}``), never
the raw path, and ``<unmatched>`` for 404s — so a scan of random URLs cannot create unbounded
series. Methods outside the standard set are counted as ``OTHER``. Each :class:`Metrics` has
its own ``CollectorRegistry`` (no duplicate-registration errors when several apps or tests
create one). Put the middleware outermost, or at least outside any middleware that copies the
scope, so it sees ``scope["route"]``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from velocix.core.request import Request
from velocix.core.response import Response
from velocix.middleware._asgi import ASGIApp, Message, Receive, Scope, Send

try:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
    from prometheus_client.exposition import choose_encoder
except ImportError:  # pragma: no cover - only without the extra installed
    raise ImportError(
        "velocix.monitoring.metrics needs prometheus_client: pip install 'velocix[metrics]'"
    ) from None

__all__ = ["UNMATCHED", "Metrics", "PrometheusMiddleware", "install_metrics"]

UNMATCHED = "<unmatched>"
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The HTTP metrics of one application, in their own registry."""

    def __init__(
        self,
        *,
        prefix: str = "velocix",
        registry: CollectorRegistry | None = None,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            f"{prefix}_requests",
            "HTTP requests handled.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            f"{prefix}_request_duration_seconds",
            "Time from request to the end of the response.",
            ("method", "route"),
            buckets=tuple(buckets),
            registry=self.registry,
        )
        self.in_progress = Gauge(
            f"{prefix}_requests_in_progress",
            "HTTP requests being handled.",
            ("method",),
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics``: the registry in the format the scraper asks for."""
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(self.registry), headers={"Content-Type": content_type})


def route_label(scope: Scope) -> str:
    """The ``route`` label: the matched route's template, or ``<unmatched>``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class PrometheusMiddleware:
    """Count, time and track in-flight HTTP requests into ``metrics``."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        status = 500  # if the app raises before responding, the server answers 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        in_progress = self.metrics.in_progress.labels(method)
        in_progress.inc()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            in_progress.dec()
            self.metrics.observe(method, route_label(scope), status, time.perf_counter() - started)


def install_metrics(
    app: Any,
    *,
    path: str = "/metrics",
    prefix: str = "velocix",
    buckets: Sequence[float] = DEFAULT_BUCKETS,
) -> Metrics:
    """Add :class:`PrometheusMiddleware` and a ``GET`` ``path`` endpoint to a Velocix ``app``."""
    metrics = Metrics(prefix=prefix, buckets=buckets)
    app.add_middleware(PrometheusMiddleware, metrics=metrics)
    app.add_api_route(
        path, metrics.endpoint, methods=["GET"], name="metrics", include_in_schema=False
    )
    return metrics
