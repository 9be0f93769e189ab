"""Server-Sent Events (HTML Living Standard, "Server-sent events" §9.2).

:class:`EventSourceResponse` streams events from an (async or sync) iterable::

    @app.get("/ticks")
    async def ticks() -> EventSourceResponse:
        async def events():
            for n in itertools.count():
                yield ServerSentEvent({"n": n}, event="tick", id=str(n))
                await asyncio.sleep(1)
        return EventSourceResponse(events(), ping=15)

Framing: data with line breaks becomes one ``data:`` line per line (so a newline can never end
an event early); ``id``/``event`` containing CR, LF or NUL are refused with ``ValueError``.
Every ``ping`` seconds a comment line keeps proxies from closing an idle stream. When the
client disconnects, the stream stops and the generator is closed (its ``finally`` runs).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any

from velocix.core.background import BackgroundTask
from velocix.core.concurrency import iterate_in_threadpool
from velocix.core.response import Response, json_body
from velocix.http.datastructures import Scope

__all__ = ["EventSourceResponse", "ServerSentEvent", "format_event"]

Receive = Any
Send = Any

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FORBIDDEN_IN_FIELD = re.compile(r"[\r\n\0]")
_NO_BUFFERING_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}


def _lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


def _check_field(name: str, value: str) -> str:
    if _FORBIDDEN_IN_FIELD.search(value):
        raise ValueError(f"SSE {name} must not contain CR, LF or NUL: {value!r}")
    return value


def format_event(
    data: Any = None,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """Encode one event as UTF-8 bytes, ending with the blank line that dispatches it.

    ``data``: ``str`` is sent as is, ``bytes`` decoded as UTF-8, anything else as JSON.
    ``retry``: reconnection time in milliseconds.
    """
    parts: list[str] = []
    if comment is not None:
        parts.extend(f": {line}\n" for line in _lines(comment))
    if id is not None:
        parts.append(f"id: {_check_field('id', id)}\n")
    if event is not None:
        parts.append(f"event: {_check_field('event', event)}\n")
    if retry is not None:
        if not isinstance(retry, int) or isinstance(retry, bool) or retry < 0:
            raise ValueError(f"SSE retry must be a non-negative integer (ms), got {retry!r}")
        parts.append(f"retry: {retry}\n")
    if data is not None:
        if isinstance(data, bytes):
            text = data.decode("utf-8")
        elif isinstance(data, str):
            text = data
        else:
            text = json_body(data).decode("utf-8")
        parts.extend(f"data: {line}\n" for line in _lines(text))
    parts.append("\n")
    return "".join(parts).encode("utf-8")


class ServerSentEvent:
    """One event: ``data`` plus the optional ``event``, ``id``, ``retry`` and ``comment``.

    Fields are validated at construction, so a bad ``id`` fails where it is made.
    """

    __slots__ = ("encoded",)

    def __init__(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        self.encoded = format_event(data, event=event, id=id, retry=retry, comment=comment)

    def __bytes__(self) -> bytes:
        return self.encoded


def encode_item(item: Any) -> bytes:
    """Encode what an event stream yields: a :class:`ServerSentEvent`, a mapping with the
    event fields (``data``, ``event``, ``id``, ``retry``, ``comment``), or plain data."""
    if isinstance(item, ServerSentEvent):
        return item.encoded
    if isinstance(item, Mapping) and item.keys() <= {"data", "event", "id", "retry", "comment"}:
        return format_event(**item)
    return format_event(item)


class EventSourceResponse(Response):
    """A ``text/event-stream`` response fed by an async or sync iterable of events.

    ``ping``: seconds between keep-alive comments (``None`` disables them).
    ``send_timeout``: give up on a client that has not taken a message within this many
    seconds (``None``: wait forever).
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterable[Any] | Iterable[Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        ping: float | None = 15.0,
        send_timeout: float | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if ping is not None and ping <= 0:
            raise ValueError("EventSourceResponse: ping must be > 0 seconds or None")
        self.content = content
        self.ping = ping
        self.send_timeout = send_timeout
        super().__init__(
            None, status_code, {**_NO_BUFFERING_HEADERS, **(headers or {})}, background=background
        )
        # A stream has no length known up front.
        self.raw_headers = [pair for pair in self.raw_headers if pair[0] != b"content-length"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
        else:
            await _EventStream(self, receive, send).run()
        if self.background is not None:
            await self.background()


class _EventStream:
    """One response being streamed: the event pump, the pinger and the disconnect watcher."""

    def __init__(self, response: EventSourceResponse, receive: Receive, send: Send) -> None:
        self.response = response
        self.receive = receive
        self.raw_send = send
        self.lock = asyncio.Lock()
        content = response.content
        self.iterator: AsyncIterator[Any] = (
            aiter(content) if isinstance(content, AsyncIterable) else iterate_in_threadpool(content)
        )

    async def send_body(self, body: bytes, more_body: bool = True) -> None:
        # The pinger and the pump share the connection: one message at a time.
        async with self.lock, asyncio.timeout(self.response.send_timeout):
            await self.raw_send(
                {"type": "http.response.body", "body": body, "more_body": more_body}
            )

    async def pump(self) -> None:
        async for item in self.iterator:
            await self.send_body(encode_item(item))
        await self.send_body(b"", more_body=False)

    async def pinger(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.send_body(b": ping\n\n")

    async def wait_for_disconnect(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass

    async def run(self) -> None:
        tasks = [
            asyncio.ensure_future(self.pump()),
            asyncio.ensure_future(self.wait_for_disconnect()),
        ]
        if self.response.ping is not None:
            tasks.append(asyncio.ensure_future(self.pinger(self.response.ping)))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            aclose = getattr(self.iterator, "aclose", None)
            if aclose is not None:
                await aclose()  # the generator's ``finally`` runs even when the client left
        for task in done:
            error = task.exception()
            # OSError/TimeoutError: the client went away or stalled (ASGI 2.4) -- not an app error.
            if error is not None and not isinstance(error, OSError | TimeoutError):
                raise error
