"""Raw ASGI: the lab's hand-written contract app plus the conformance endpoints, by hand.

The baseline shows what a spec-conforming application looks like without a framework: it
uses the denial-response, pathsend and trailers extensions only when the server offers them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from bench.frameworks._shared import conformance as support
from bench.frameworks.raw import app as contract_app

NAME = "raw"
FEATURES = frozenset(
    {
        "url_for",
        "file",
        "denial_response",
        "accept_headers",
        "close_reason",
        "trailers",
    }
)

Scope = dict[str, Any]
Receive = contract_app.Receive
Send = contract_app.Send
JSON = [(b"content-type", b"application/json")]


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _route_path(scope: Scope) -> str:
    """The path below root_path (the spec puts root_path inside path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _url(scope: Scope, path: str) -> str:
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
    return f"{scope.get('scheme', 'http')}://{host}{path}"


def _without_body(send: Send) -> Send:
    """A send that keeps the headers (Content-Length included) and drops body bytes."""

    async def head_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return head_send


class ConformanceRawApp(contract_app.RawApp):
    """The contract app with the conformance endpoints routed before it."""

    def __init__(self, *, fail_startup: bool = False) -> None:
        super().__init__()
        self.fail_startup = fail_startup
        self.http_routes = {
            "/conformance/scope": self.scope_echo,
            "/conformance/echo": self.body_echo,
            "/conformance/headers": self.headers,
            "/conformance/no-content": self.no_content,
            "/conformance/file": self.file,
            "/conformance/error": self.error,
            "/conformance/disconnect": self.disconnect_probe,
            "/conformance/probe": self.probe_result,
            "/conformance/trailers": self.trailers,
        }
        self.ws_routes = {
            "/conformance/ws/close-before-accept": self.ws_close_before_accept,
            "/conformance/ws/subprotocol": self.ws_subprotocol,
            "/conformance/ws/close": self.ws_close,
            "/conformance/ws/accept-headers": self.ws_accept_headers,
            "/conformance/ws/denial": self.ws_denial,
            "/conformance/ws/disconnect": self.ws_disconnect_probe,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket", "lifespan"):
            raise ValueError(f"unsupported ASGI scope type {kind!r}")
        if kind == "lifespan" and self.fail_startup:
            await self.failing_lifespan(receive, send)
            return
        if kind == "http" and scope["method"] == "HEAD":
            # The contract app routes GET only; HEAD is GET without the body (RFC 9110 §9.3.2).
            await self({**scope, "method": "GET"}, receive, _without_body(send))
            return
        routes: dict[str, Any] = self.http_routes if kind == "http" else self.ws_routes
        handler = routes.get(_route_path(scope)) if kind != "lifespan" else None
        if handler is None:
            if kind != "lifespan" and scope.get("root_path"):
                scope = {**scope, "path": _route_path(scope)}  # the contract routes by path
            await super().__call__(scope, receive, send)
            return
        await handler(scope, receive, send)

    async def failing_lifespan(self, receive: Receive, send: Send) -> None:
        await receive()
        try:
            support.fail_startup()
        except support.StartupFailure as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})

    # --- HTTP ------------------------------------------------------------------------------
    async def scope_echo(self, scope: Scope, receive: Receive, send: Send) -> None:
        url = _url(scope, scope["path"])
        body = json.dumps(support.scope_view(scope, url=url, url_for=url)).encode()
        await contract_app.send_body(send, 200, JSON, body)

    async def body_echo(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await contract_app.read_body(receive)
        await contract_app.send_body(
            send, 200, [(b"content-type", b"application/octet-stream")], body
        )

    async def headers(self, scope: Scope, receive: Receive, send: Send) -> None:
        await contract_app.send_body(
            send,
            200,
            [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"x-conformance-case", b"Mixed"),
                (b"set-cookie", b"first=1; Path=/; SameSite=lax"),
                (b"set-cookie", b"second=2; Path=/; SameSite=lax"),
            ],
            b"ok",
        )

    async def no_content(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def file(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = support.conformance_file()
        size = len(support.FILE_CONTENT)  # the file holds exactly FILE_CONTENT
        digest = hashlib.md5(support.FILE_CONTENT, usedforsecurity=False).hexdigest()
        etag = f'"{digest}"'.encode()
        headers = [(b"content-type", b"text/plain"), (b"etag", etag)]
        request_headers = dict(scope["headers"])
        if request_headers.get(b"if-none-match") == etag:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(size).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
        elif "http.response.pathsend" in (scope.get("extensions") or {}):
            await send({"type": "http.response.pathsend", "path": path})
        else:
            await send({"type": "http.response.body", "body": support.FILE_CONTENT})

    async def error(self, scope: Scope, receive: Receive, send: Send) -> None:
        await contract_app.send_body(
            send, 500, [(b"content-type", b"text/plain")], b"Internal Server Error"
        )

    async def disconnect_probe(self, scope: Scope, receive: Receive, send: Send) -> None:
        record = support.probe_started(_query(scope).get("id", ""), "stream")
        await contract_app.read_body(receive)
        watcher = asyncio.ensure_future(receive())
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")],
            }
        )
        try:
            for _ in range(support.PROBE_CHUNKS):
                if watcher.done():  # http.disconnect arrived (the pre-2.4 signal)
                    record["state"] = "stopped"
                    return
                await send(
                    {"type": "http.response.body", "body": support.PROBE_CHUNK, "more_body": True}
                )
                record["sent"] += 1
                await asyncio.sleep(support.PROBE_INTERVAL)
            record["state"] = "completed"
            await send({"type": "http.response.body", "body": b""})
        except OSError:  # send() on a closed connection (spec 2.4)
            record["state"] = "stopped"
        finally:
            watcher.cancel()

    async def probe_result(self, scope: Scope, receive: Receive, send: Send) -> None:
        result = support.probe_result(_query(scope).get("id", ""))
        await contract_app.send_body(
            send, 200 if result is not None else 404, JSON, json.dumps(result).encode()
        )

    async def trailers(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "http.response.trailers" not in (scope.get("extensions") or {}):
            await contract_app.send_body(send, 200, [(b"content-type", b"text/plain")], b"plain")
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

    # --- WebSocket -------------------------------------------------------------------------
    async def ws_close_before_accept(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 1000})

    async def ws_subprotocol(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        chosen = "chat.v2" if "chat.v2" in scope.get("subprotocols", []) else None
        await send({"type": "websocket.accept", "subprotocol": chosen})
        await send({"type": "websocket.send", "text": chosen or ""})
        await send({"type": "websocket.close", "code": 1000})

    async def ws_close(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = _query(scope)
        await receive()
        await send({"type": "websocket.accept"})
        await send(
            {
                "type": "websocket.close",
                "code": int(query.get("code", "1000")),
                "reason": query.get("reason", ""),
            }
        )

    async def ws_accept_headers(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "headers": [(b"x-conformance", b"accepted")]})
        await send({"type": "websocket.send", "text": "accepted"})
        await send({"type": "websocket.close", "code": 1000})

    async def ws_denial(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        if "websocket.http.response" not in (scope.get("extensions") or {}):
            await send({"type": "websocket.close", "code": 1000})  # the spec's plain 403
            return
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"text/plain"),
                    (b"x-denied", b"yes"),
                    (b"content-length", b"6"),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"denied"})

    async def ws_disconnect_probe(self, scope: Scope, receive: Receive, send: Send) -> None:
        record = support.probe_started(_query(scope).get("id", ""), "websocket")
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                record.update(
                    state="disconnected", code=message.get("code"), reason=message.get("reason", "")
                )
                return


app = ConformanceRawApp()
app_failing_startup = ConformanceRawApp(fail_startup=True)
