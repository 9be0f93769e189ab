"""Quart: the lab's contract app plus the conformance endpoints, in Quart's idiom.

Quart cannot tell a WebSocket handler how the client closed: a disconnect cancels the handler
(``asyncio.CancelledError``), with no close code or reason, so the disconnect probe records the
disconnect without a code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from quart import (
    Quart,
    Response,
    request,
    send_file,
    send_from_directory,
    url_for,
    websocket,
)

from bench.frameworks._shared import conformance as support
from bench.frameworks.quart import app as contract_app

NAME = "quart"
FEATURES = frozenset(
    {
        "url_for",
        "file",
        "denial_response",
        "accept_headers",
        "close_reason",
        "static",
        "forms",
    }
)


async def scope_echo() -> dict[str, Any]:
    generated = url_for(support.SCOPE_ROUTE_NAME, _external=True)
    return support.scope_view(request.scope, url=request.url, url_for=generated)


async def body_echo() -> Response:
    return Response(await request.get_data(), content_type="application/octet-stream")


async def headers() -> Response:
    response = Response("ok", content_type="text/plain; charset=utf-8")
    response.headers["X-Conformance-Case"] = "Mixed"
    response.set_cookie("first", "1")
    response.set_cookie("second", "2")
    return response


async def no_content() -> tuple[str, int]:
    return "", 204


async def file() -> Response:
    return await send_file(support.conformance_file(), mimetype="text/plain", conditional=True)


async def error() -> Response:
    raise RuntimeError("handler failed on purpose (conformance)")


async def disconnect_probe() -> Response:
    record = support.probe_started(request.args.get("id", ""), "stream")

    async def chunks() -> AsyncIterator[bytes]:
        try:
            for _ in range(support.PROBE_CHUNKS):
                yield support.PROBE_CHUNK
                record["sent"] += 1
                await asyncio.sleep(support.PROBE_INTERVAL)
            record["state"] = "completed"
        finally:
            if record["state"] == "running":
                record["state"] = "stopped"

    return Response(chunks(), content_type="application/octet-stream")


async def probe_result() -> tuple[Any, int]:
    result = support.probe_result(request.args.get("id", ""))
    return (result, 200) if result is not None else ({"detail": "no such probe"}, 404)


async def form() -> dict[str, int]:
    fields = await request.form
    return {"fields": len(fields)}


async def static(filename: str) -> Response:
    return await send_from_directory(support.static_dir(), filename)


async def ws_close_before_accept() -> None:
    await websocket.close(1000)


async def ws_subprotocol() -> None:
    chosen = "chat.v2" if "chat.v2" in websocket.requested_subprotocols else None
    await websocket.accept(subprotocol=chosen)
    await websocket.send(chosen or "")
    await websocket.close(1000)


async def ws_close() -> None:
    await websocket.accept()
    code = int(websocket.args.get("code", "1000"))
    await websocket.close(code, websocket.args.get("reason", ""))


async def ws_accept_headers() -> None:
    await websocket.accept(headers={"x-conformance": "accepted"})
    await websocket.send("accepted")
    await websocket.close(1000)


async def ws_denial() -> Response:
    # A response returned before accepting is sent as the denial (websocket.http.response).
    return Response("denied", status=401, headers={"x-denied": "yes"})


async def ws_disconnect_probe() -> None:
    record = support.probe_started(websocket.args.get("id", ""), "websocket")
    await websocket.accept()
    try:
        while True:
            await websocket.receive()
    except asyncio.CancelledError:
        record.update(state="disconnected", code=None, reason=None)
        raise


def add_conformance_routes(app: Quart) -> None:
    """Register the conformance endpoints (see conformance/apps/__init__.py)."""
    app.add_url_rule("/conformance/scope", support.SCOPE_ROUTE_NAME, scope_echo)
    app.add_url_rule("/conformance/echo", view_func=body_echo, methods=["POST"])
    app.add_url_rule("/conformance/headers", view_func=headers)
    app.add_url_rule("/conformance/no-content", view_func=no_content)
    app.add_url_rule("/conformance/file", view_func=file)
    app.add_url_rule("/conformance/error", view_func=error)
    app.add_url_rule("/conformance/disconnect", view_func=disconnect_probe)
    app.add_url_rule("/conformance/probe", view_func=probe_result)
    app.add_url_rule("/conformance/form", view_func=form, methods=["POST"])
    app.add_url_rule("/conformance/static/<path:filename>", "conformance_static", static)
    app.add_websocket("/conformance/ws/close-before-accept", view_func=ws_close_before_accept)
    app.add_websocket("/conformance/ws/subprotocol", view_func=ws_subprotocol)
    app.add_websocket("/conformance/ws/close", view_func=ws_close)
    app.add_websocket("/conformance/ws/accept-headers", view_func=ws_accept_headers)
    app.add_websocket("/conformance/ws/denial", view_func=ws_denial)
    app.add_websocket("/conformance/ws/disconnect", view_func=ws_disconnect_probe)


async def failing_startup() -> None:
    support.fail_startup()


def build(name: str = f"{contract_app.__name__}.conformance") -> Quart:
    """The contract app (its database hooks included) plus the conformance endpoints."""
    app = contract_app.build(name)
    add_conformance_routes(app)
    return app


def build_failing_startup() -> Quart:
    """The same app with a ``before_serving`` hook that raises."""
    app = build(f"{contract_app.__name__}.conformance.failing")
    app.before_serving(failing_startup)
    return app


app = build()
app_failing_startup = build_failing_startup()
