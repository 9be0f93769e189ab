"""The minimal baseline: the five core micro cases as the least code that answers them.

One hand-written ASGI callable, if/else routing on the path, orjson for JSON, a msgspec
decoder for the validated body - what someone writes when they want the fastest possible
endpoint and nothing else. It is the floor the framework rows are compared with (``x min``),
beside :mod:`bench.frameworks.raw.app`, which does the full contract's work (a route table,
HEAD, 405s, bounds checks) and is the ``x raw`` baseline. Bad input still gets a 4xx, never a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import orjson

__all__ = ["CASES_SERVED", "app"]

CASES_SERVED = frozenset({"plaintext", "json", "path", "query", "body"})

Message = dict[str, Any]


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


_ITEM = msgspec.json.Decoder(Item)
_ENCODE = msgspec.json.encode
_JSON = (b"content-type", b"application/json")
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_HELLO = b"Hello, World!"


async def _send(
    send: Callable[[Message], Awaitable[None]], status: int, kind: Any, body: bytes
) -> None:
    headers = [kind, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Any, receive: Any, send: Any) -> None:
    """``GET /plaintext``, ``/json``, ``/users/{int}``, ``/search?q&page&size``, ``POST /items``."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/plaintext":
        await _send(send, 200, _TEXT, _HELLO)
    elif path == "/json":
        await _send(send, 200, _JSON, orjson.dumps({"message": "Hello, World!"}))
    elif path.startswith("/users/"):
        raw = path[7:]
        if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
            await _send(send, 422, _JSON, b'{"detail":"user_id must be an integer"}')
            return
        await _send(send, 200, _JSON, orjson.dumps({"user_id": int(raw)}))
    elif path == "/search":
        await _search(scope, send)
    elif path == "/items" and scope["method"] == "POST":
        message = await receive()
        body = message.get("body", b"")
        while message.get("more_body", False):
            message = await receive()
            body += message.get("body", b"")
        try:
            item = _ITEM.decode(body)
        except msgspec.DecodeError as exc:
            await _send(send, 422, _JSON, orjson.dumps({"detail": str(exc)}))
            return
        await _send(send, 200, _JSON, _ENCODE(item))
    else:
        await _send(send, 404, _JSON, b'{"detail":"Not Found"}')


async def _search(scope: Any, send: Any) -> None:
    query = dict(pair.partition("=")[::2] for pair in scope["query_string"].decode().split("&"))
    q, page, size = query.get("q"), query.get("page", "1"), query.get("size", "20")
    if q is None or not (page.isdigit() and size.isdigit()):
        await _send(send, 422, _JSON, b'{"detail":"q is required, page and size are integers"}')
        return
    await _send(send, 200, _JSON, orjson.dumps({"q": q, "page": int(page), "size": int(size)}))
