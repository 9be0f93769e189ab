"""Deliberately broken ASGI applications, each breaking one rule of the validator.

They test the checker (tests/conformance/test_broken_apps.py) and feed the asgion
cross-check, which compares the two validators' verdicts on the same faults. ``drive`` says
how the in-process server exercises the app; ``rule`` is the violation it must produce.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from conformance.inprocess import (
    http_call,
    http_scope,
    lifespan_cycle,
    websocket_scope,
    websocket_session,
)
from conformance.routes import HTTPRoute, Routes, WebSocketRoute
from conformance.validator.wrapper import ASGIApp, Message, Receive, Scope, Send

Drive = Literal["GET", "HEAD", "websocket", "lifespan", "unknown"]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Extensions = dict[str, dict[str, Any]]
PATHSEND: Extensions = {"http.response.pathsend": {}}
TRAILERS: Extensions = {"http.response.trailers": {}}
DENIAL: Extensions = {"websocket.http.response": {}}


@dataclass(frozen=True)
class BrokenApp:
    """One faulty application and the rule it must trip."""

    id: str
    rule: str
    description: str
    app: App
    drive: Drive = "GET"
    extensions: dict[str, dict[str, Any]] | None = None
    subprotocols: tuple[str, ...] = ()


def _start(status: Any = 200, headers: Any = None, **extra: Any) -> Message:
    return {"type": "http.response.start", "status": status, "headers": headers or [], **extra}


def _body(body: Any = b"", more: bool = False) -> Message:
    return {"type": "http.response.body", "body": body, "more_body": more}


def _http(*messages: Message) -> App:
    """An HTTP app that reads the request and sends ``messages`` verbatim."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        for message in messages:
            await send(message)

    return app


def _ws(*messages: Message) -> App:
    """A WebSocket app that takes websocket.connect then sends ``messages`` verbatim."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        for message in messages:
            await send(message)

    return app


def _lifespan(*replies: tuple[str | None, Message]) -> App:
    """A lifespan app: for each (event to await or None, reply) pair, optionally receive."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for wait_for, reply in replies:
            if wait_for is not None:
                await receive()
            await send(reply)

    return app


async def _mutating(scope: Scope, receive: Receive, send: Send) -> None:
    scope["app_private"] = True  # What a framework without a scope copy does.
    await receive()
    await send(_start(headers=[(b"content-length", b"2")]))
    await send(_body(b"ok"))


async def _accepts_unknown(scope: Scope, receive: Receive, send: Send) -> None:
    return None  # Silently "handles" any scope type.


