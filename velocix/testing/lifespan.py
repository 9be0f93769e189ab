"""The lifespan protocol, driven by the test client."""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import Any

from velocix.testing.asgi_types import ASGI_LIFESPAN, ASGIApp, Message
from velocix.testing.loop import settle
from velocix.testing.protocol import message_type, unexpected

logger = logging.getLogger("velocix.testing")


class _Returned(enum.Enum):
    """Marker: the application's lifespan call returned or raised."""

    RETURNED = "returned"


class Lifespan:
    """One lifespan cycle of an application; both methods run on the client's loop.

    Startup raises ``RuntimeError`` carrying the application's message when it sends
    ``lifespan.startup.failed``. As the spec asks of servers, an application that
    raises during startup, returns without answering, or answers ``lifespan.startup``
    with a non-lifespan message is served without lifespan events: plenty of raw ASGI
    apps treat every scope as HTTP. An exception raised after the application took
    ``lifespan.startup`` is logged with its traceback (like uvicorn's ``lifespan="auto"``),
    so pytest shows it if the test then fails. Failures during shutdown are raised.
    """

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self._app = app
        self._state = state
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message | _Returned] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._received = False
        #: Whether startup completed, so shutdown is owed.
        self.started = False

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for the application's answer."""
        scope = {"type": "lifespan", "asgi": dict(ASGI_LIFESPAN), "state": self._state}
        self._task = asyncio.create_task(self._run(scope))
        await self._to_app.put({"type": "lifespan.startup"})
        reply = await self._from_app.get()
        if reply is _Returned.RETURNED:
            await self._startup_returned()
            return
        kind = message_type(reply)
        if kind == "lifespan.startup.complete":
            self.started = True
        elif kind == "lifespan.startup.failed":
            await self._failed("startup", reply)
        elif not kind.startswith("lifespan."):
            # It answered as if the scope were HTTP: an app without lifespan support.
            await self._cancel()
        else:
            await self._cancel()
            raise unexpected(kind, ["lifespan.startup.complete", "lifespan.startup.failed"])

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the application to finish cleaning up."""
        if not self.started:
            return
        self.started = False
        await self._to_app.put({"type": "lifespan.shutdown"})
        reply = await self._from_app.get()
        if reply is _Returned.RETURNED:
            self._raise_error()  # returning without a reply is allowed; raising is not
            return
        kind = message_type(reply)
        if kind == "lifespan.shutdown.failed":
            await self._failed("shutdown", reply)
        if kind != "lifespan.shutdown.complete":
            await self._cancel()
            raise unexpected(kind, ["lifespan.shutdown.complete", "lifespan.shutdown.failed"])
        await self._stop()
        self._raise_error()

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self._app(scope, self._receive, self._send)
        finally:
            self._from_app.put_nowait(_Returned.RETURNED)

    async def _receive(self) -> Message:
        self._received = True
        return await self._to_app.get()

    async def _send(self, message: Message) -> None:
        message_type(message)  # a malformed message fails in the application, at its source
        await self._from_app.put(message)

    async def _startup_returned(self) -> None:
        assert self._task is not None
        await asyncio.wait({self._task})
        error = self._error()  # also marks the exception as retrieved
        if error is not None and self._received:
            # Most often an app that treats every scope as HTTP, but possibly a real
            # startup crash: log it with its traceback (pytest shows it on failure).
            logger.error(
                "The application raised while handling 'lifespan.startup'; serving it "
                "without lifespan events (send 'lifespan.startup.failed' to fail instead).",
                exc_info=error,
            )

    async def _failed(self, phase: str, reply: Message) -> None:
        await self._stop()
        message = reply.get("message") or ""
        detail = f": {message}" if message else ""
        error = RuntimeError(f"Lifespan {phase} failed{detail}")
        raise error from self._error()

    async def _stop(self) -> None:
        if self._task is not None:
            await settle(self._task)

    async def _cancel(self) -> None:
        # After a protocol error the application is waiting for a message that will
        # never come: don't make the test wait for the settle grace period.
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})

    def _error(self) -> BaseException | None:
        task = self._task
        if task is None or not task.done() or task.cancelled():
            return None
        return task.exception()

    def _raise_error(self) -> None:
        error = self._error()
        if error is not None:
            raise error
