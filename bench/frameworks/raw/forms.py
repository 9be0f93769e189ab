"""The micro benchmark's form app, hand-written: read the body, ``parse_qsl`` with a field
limit, validate, encode (``POST /form`` urlencoded: ``name``, ``age`` int, repeated ``tags``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson

from bench.frameworks._shared.contract import FORM_MAX_FIELDS as MAX_FIELDS

Message = dict[str, Any]


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """Hand-written: read the body, ``parse_qsl`` with a field limit, validate, encode."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/form":
        await _send(send, 404, b'{"detail":"Not Found"}')
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    try:
        pairs = parse_qsl(b"".join(chunks).decode(), max_num_fields=MAX_FIELDS, strict_parsing=True)
        fields: dict[str, Any] = {}
        tags = []
        for key, value in pairs:
            if key == "tags":
                tags.append(value)
            else:
                fields[key] = value
        body = orjson.dumps({"name": fields["name"], "age": int(fields["age"]), "tags": tags})
    except (KeyError, ValueError):
        await _send(send, 422, b'{"detail":"Invalid form"}')
        return
    await _send(send, 200, body)


async def _send(send: Callable[[Message], Awaitable[None]], status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