async def _returns_early(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()


def _a_file() -> str:
    handle, path = tempfile.mkstemp(prefix="conformance-", suffix=".txt")
    os.write(handle, b"hello")
    os.close(handle)
    return path


_FILE = _a_file()
_ACCEPT: Message = {"type": "websocket.accept"}
_CLEN5 = [(b"content-length", b"5")]

BROKEN_APPS: tuple[BrokenApp, ...] = (
    BrokenApp(
        "body-before-start",
        "http.body.before-start",
        "body before response start",
        _http(_body(b"hello")),
    ),
    BrokenApp(
        "duplicate-start",
        "http.start.duplicate",
        "two http.response.start",
        _http(_start(headers=_CLEN5), _start(headers=_CLEN5), _body(b"hello")),
    ),
    BrokenApp(
        "content-length-short",
        "http.content-length.mismatch",
        "Content-Length 10 but 5 bytes sent",
        _http(_start(headers=[(b"content-length", b"10")]), _body(b"hello")),
    ),
    BrokenApp(
        "content-length-long",
        "http.content-length.mismatch",
        "Content-Length 2 but 5 bytes sent",
        _http(_start(headers=[(b"content-length", b"2")]), _body(b"hello")),
    ),
    BrokenApp(
        "content-length-invalid",
        "http.content-length.invalid",
        "Content-Length '+5'",
        _http(_start(headers=[(b"content-length", b"+5")]), _body(b"hello")),
    ),
    BrokenApp(
        "uppercase-header",
        "headers.name-case",
        "header name 'Content-Type'",
        _http(_start(headers=[(b"Content-Type", b"text/plain"), *_CLEN5]), _body(b"hello")),
    ),
    BrokenApp(
        "str-headers",
        "headers.type",
        "headers as str pairs",
        _http(_start(headers=[("content-length", "5")]), _body(b"hello")),
    ),
    BrokenApp(
        "pseudo-header",
        "headers.pseudo",
        "':status' in response headers",
        _http(_start(headers=[(b":status", b"200"), *_CLEN5]), _body(b"hello")),
    ),
    BrokenApp(
        "header-injection",
        "headers.value-chars",
        "CRLF inside a header value",
        _http(_start(headers=[(b"x-a", b"1\r\nset-cookie: evil=1"), *_CLEN5]), _body(b"hello")),
    ),
    BrokenApp(
        "send-after-complete",
        "http.send.after-complete",
        "body after more_body=False",
        _http(_start(headers=_CLEN5), _body(b"hello"), _body(b"")),
    ),
    BrokenApp(
        "body-on-head",
        "http.body.head",
        "content in a HEAD response",
        _http(_start(headers=_CLEN5), _body(b"hello")),
        drive="HEAD",
    ),
    BrokenApp(
        "body-on-204",
        "http.body.forbidden-status",
        "content in a 204",
        _http(_start(204), _body(b"hello")),
    ),
    BrokenApp(
        "body-on-304",
        "http.body.forbidden-status",
        "content in a 304",
        _http(_start(304), _body(b"hello")),
    ),
    BrokenApp(
        "content-length-on-204",
        "http.content-length.forbidden",
        "Content-Length in a 204",
        _http(_start(204, [(b"content-length", b"0")]), _body(b"")),
    ),
    BrokenApp(
        "status-str",
        "http.start.status",
        "status '200' as a str",
        _http(_start("200", _CLEN5), _body(b"hello")),
    ),
    BrokenApp(
        "status-interim",
        "http.start.status",
        "status 100 in http.response.start",
        _http(_start(100), _body(b"")),
    ),
    BrokenApp("body-str", "http.body.type", "body as str", _http(_start(), _body("hello"))),
    BrokenApp(
        "nan-in-message",
        "message.value-type",
        "float NaN inside an event",
        _http(_start(headers=_CLEN5, x_debug=float("nan")), _body(b"hello")),
    ),
    BrokenApp(
        "event-not-dict",
        "message.not-dict",
        "a list sent as an event",
        _http(["http.response.start", 200]),
    ),  # type: ignore[arg-type]
    BrokenApp(
        "unknown-event",
        "message.unknown-type",
        "event type 'http.response.foo'",
        _http(_start(headers=_CLEN5), {"type": "http.response.foo"}, _body(b"hello")),
    ),
    BrokenApp(
        "transfer-encoding",
        "http.headers.transfer-encoding",
        "app sets Transfer-Encoding: chunked",
        _http(_start(headers=[(b"transfer-encoding", b"chunked")]), _body(b"hello")),
    ),
    BrokenApp(
        "extension-not-advertised",
        "extension.not-advertised",
        "pathsend without the extension in scope",
        _http(
            _start(headers=[(b"content-type", b"text/plain"), *_CLEN5]),
            {"type": "http.response.pathsend", "path": _FILE},
        ),
    ),
    BrokenApp(
        "pathsend-mixed",
        "http.pathsend.misuse",
        "pathsend after body bytes",
        _http(
            _start(headers=[(b"content-type", b"text/plain"), *_CLEN5]),
            _body(b"", more=True),
            {"type": "http.response.pathsend", "path": _FILE},
        ),
        extensions=PATHSEND,
    ),
    BrokenApp(
        "trailers-missing",
        "http.trailers.missing",
        "trailers=True, no trailers",
        _http(_start(headers=[(b"trailer", b"x-checksum")], trailers=True), _body(b"")),
        extensions=TRAILERS,
    ),
    BrokenApp(
        "trailers-unannounced",
        "http.trailers.unexpected",
        "trailers without the flag",
        _http(
            _start(headers=[(b"content-length", b"0")]),
            _body(b""),
            {"type": "http.response.trailers", "headers": []},
        ),
        extensions=TRAILERS,
    ),
    BrokenApp("no-response", "http.response.missing", "returns without responding", _returns_early),
    BrokenApp(
        "unfinished",
        "http.response.unfinished",
        "returns with more_body=True",
        _http(_start(), _body(b"part", more=True)),
    ),
    BrokenApp("mutated-scope", "scope.mutated", "adds a key to the server's scope", _mutating),
    BrokenApp(
        "unknown-scope-accepted",
        "scope.unknown-type-accepted",
        "returns normally for an unknown scope type",
        _accepts_unknown,
        drive="unknown",
    ),
    BrokenApp(
        "ws-send-before-accept",
        "ws.send.before-accept",
        "send before accept",
        _ws({"type": "websocket.send", "text": "hi"}),
        drive="websocket",
    ),
    BrokenApp(
        "ws-two-payloads",
        "ws.send.payload",
        "both bytes and text in one send",
        _ws(_ACCEPT, {"type": "websocket.send", "text": "a", "bytes": b"a"}),
        drive="websocket",
    ),
    BrokenApp(
        "ws-subprotocol-not-offered",
        "ws.accept.subprotocol",
        "accepts a subprotocol the client did not offer",
        _ws({"type": "websocket.accept", "subprotocol": "graphql-ws"}),
        drive="websocket",
        subprotocols=("chat",),
    ),
    BrokenApp(
        "ws-protocol-header",
        "ws.accept.protocol-header",
        "sec-websocket-protocol in accept headers",
        _ws({"type": "websocket.accept", "headers": [(b"sec-websocket-protocol", b"chat")]}),
        drive="websocket",
        subprotocols=("chat",),
    ),
    BrokenApp(
        "ws-close-1006",
        "ws.close.code",
        "close code 1006 sent by the app",
        _ws(_ACCEPT, {"type": "websocket.close", "code": 1006}),
        drive="websocket",
    ),
    BrokenApp(
        "ws-close-2000",
        "ws.close.code",
        "reserved close code 2000",
        _ws(_ACCEPT, {"type": "websocket.close", "code": 2000}),
        drive="websocket",
    ),
    BrokenApp(
        "ws-long-reason",
        "ws.close.reason",
        "close reason over 123 bytes",
        _ws(_ACCEPT, {"type": "websocket.close", "code": 1000, "reason": "x" * 124}),
        drive="websocket",
    ),
    BrokenApp(
        "ws-send-after-close",
        "ws.send.after-close",
        "send after close",
        _ws(
            _ACCEPT,
            {"type": "websocket.close", "code": 1000},
            {"type": "websocket.send", "text": "late"},
        ),
        drive="websocket",
    ),
    BrokenApp(
        "ws-double-accept",
        "ws.accept.state",
        "accept twice",
        _ws(_ACCEPT, _ACCEPT),
        drive="websocket",
    ),
    BrokenApp(
        "ws-denial-after-accept",
        "ws.denial.state",
        "denial response after accept",
        _ws(_ACCEPT, {"type": "websocket.http.response.start", "status": 403, "headers": []}),
        drive="websocket",
        extensions=DENIAL,
    ),
    BrokenApp(
        "ws-denial-not-advertised",
        "extension.not-advertised",
        "denial response without the extension",
        _ws(
            {"type": "websocket.http.response.start", "status": 403, "headers": []},
            {"type": "websocket.http.response.body", "body": b""},
        ),
        drive="websocket",
    ),
    BrokenApp(
        "ws-denial-unfinished",
        "ws.denial.unfinished",
        "denial start without body",
        _ws({"type": "websocket.http.response.start", "status": 403, "headers": []}),
        drive="websocket",
        extensions=DENIAL,
    ),
    BrokenApp(
        "lifespan-double-startup",
        "lifespan.send.state",
        "startup.complete twice",
        _lifespan(
            ("lifespan.startup", {"type": "lifespan.startup.complete"}),
            (None, {"type": "lifespan.startup.complete"}),
        ),
        drive="lifespan",
    ),
    BrokenApp(
        "lifespan-early-shutdown",
        "lifespan.send.state",
        "shutdown.complete before lifespan.shutdown",
        _lifespan((None, {"type": "lifespan.shutdown.complete"})),
        drive="lifespan",
    ),
    BrokenApp(
        "lifespan-failed-message",
        "lifespan.failed.message",
        "startup.failed with a non-str message",
        _lifespan(("lifespan.startup", {"type": "lifespan.startup.failed", "message": 42})),
        drive="lifespan",
    ),
)


async def correct_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A small app that gets every protocol right (the validator must stay silent on it)."""
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            kind = event["type"].removeprefix("lifespan.")
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (event := await receive())["type"] == "websocket.receive":
            await send(
                {"type": "websocket.send", "text": event.get("text"), "bytes": event.get("bytes")}
            )
        return
    if scope["type"] != "http":
        raise ValueError(f"unsupported scope type {scope['type']!r}")
    await receive()
    await send(_start(headers=[(b"content-type", b"text/plain"), *_CLEN5]))
    await send(_body(b"" if scope["method"] == "HEAD" else b"hello"))


async def exercise(
    app: ASGIApp,
    drive: Drive,
    extensions: Extensions | None = None,
    subprotocols: tuple[str, ...] = (),
) -> None:
    """Drive ``app`` the way ``drive`` says, through the in-process server; errors are kept."""
    if drive in ("GET", "HEAD"):
        await http_call(app, http_scope(drive, "/", extensions=extensions))
    elif drive == "websocket":
        scope = websocket_scope("/", subprotocols=subprotocols, extensions=extensions)
        async with websocket_session(app, scope, time_limit=2.0) as session:
            answer = await session.connect()
            if answer.get("type") == "websocket.accept":
                await session.send_text("ping")
            await session.disconnect(1000)
    elif drive == "lifespan":
        await lifespan_cycle(app, time_limit=2.0)
    else:
        scope = {"type": "conformance.unknown", "asgi": {"version": "3.0"}}

        async def receive() -> Message:
            return {"type": "conformance.unknown.event"}

        async def send(message: Message) -> None:
            return None

        try:
            await app(scope, receive, send)
        except Exception:
            return


# --- apps with routes, each faulty on one of them (the G cases' generated traffic) --------------
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _read_all(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether the client left before it was complete."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


async def _answer(send: Send, status: int, body: bytes, headers: Any = None) -> None:
    fields = [(b"content-type", b"text/plain"), *(headers or [])]
    if status not in (204, 304):
        fields.append((b"content-length", str(len(body)).encode()))
    await send(_start(status, fields))
    await send(_body(body if status not in (204, 304) else b""))


async def _page(scope: Scope, receive: Receive, send: Send) -> None:
    await _read_all(receive)
    fields = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
    await send(_start(200, fields))
    await send(_body(b"" if scope["method"] == "HEAD" else b"hello"))


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    body, gone = await _read_all(receive)
    if not gone:
        await _answer(send, 200, body)


async def _deleted(scope: Scope, receive: Receive, send: Send) -> None:
    await _read_all(receive)
    await _answer(send, 204, b"")


async def _ws_echo(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while (event := await receive())["type"] == "websocket.receive":
        await send(
            {"type": "websocket.send", "text": event.get("text"), "bytes": event.get("bytes")}
        )


def routed(http: dict[tuple[str, str], Handler], ws: dict[str, Handler] | None = None) -> App:
    """A correct little app: ``http[(method, path)]`` handlers, HEAD for GET routes, 405 with
    Allow for other methods, 404 elsewhere, ``ws[path]`` WebSocket handlers, lifespan."""
    sockets = ws or {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan" or (kind == "websocket" and scope["path"] not in sockets):
            await correct_app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await sockets[scope["path"]](scope, receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"unsupported scope type {scope['type']!r}")
        method, path = scope["method"], scope["path"]
        handler = http.get((method, path)) or (
            http.get(("GET", path)) if method == "HEAD" else None
        )
        if handler is not None:
            await handler(scope, receive, send)
            return
        allowed = sorted(
            {m for m, p in http if p == path} | ({"HEAD"} if ("GET", path) in http else set())
        )
        await _read_all(receive)
        if allowed:
            await _answer(
                send, 405, b"method not allowed", [(b"allow", ", ".join(allowed).encode())]
            )
        else:
            await _answer(send, 404, b"not found")

    return app


async def _responds_per_chunk(scope: Scope, receive: Receive, send: Send) -> None:
    # Answers every http.request event: fine for one chunk, two starts for a chunked body.
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        await _answer(send, 200, b"got it")
        if not message.get("more_body", False):
            return


async def _length_of_first_chunk(scope: Scope, receive: Receive, send: Send) -> None:
    first = await receive()
    rest, _ = await _read_all(receive) if first.get("more_body") else (b"", False)
    body = first.get("body", b"") + rest
    length = str(len(first.get("body", b""))).encode()  # the bug: only the first chunk counted
    await send(_start(200, [(b"content-type", b"text/plain"), (b"content-length", length)]))
    await send(_body(body))


async def _head_length_zero(scope: Scope, receive: Receive, send: Send) -> None:
    await _read_all(receive)
    if scope["method"] == "HEAD":  # the bug: HEAD describes an empty body, GET sends 5 bytes
        await send(_start(200, [(b"content-type", b"text/plain"), (b"content-length", b"0")]))
        await send(_body(b""))
        return
    await _answer(send, 200, b"hello")


async def _body_on_204(scope: Scope, receive: Receive, send: Send) -> None:
    await _read_all(receive)
    await send(_start(204, [(b"content-length", b"4")]))  # a serialised None, as Starlette #1764
    await send(_body(b"null"))


async def _options_uppercase(scope: Scope, receive: Receive, send: Send) -> None:
    await _read_all(receive)
    await send(_start(204, [(b"Allow", b"GET, HEAD, OPTIONS")]))
    await send(_body(b""))


async def _waits_for_the_whole_body(scope: Scope, receive: Receive, send: Send) -> None:
    # Ignores http.disconnect: once the client has left it waits for more body forever.
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        else:
            await asyncio.sleep(0.05)
    await _answer(send, 200, b"".join(chunks))


async def _ws_closes_1005(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await receive()
    await send({"type": "websocket.close", "code": 1005})  # reserved: never sent in a frame


async def _ws_forces_subprotocol(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept", "subprotocol": "graphql-ws"})  # whatever was offered
    while (await receive())["type"] == "websocket.receive":
        pass


@dataclass(frozen=True)
class BrokenRoutedApp:
    """An app with routes, faulty on one, and the G case and rule that must flag it."""

    id: str
    case: str
    rule: str
    description: str
    app: App
    routes: Routes


def _routes(*http: HTTPRoute, ws: tuple[WebSocketRoute, ...] = ()) -> Routes:
    return Routes((HTTPRoute("/page"), *http), ws, "broken_apps")


_PAGE = {("GET", "/page"): _page}
BROKEN_ROUTED_APPS: tuple[BrokenRoutedApp, ...] = (
    BrokenRoutedApp(
        "answers-every-chunk",
        "G01",
        "http.send.after-complete",
        "POST /upload answers each http.request event: two starts when the body is chunked",
        routed({**_PAGE, ("POST", "/upload"): _responds_per_chunk}),
        _routes(HTTPRoute("/upload", ("POST",), b'{"name": "conformance"}')),
    ),
    BrokenRoutedApp(
        "length-of-first-chunk",
        "G02",
        "http.content-length.mismatch",
        "POST /echo sets Content-Length from the first request chunk only",
        routed({**_PAGE, ("POST", "/echo"): _length_of_first_chunk}),
        _routes(HTTPRoute("/echo", ("POST",), b'{"name": "conformance"}')),
    ),
    BrokenRoutedApp(
        "head-length-zero",
        "G03",
        "Content-Length",
        "HEAD /doc says Content-Length 0 where GET /doc sends 5 bytes",
        routed({**_PAGE, ("GET", "/doc"): _head_length_zero}),
        _routes(HTTPRoute("/doc")),
    ),
    BrokenRoutedApp(
        "body-on-204-delete",
        "G04",
        "http.body.forbidden-status",
        "DELETE /items/1 answers 204 with a 'null' body and Content-Length 4",
        routed({**_PAGE, ("DELETE", "/items/1"): _body_on_204}),
        _routes(HTTPRoute("/items/1", ("DELETE",))),
    ),
    BrokenRoutedApp(
        "options-uppercase-header",
        "G05",
        "headers.name-case",
        "OPTIONS /page answers with the header name 'Allow' not lowercased",
        routed({**_PAGE, ("OPTIONS", "/page"): _options_uppercase}),
        _routes(),
    ),
    BrokenRoutedApp(
        "waits-after-disconnect",
        "G06",
        "still running",
        "POST /upload ignores http.disconnect and waits for the rest of the body forever",
        routed({**_PAGE, ("POST", "/upload"): _waits_for_the_whole_body}),
        _routes(HTTPRoute("/upload", ("POST",), b'{"name": "conformance"}')),
    ),
    BrokenRoutedApp(
        "ws-closes-1005",
        "G07",
        "ws.close.code",
        "WS /ws closes with 1005, a code reserved for 'no status received'",
        routed(_PAGE, {"/ws": _ws_closes_1005}),
        _routes(ws=(WebSocketRoute("/ws"),)),
    ),
    BrokenRoutedApp(
        "ws-forces-subprotocol",
        "G08",
        "ws.accept.subprotocol",
        "WS /ws accepts with 'graphql-ws' whatever the client offered",
        routed(_PAGE, {"/ws": _ws_forces_subprotocol}),
        _routes(ws=(WebSocketRoute("/ws"),)),
    ),
)

#: A correct app with the same kinds of routes: every G case must pass on it.
CORRECT_ROUTED_APP = BrokenRoutedApp(
    "correct-routed",
    "",
    "",
    "every route right",
    routed(
        {**_PAGE, ("POST", "/echo"): _echo, ("GET", "/doc"): _page,
         ("DELETE", "/items/1"): _deleted},
        {"/ws": _ws_echo},
    ),
    _routes(HTTPRoute("/echo", ("POST",), b'{"name": "conformance"}'), HTTPRoute("/doc"),
            HTTPRoute("/items/1", ("DELETE",)), ws=(WebSocketRoute("/ws"),)),
)  # fmt: skip
