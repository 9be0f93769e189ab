"""Sanic (ASGI mode): the lab's contract app plus the conformance endpoints, in Sanic's idiom.

Sanic's WebSocket in ASGI mode (``sanic.server.websockets.connection.WebSocketConnection``)
is thinner than under its own server: Sanic accepts the handshake before the handler runs (so
a handler cannot refuse it), ``ws.close(code, reason)`` sends nothing, and a disconnect reaches
the handler as ``recv()`` returning None, without the close code. The endpoints below are
written as a Sanic user would write them; where ASGI mode ignores them the cases fail and
``conformance/expectations.toml`` says why. Sanic has no API for accept headers or a denial
response, so those cases are not applicable.
"""

from __future__ import annotations

import asyncio

from sanic import HTTPResponse, Request, Sanic, Websocket
from sanic.response import empty, file, json, raw, text

from bench.frameworks._shared import conformance as support
from bench.frameworks.sanic import app as contract_app

NAME = "sanic"
FEATURES = frozenset({"url_for", "file", "close_reason", "static", "forms"})
SCOPE_ROUTE = "conformance_scope"
"""Sanic route names are Python identifiers (``app.url_for`` looks them up by name)."""


async def scope_echo(request: Request) -> HTTPResponse:
    generated = request.url_for(SCOPE_ROUTE)
    return json(support.scope_view(request.scope, url=request.url, url_for=generated))


async def body_echo(request: Request) -> HTTPResponse:
    return raw(request.body, content_type="application/octet-stream")


async def headers(request: Request) -> HTTPResponse:
    response = text("ok")
    response.headers["X-Conformance-Case"] = "Mixed"
    response.add_cookie("first", "1", secure=False)
    response.add_cookie("second", "2", secure=False)
    return response


async def no_content(request: Request) -> HTTPResponse:
    return empty()


async def conformance_file(request: Request) -> HTTPResponse:
    return await file(support.conformance_file(), mime_type="text/plain")


async def error(request: Request) -> HTTPResponse:
    raise RuntimeError("handler failed on purpose (conformance)")


async def disconnect_probe(request: Request) -> None:
    record = support.probe_started(request.args.get("id", ""), "stream")
    response = await request.respond(content_type="application/octet-stream")
    try:
        for _ in range(support.PROBE_CHUNKS):
            await response.send(support.PROBE_CHUNK)
            record["sent"] += 1
            await asyncio.sleep(support.PROBE_INTERVAL)
        record["state"] = "completed"
        await response.eof()
    finally:
        if record["state"] == "running":
            record["state"] = "stopped"


async def probe_result(request: Request) -> HTTPResponse:
    result = support.probe_result(request.args.get("id", ""))
    return json(result, status=200 if result is not None else 404)


async def form(request: Request) -> HTTPResponse:
    return json({"fields": len(request.form)})


async def ws_close_before_accept(request: Request, ws: Websocket) -> None:
    await ws.close(1000)


async def ws_subprotocol(request: Request, ws: Websocket) -> None:
    # Sanic chose from the route's ``subprotocols`` while accepting, before this handler.
    offered = request.scope.get("subprotocols", [])
    await ws.send("chat.v2" if "chat.v2" in offered else "")
    await ws.close(1000)


async def ws_close(request: Request, ws: Websocket) -> None:
    await ws.close(int(request.args.get("code", "1000")), request.args.get("reason", ""))


async def ws_disconnect_probe(request: Request, ws: Websocket) -> None:
    record = support.probe_started(request.args.get("id", ""), "websocket")
    while await ws.recv() is not None:
        pass
    record.update(state="disconnected", code=None, reason=None)


def add_conformance_routes(app: Sanic) -> None:
    """Register the conformance endpoints (see conformance/apps/__init__.py)."""
    app.add_route(scope_echo, "/conformance/scope", name=SCOPE_ROUTE)
    app.add_route(body_echo, "/conformance/echo", methods=["POST"])
    app.add_route(headers, "/conformance/headers")
    app.add_route(no_content, "/conformance/no-content")
    app.add_route(conformance_file, "/conformance/file")
    app.add_route(error, "/conformance/error")
    app.add_route(disconnect_probe, "/conformance/disconnect")
    app.add_route(probe_result, "/conformance/probe")
    app.add_route(form, "/conformance/form", methods=["POST"])
    app.static("/conformance/static", support.static_dir(), name="conformance_static")
    app.add_websocket_route(ws_close_before_accept, "/conformance/ws/close-before-accept")
    app.add_websocket_route(ws_subprotocol, "/conformance/ws/subprotocol", subprotocols=["chat.v2"])
    app.add_websocket_route(ws_close, "/conformance/ws/close")
    app.add_websocket_route(ws_disconnect_probe, "/conformance/ws/disconnect")


async def failing_startup(app: Sanic) -> None:
    support.fail_startup()


def build(name: str = f"{contract_app.NAME}-conformance") -> Sanic:
    """The contract app (its database listeners included) plus the conformance endpoints."""
    app = contract_app.build(name)
    add_conformance_routes(app)
    return app


def build_failing_startup() -> Sanic:
    """The same app with a ``before_server_start`` listener that raises."""
    app = build(f"{contract_app.NAME}-conformance-failing")
    app.before_server_start(failing_startup)
    return app


app = build()
app_failing_startup = build_failing_startup()
