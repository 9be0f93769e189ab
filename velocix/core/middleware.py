"""Building the middleware stack.

Middleware are pure ASGI classes, instantiated as ``cls(app, *args, **options)``. The stack is
built once - at lifespan startup, or at the first request when the server runs no lifespan -
and never rebuilt; adding middleware after that raises :class:`RuntimeError`.

Order, outermost first::

    ServerErrorGuard -> user middleware (last added outermost) -> the application's router

The router turns handler errors, 404s and 405s into responses itself, so user middleware see
them as ordinary responses (a metrics middleware counts the 500s, CORS headers are added to
404s). :class:`ServerErrorGuard` is only there for errors raised *by a middleware*: it answers
500 when nothing has been sent yet, and re-raises otherwise so the server closes the
connection. It also makes the one copy of the server's scope that everything inside works on
(Velocix never mutates the server's scope). Without middleware there is no stack at all and
requests go straight to the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["Middleware", "ServerErrorGuard", "build_stack"]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class Middleware:
    """A middleware class and its options, for ``Velocix(middleware=[...])``::

    Velocix(middleware=[Middleware(CORSMiddleware, allow_origins=["https://example.com"])])
    """

    __slots__ = ("args", "cls", "kwargs")

    def __init__(self, cls: Callable[..., ASGIApp], *args: Any, **kwargs: Any) -> None:
        if not callable(cls):
            raise TypeError(f"Middleware needs a class (or factory), got {cls!r}")
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def build(self, app: ASGIApp) -> ASGIApp:
        """Instantiate around ``app``."""
        return self.cls(app, *self.args, **self.kwargs)

    def __repr__(self) -> str:
        name = getattr(self.cls, "__name__", repr(self.cls))
        options = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"Middleware({', '.join([name, *options])})"


ScopeFactory = Callable[[Any], dict[str, Any]]
ErrorSender = Callable[[dict[str, Any], Any, Any, Exception], Awaitable[None]]


class ServerErrorGuard:
    """Outermost layer: copies the scope once, answers 500 for errors raised by middleware."""

    __slots__ = ("app", "own_scope", "send_error")

    def __init__(self, app: ASGIApp, own_scope: ScopeFactory, send_error: ErrorSender) -> None:
        self.app = app
        self.own_scope = own_scope
        self.send_error = send_error

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope_type = scope["type"]
        if scope_type == "lifespan":
            await self.app(scope, receive, send)
            return
        scope = self.own_scope(scope)
        if scope_type != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise  # too late for a 500: let the server close the connection
            await self.send_error(scope, receive, send, exc)


def build_stack(
    app: ASGIApp,
    middleware: Sequence[Middleware],
    own_scope: ScopeFactory,
    send_error: ErrorSender,
) -> ASGIApp:
    """Wrap ``app`` in ``middleware`` (first = outermost) and the error guard."""
    for item in reversed(middleware):
        app = item.build(app)
    return ServerErrorGuard(app, own_scope, send_error)
