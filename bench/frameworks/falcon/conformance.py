"""Falcon: the lab's contract app plus the conformance endpoints, in Falcon's ASGI idiom.

Falcon has no URL generation from route names (so no ``url_for``) and no WebSocket
denial-response API (``denial_response``). Its only file response is the static route, which
answers ETag and Range: ``GET /conformance/file`` is a static route over an empty directory
whose ``fallback_filename`` is the conformance file, so every path under it gets that file.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import falcon
import falcon.asgi

from bench.frameworks._shared import conformance as support
from bench.frameworks.falcon import app as contract_app

NAME = "falcon"
FEATURES = frozenset({"file", "accept_headers", "close_reason", "static", "forms"})


class ScopeEcho:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = support.scope_view(req.scope, url=req.url)


class BodyEcho:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = "application/octet-stream"
        resp.data = await req.stream.read()


class Headers:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "ok"
        resp.set_header("X-Conformance-Case", "Mixed")
        resp.set_cookie("first", "1")
        resp.set_cookie("second", "2")


class NoContent:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.status = falcon.HTTP_204


class Error:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise RuntimeError("handler failed on purpose (conformance)")


class DisconnectProbe:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        record = support.probe_started(req.get_param("id", default=""), "stream")

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

        resp.content_type = "application/octet-stream"
        resp.stream = chunks()


class ProbeResult:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        result = support.probe_result(req.get_param("id", default=""))
        if result is None:
            raise falcon.HTTPNotFound()
        resp.media = result


class Form:
    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        form = await req.get_media()
        if isinstance(form, dict):  # application/x-www-form-urlencoded
            fields = len(form)
        else:  # multipart/form-data: the parts, as Falcon streams them
            fields = 0
            async for _part in form:
                fields += 1
        resp.media = {"fields": fields}


class WsCloseBeforeAccept:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.close(1000)


class WsSubprotocol:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        chosen = "chat.v2" if "chat.v2" in ws.subprotocols else None
        await ws.accept(subprotocol=chosen)
        await ws.send_text(chosen or "")
        await ws.close()


class WsClose:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        code = int(req.get_param("code", default="1000"))
        await ws.close(code, req.get_param("reason", default=""))


class WsAcceptHeaders:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept(headers={"x-conformance": "accepted"})
        await ws.send_text("accepted")
        await ws.close()


class WsDisconnectProbe:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        record = support.probe_started(req.get_param("id", default=""), "websocket")
        await ws.accept()
        try:
            while True:
                await ws.receive_text()
        except falcon.WebSocketDisconnected as exc:
            # Falcon keeps only the code of the disconnect event, not its reason.
            record.update(state="disconnected", code=exc.code, reason=None)


def file_route_directory() -> str:
    """An empty directory for the file route (every path under it falls back to the file)."""
    path = os.path.join(tempfile.gettempdir(), f"conformance-falcon-file-{os.getpid()}")
    os.makedirs(path, exist_ok=True)
    return path


def add_conformance_routes(app: falcon.asgi.App) -> None:
    """Register the conformance endpoints (see conformance/apps/__init__.py)."""
    app.add_route("/conformance/scope", ScopeEcho())
    app.add_route("/conformance/echo", BodyEcho())
    app.add_route("/conformance/headers", Headers())
    app.add_route("/conformance/no-content", NoContent())
    app.add_route("/conformance/error", Error())
    app.add_route("/conformance/disconnect", DisconnectProbe())
    app.add_route("/conformance/probe", ProbeResult())
    app.add_route("/conformance/form", Form())
    app.add_static_route(
        "/conformance/file", file_route_directory(), fallback_filename=support.conformance_file()
    )
    app.add_static_route("/conformance/static", support.static_dir())
    app.add_route("/conformance/ws/close-before-accept", WsCloseBeforeAccept())
    app.add_route("/conformance/ws/subprotocol", WsSubprotocol())
    app.add_route("/conformance/ws/close", WsClose())
    app.add_route("/conformance/ws/accept-headers", WsAcceptHeaders())
    app.add_route("/conformance/ws/disconnect", WsDisconnectProbe())


class FailingStartup:
    async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        support.fail_startup()


def build(components: list[Any] | None = None) -> falcon.asgi.App:
    """The contract app (with its lifespan component) plus the conformance endpoints."""
    built = contract_app.build(components=components)
    add_conformance_routes(built)
    return built


app = build()
app_failing_startup = build(components=[FailingStartup()])
