"""The ASGI lifespan protocol: startup and shutdown of the application.

``Velocix(lifespan=...)`` takes a function returning an async context manager, called with the
app; what it yields, if a mapping, is merged into the lifespan ``state`` the server copies into
every request (``request.state.db``)::

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with create_pool() as pool:
            yield {"pool": pool}

``on_startup``/``on_shutdown`` callables (sync or async) run before entering / after leaving
that context. A failure during startup is reported to the server as ``lifespan.startup.failed``
with the exception's message (the server then refuses to start), a failure during shutdown as
``lifespan.shutdown.failed``; both are logged on ``velocix.error`` with the traceback.

A server that does not run the lifespan protocol is fine: the middleware stack is then built at
the first request, and startup/shutdown handlers simply do not run.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

__all__ = ["Lifespan", "LifespanContext", "run_lifespan"]

LifespanContext = Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]
Handler = Callable[[], Any]

logger = logging.getLogger("velocix.error")


async def _call(handler: Handler) -> None:
    result = handler()
    if inspect.isawaitable(result):
        await result


class Lifespan:
    """Startup/shutdown handlers and the lifespan context of one application."""

    def __init__(
        self,
        context: LifespanContext | None = None,
        on_startup: Sequence[Handler] | None = None,
        on_shutdown: Sequence[Handler] | None = None,
    ) -> None:
        if context is not None and not callable(context):
            raise TypeError(
                "lifespan= takes a function returning an async context manager"
                f" (e.g. decorated with @contextlib.asynccontextmanager), got {context!r}"
            )
        self.context = context
        self.on_startup: list[Handler] = list(on_startup or ())
        self.on_shutdown: list[Handler] = list(on_shutdown or ())

    @contextlib.asynccontextmanager
    async def run(self, app: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        """Run startup handlers, enter the context, yield its state; the reverse on exit."""
        for handler in self.on_startup:
            await _call(handler)
        state: Any = None
        if self.context is None:
            yield None
        else:
            manager = self.context(app)
            if not hasattr(manager, "__aenter__"):
                close = getattr(manager, "close", None)
                if inspect.iscoroutine(manager) and close is not None:
                    close()  # an `async def lifespan` without the decorator: don't leak it
                raise TypeError(
                    "lifespan(app) must return an async context manager, got"
                    f" {type(manager).__name__}; decorate it with @contextlib.asynccontextmanager"
                )
            async with manager as state:
                yield state
        for handler in self.on_shutdown:
            await _call(handler)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def run_lifespan(
    app: Any,
    lifespan: Lifespan,
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
    on_startup: Callable[[], object],
) -> None:
    """Serve one lifespan scope: ``startup`` -> complete/failed, ``shutdown`` -> complete/failed.

    ``on_startup`` runs first (the application builds its middleware stack there).
    """
    message = await receive()
    if message["type"] != "lifespan.startup":
        raise RuntimeError(f"Expected ASGI message 'lifespan.startup', but got {message['type']!r}")
    started = False
    try:
        on_startup()
        async with lifespan.run(app) as state:
            if state is not None:
                _merge_state(scope, state)
            await send({"type": "lifespan.startup.complete"})
            started = True
            message = await receive()
            if message["type"] != "lifespan.shutdown":
                raise RuntimeError(
                    f"Expected ASGI message 'lifespan.shutdown', but got {message['type']!r}"
                )
    except Exception as exc:
        phase = "shutdown" if started else "startup"
        logger.error("Application %s failed", phase, exc_info=exc)
        await send({"type": f"lifespan.{phase}.failed", "message": _describe(exc)})
        return
    await send({"type": "lifespan.shutdown.complete"})


def _merge_state(scope: dict[str, Any], state: Any) -> None:
    if not isinstance(state, Mapping):
        raise TypeError(
            f"The lifespan context yielded a {type(state).__name__}; yield a mapping (merged"
            " into request.state) or nothing"
        )
    if "state" not in scope:
        raise RuntimeError(
            "The server does not support lifespan state (no 'state' in the lifespan scope);"
            " store shared objects on app.state instead"
        )
    scope["state"].update(state)
