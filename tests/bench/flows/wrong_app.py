"""A deliberately wrong app for the flows' tests: the raw app with some answers corrupted.

Served by a real server (``tests.bench.flows.wrong_app:app``): ``/db/{id}`` answers
``randomNumber + 1``, ``/records`` drops its last record, ``POST /items`` fails with 503 and
the WebSocket echo swaps text and binary frames. Everything else — ``/users/{id}`` and
``/plaintext`` among it — stays correct, so the test can tell that only wrong answers fail.
All statuses stay 200 where the corruption is in the body: a check of the status alone
would count them as successes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from bench.frameworks.raw.app import app as raw_app

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]


def corrupt(path: str, body: bytes) -> bytes:
    """The wrong body for ``path`` (unchanged for the paths kept correct)."""
    if path.startswith("/db/"):
        row = orjson.loads(body)
        return orjson.dumps({**row, "randomNumber": row["randomNumber"] + 1})
    if path == "/records":
        return orjson.dumps(orjson.loads(body)[:-1])
    return body


async def http(scope: Message, receive: Receive, send: Send) -> None:
    if scope["method"] == "POST" and scope["path"] == "/items":
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"11")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": b"unavailable"})
        return
    start: Message = {}
    chunks: list[bytes] = []

    async def buffer(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        if start["status"] == 200:
            body = corrupt(scope["path"], body)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    await raw_app(scope, receive, buffer)


async def websocket(scope: Message, receive: Receive, send: Send) -> None:
    async def swap(message: Message) -> None:
        if message["type"] == "websocket.send":
            if message.get("text") is not None:
                message = {"type": "websocket.send", "bytes": message["text"].encode()}
            else:
                message = {"type": "websocket.send", "text": message["bytes"].decode("latin-1")}
        await send(message)

    await raw_app(scope, receive, swap)


async def app(scope: Message, receive: Receive, send: Send) -> None:
    """The raw app, wrong on purpose (see the module docstring)."""
    if scope["type"] == "http":
        await http(scope, receive, send)
    elif scope["type"] == "websocket":
        await websocket(scope, receive, send)
    else:
        await raw_app(scope, receive, send)
