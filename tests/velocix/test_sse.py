"""EventSourceResponse: framing, keep-alive pings, disconnects, generator clean-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import pytest

from velocix.sse import EventSourceResponse, ServerSentEvent, format_event

pytestmark = pytest.mark.anyio


class Point(msgspec.Struct):
    x: int
    y: int


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"data": "hello"}, b"data: hello\n\n", id="simple"),
        pytest.param(
            {"data": "a\nb\r\nc\rd"}, b"data: a\ndata: b\ndata: c\ndata: d\n\n", id="line-breaks"
        ),
        pytest.param({"data": "line\n"}, b"data: line\ndata: \n\n", id="trailing-newline"),
        pytest.param({"data": b"bytes"}, b"data: bytes\n\n", id="bytes"),
        pytest.param({"data": {"a": [1, 2]}}, b'data: {"a":[1,2]}\n\n', id="json"),
        pytest.param({"data": Point(1, 2)}, b'data: {"x":1,"y":2}\n\n', id="struct"),
        pytest.param(
            {"data": "x", "event": "tick", "id": "7", "retry": 1500},
            b"id: 7\nevent: tick\nretry: 1500\ndata: x\n\n",
            id="all-fields",
        ),
        pytest.param({"comment": "one\ntwo"}, b": one\n: two\n\n", id="comment"),
        pytest.param({"data": "é"}, "data: é\n\n".encode(), id="utf8"),
    ],
)
def test_format_event(kwargs: dict[str, Any], expected: bytes) -> None:
    assert format_event(**kwargs) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"id": "1\n2"}, id="id-lf"),
        pytest.param({"id": "1\r"}, id="id-cr"),
        pytest.param({"id": "a\0"}, id="id-nul"),
        pytest.param({"event": "a\nevent: b"}, id="event-injection"),
        pytest.param({"retry": -1}, id="negative-retry"),
        pytest.param({"retry": "5"}, id="retry-str"),
    ],
)
def test_bad_fields_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="SSE"):
        ServerSentEvent("data", **kwargs)


class Wire:
    """Records what a response sends; ``receive`` reports a disconnect once asked to."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.disconnected = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    async def receive(self) -> dict[str, Any]:
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


SCOPE = {"type": "http", "method": "GET", "path": "/events", "headers": []}


async def test_stream_of_mixed_items_and_headers() -> None:
    async def events() -> AsyncIterator[Any]:
        yield ServerSentEvent("first", id="1")
        yield {"data": "two\nlines", "event": "multi"}
        yield "plain"

    wire = Wire()
    await EventSourceResponse(events(), ping=None)(SCOPE, wire.receive, wire.send)
    start = wire.messages[0]
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert headers[b"cache-control"] == b"no-store"
    assert b"content-length" not in headers
    assert wire.body == (
        b"id: 1\ndata: first\n\nevent: multi\ndata: two\ndata: lines\n\ndata: plain\n\n"
    )
    assert wire.messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_sync_iterable_is_streamed_off_the_loop() -> None:
    def events() -> Iterator[str]:
        yield from ("a", "b")

    wire = Wire()
    await EventSourceResponse(events(), ping=None)(SCOPE, wire.receive, wire.send)
    assert wire.body == b"data: a\n\ndata: b\n\n"


async def test_keep_alive_ping_is_sent_while_idle() -> None:
    pinged = asyncio.Event()

    class PingWire(Wire):
        async def send(self, message: dict[str, Any]) -> None:
            await super().send(message)
            if message.get("body") == b": ping\n\n":
                pinged.set()

    async def events() -> AsyncIterator[str]:
        await pinged.wait()  # the stream stays idle until a keep-alive went out
        yield "after-ping"

    wire = PingWire()
    await EventSourceResponse(events(), ping=0.01)(SCOPE, wire.receive, wire.send)
    assert wire.body.startswith(b": ping\n\n")
    assert wire.body.endswith(b"data: after-ping\n\n")


async def test_client_disconnect_stops_and_closes_the_generator() -> None:
    closed = asyncio.Event()
    wire = Wire()

    async def endless() -> AsyncIterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
                if n == 3:
                    wire.disconnected.set()
                await asyncio.sleep(0)
        finally:
            closed.set()

    await asyncio.wait_for(
        EventSourceResponse(endless(), ping=None)(SCOPE, wire.receive, wire.send), timeout=5
    )
    assert closed.is_set()
    assert wire.body.startswith(b"data: 0\n\ndata: 1\n\ndata: 2\n\n")


async def test_send_failure_ends_the_stream_quietly() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[str]:
        try:
            while True:
                yield "x"
        finally:
            closed.set()

    class BrokenWire(Wire):
        async def send(self, message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                raise OSError("client gone")
            await super().send(message)

    wire = BrokenWire()
    await asyncio.wait_for(
        EventSourceResponse(endless(), ping=None)(SCOPE, wire.receive, wire.send), timeout=5
    )
    assert closed.is_set()


async def test_generator_errors_propagate() -> None:
    async def failing() -> AsyncIterator[str]:
        yield "ok"
        raise RuntimeError("boom")

    wire = Wire()
    with pytest.raises(RuntimeError, match="boom"):
        await EventSourceResponse(failing(), ping=None)(SCOPE, wire.receive, wire.send)


async def test_head_sends_headers_only() -> None:
    async def events() -> AsyncIterator[str]:
        raise AssertionError("must not be iterated")
        yield "never"  # pragma: no cover

    wire = Wire()
    await EventSourceResponse(events())({**SCOPE, "method": "HEAD"}, wire.receive, wire.send)
    assert wire.body == b""
    assert wire.messages[0]["status"] == 200


def test_bad_ping_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="ping"):
        EventSourceResponse([], ping=0)
