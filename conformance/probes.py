"""Raw ASGI probes of server behaviour, served under ``/conformance/raw/`` beside any target.

They bypass the framework (and the validator): several deliberately send what a server must
reject or repair (an invalid event, a header with CR/LF, a Transfer-Encoding header), and the
others observe what only a raw application can see (what ``receive()`` returns after the
response, whether ``send()`` raises once the client is gone). What a probe observed is kept in
:data:`bench.frameworks._shared.conformance.PROBES` and read back with
``GET /conformance/raw/result?id=``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from bench.frameworks._shared import conformance as support
from conformance.validator.wrapper import Receive, Scope, Send

PREFIX = "/conformance/raw/"
Probe = Callable[[Scope, Receive, Send, dict[str, str]], Awaitable[None]]
_FLUSH_ACKS: dict[str, asyncio.Event] = {}


async def respond(
    send: Send, body: bytes, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A complete response with Content-Length."""
    fields = [(b"content-type", b"text/plain"), *(headers or [])]
    fields.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> tuple[bytes, int]:
    """The whole request body and the number of http.request events it took."""
    chunks: list[bytes] = []
    events = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), events
        events += 1
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), events


async def result(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """GET result?id=: what a probe recorded, as JSON (404 if it never ran)."""
    found = support.probe_result(query.get("id", ""))
    body = json.dumps(found).encode()
    await respond(send, body, 200 if found is not None else 404, [(b"x-content", b"json")])


async def echo(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Echo the body; x-request-events says how many http.request events carried it."""
    body, events = await read_body(receive)
    await respond(send, body, headers=[(b"x-request-events", str(events).encode())])


async def receive_after_response(
    scope: Scope, receive: Receive, send: Send, query: dict[str, str]
) -> None:
    """Respond, then call receive() twice: both must return http.disconnect (asgiref #334)."""
    record = support.probe_started(query.get("id", ""), "receive-after-response")
    await read_body(receive)
    await respond(send, b"ok")
    for _ in range(2):
        try:
            message = await asyncio.wait_for(receive(), 3.0)
            record["events"].append(message.get("type"))
        except TimeoutError:
            record["events"].append("timeout")
    record["state"] = "done"


async def disconnect(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Stream slowly until the client leaves; record how the app learned of it."""
    record = support.probe_started(query.get("id", ""), "disconnect")
    await read_body(receive)

    async def watch() -> None:
        message = await receive()
        if message["type"] == "http.disconnect":
            record["disconnect_seen"] = round(time.monotonic() - record["started"], 3)

    watcher = asyncio.ensure_future(watch())
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")],
            }
        )
        for _ in range(support.PROBE_CHUNKS):
            if watcher.done():  # http.disconnect: a pre-2.4 server's only signal
                record["state"] = "stopped"
                return
            await send(
                {"type": "http.response.body", "body": support.PROBE_CHUNK, "more_body": True}
            )
            record["sent"] += 1
            await asyncio.sleep(support.PROBE_INTERVAL)
        record["state"] = "completed"
        await send({"type": "http.response.body", "body": b""})
    except OSError as exc:
        record["state"] = "stopped"
        record["send_raised"] = type(exc).__name__
        record["send_raised_mro"] = [cls.__name__ for cls in type(exc).__mro__]
    finally:
        await asyncio.sleep(0.2)  # Give the watcher a chance to see http.disconnect.
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def invalid_send(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Send a start event with str headers: the server's send() should raise (asgi.rst)."""
    record = support.probe_started(query.get("id", ""), "invalid-send")
    await read_body(receive)
    try:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [("content-length", "2")]}
        )
        record["raised"] = None
    except Exception as exc:
        record["raised"] = type(exc).__name__
    record["state"] = "done"
    with contextlib.suppress(Exception):
        await respond(send, b"ok")


async def extra_keys(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Events with extra keys must be accepted (asgi.rst "Error Handling")."""
    record = support.probe_started(query.get("id", ""), "extra-keys")
    await read_body(receive)
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "x_future_key": 1,
                "headers": [(b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok", "x_future_key": True})
        record["raised"] = None
    except Exception as exc:
        record["raised"] = type(exc).__name__
    record["state"] = "done"


async def crash_before_start(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Raise before responding: the server answers 500."""
    await read_body(receive)
    raise RuntimeError("probe crashed before http.response.start (conformance)")


async def crash_after_start(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """Raise mid-body: the server must not present the response as complete."""
    await read_body(receive)
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]}
    )
    await send({"type": "http.response.body", "body": b"01234", "more_body": True})
    raise RuntimeError("probe crashed mid-body (conformance)")


async def te_header(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """The app sets Transfer-Encoding: the server must ignore it and frame the body itself."""
    await read_body(receive)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"transfer-encoding", b"chunked"), (b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello", "more_body": True})
    await send({"type": "http.response.body", "body": b" world"})


async def stream(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Three chunks and no Content-Length: chunked on HTTP/1.1, close-delimited on 1.0."""
    await read_body(receive)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    for part in (b"abc", b"def", b"ghi"):
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def header_injection(scope: Scope, receive: Receive, send: Send, q: dict[str, str]) -> None:
    """A header value with CR LF: it must never reach the wire as a second field."""
    await read_body(receive)
    with contextlib.suppress(Exception):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"x-probe", b"1\r\nx-injected: yes"), (b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})


async def flush(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Send one chunk, then wait for the client to acknowledge it on a second connection."""
    probe_id = query.get("id", "")
    record = support.probe_started(probe_id, "flush")
    acked = _FLUSH_ACKS.setdefault(probe_id, asyncio.Event())
    await read_body(receive)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"first;", "more_body": True})
    try:
        await asyncio.wait_for(acked.wait(), 3.0)
        record["state"] = "acked"
    except TimeoutError:
        record["state"] = "not-acked"
    await send({"type": "http.response.body", "body": b"second"})


async def flush_ack(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """The client saw the first chunk of a flush probe."""
    await read_body(receive)
    _FLUSH_ACKS.setdefault(query.get("id", ""), asyncio.Event()).set()
    await respond(send, b"ack")


async def trailers(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Send trailers when the server offers the extension; otherwise a plain response."""
    await read_body(receive)
    offered = "http.response.trailers" in (scope.get("extensions") or {})
    if not offered:
        await respond(send, b"no-trailers-extension")
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "trailers": True,
            "headers": [(b"content-type", b"text/plain"), (b"trailer", b"x-checksum")],
        }
    )
    await send({"type": "http.response.body", "body": b"body"})
    await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")]})


async def early_hint(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Send a 103 early hint when offered (before the final response)."""
    await read_body(receive)
    if "http.response.early_hint" in (scope.get("extensions") or {}):
        await send({"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload"]})
        await respond(send, b"hinted")
        return
    await respond(send, b"no-early-hint-extension")


async def sleep(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Answer after ``s`` seconds (an in-flight request for the shutdown check)."""
    await read_body(receive)
    await asyncio.sleep(min(float(query.get("s", "1")), 5.0))
    await respond(send, b"slept")


async def extensions(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """The extensions and spec_version this server advertises on an http scope."""
    await read_body(receive)
    body = json.dumps(
        {"extensions": sorted((scope.get("extensions") or {}).keys()), "asgi": scope.get("asgi")}
    ).encode()
    await respond(send, body)


async def head_body(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Content-Length 5 and five body bytes even for HEAD: the server must drop the body."""
    await read_body(receive)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello"})


async def body_record(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Record every receive() event (type, body size, more_body) until the body ends or the
    client leaves: did the app get a body that the client never finished sending?"""
    record = support.probe_started(query.get("id", ""), "body-record")
    record["events"] = []
    while True:
        message = await receive()
        kind = message.get("type")
        size = len(message.get("body", b""))
        more = bool(message.get("more_body", False))
        record["events"].append([kind, size, more])
        if kind != "http.request" or not more:
            break
    record["state"] = "done"
    if record["events"][-1][0] == "http.request":
        await respond(send, b"received")


# --- WebSocket probes (conformance.served routes websocket scopes under PREFIX/ws/ here) --------
async def ws_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, echo every message, return on disconnect."""
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        await send(
            {"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")}
        )


async def ws_refuse(scope: Scope, receive: Receive, send: Send) -> None:
    """Close before accepting: the server must answer 403 and close the connection."""
    await receive()
    await send({"type": "websocket.close", "code": 1000})


WS_PROBES = {"echo": ws_echo, "refuse": ws_refuse}


def ws_probe_for(scope: Scope) -> Any:
    """The WebSocket probe a path names (``/conformance/raw/ws/<name>``), if any."""
    path: str = scope.get("path", "")
    if not path.startswith(PREFIX + "ws/"):
        return None
    return WS_PROBES.get(path[len(PREFIX) + 3 :])


#: Lifespan progress of this process, kept by conformance.served (read by "lifespan").
LIFESPAN: dict[str, Any] = {"startup_complete": False}
STATE_VALUE = "conformance.value"
STATE_SHARED = "conformance.shared"


async def lifespan(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Whether lifespan startup had completed when this request was processed."""
    await read_body(receive)
    await respond(send, json.dumps(LIFESPAN).encode())


async def state(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Read (and with ``step=write`` change) the lifespan state of this request's scope."""
    await read_body(receive)
    namespace = scope.get("state")
    if not isinstance(namespace, dict):
        await respond(send, b'{"state": null}')
        return
    if query.get("step") == "write":
        namespace[STATE_VALUE] = "changed-by-request"  # must not leak: the copy is per request
        namespace[STATE_SHARED]["hits"] += 1  # must be seen: the copy is shallow
    shared = namespace.get(STATE_SHARED) or {}
    body = {"state": True, "value": namespace.get(STATE_VALUE), "hits": shared.get("hits")}
    await respond(send, json.dumps(body).encode())


PROBES: dict[str, Probe] = {
    "lifespan": lifespan,
    "state": state,
    "head-body": head_body,
    "result": result,
    "echo": echo,
    "receive-after-response": receive_after_response,
    "disconnect": disconnect,
    "invalid-send": invalid_send,
    "extra-keys": extra_keys,
    "crash-before-start": crash_before_start,
    "crash-after-start": crash_after_start,
    "te-header": te_header,
    "stream": stream,
    "header-injection": header_injection,
    "flush": flush,
    "flush-ack": flush_ack,
    "trailers": trailers,
    "early-hint": early_hint,
    "sleep": sleep,
    "extensions": extensions,
    "body-record": body_record,
}


def probe_for(scope: Scope) -> Probe | None:
    """The probe a request path names, if any (``root_path`` prefix tolerated)."""
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    if not path.startswith(PREFIX):
        return None
    return PROBES.get(path[len(PREFIX) :])


def query_of(scope: Scope) -> dict[str, str]:
    """The query string as a dict."""
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


async def not_found(scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
    """Unknown probe name."""
    await read_body(receive)
    await respond(send, b"unknown probe", 404)
