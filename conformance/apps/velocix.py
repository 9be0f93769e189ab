"""Velocix: the lab's contract app plus the conformance endpoints, in Velocix's idiom.

Velocix has no WebSocket denial-response API (closing before accept gives the spec's 403), so
``denial_response`` is not among its features and that check is not applicable to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from bench.apps import velocix as contract_app
from conformance.apps import _support as support
from velocix import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Request,
    Response,
    StreamingResponse,
    Velocix,
    WebSocket,
    WebSocketDisconnect,
)
from velocix.staticfiles import StaticFiles

NAME = "velocix"
FEATURES = frozenset({"file", "accept_headers", "close_reason", "static", "forms", "websocket"})


def add_conformance_routes(app: Velocix) -> None:
    """Register the conformance endpoints (see conformance/apps/__init__.py)."""

    @app.get("/conformance/scope", name=support.SCOPE_ROUTE_NAME)
    async def scope_echo(request: Request) -> JSONResponse:
        url_for = app.url_path_for(support.SCOPE_ROUTE_NAME)
        return JSONResponse(
            support.scope_view(request.scope, url=str(request.url), url_path_for=url_for)
        )

    @app.post("/conformance/echo")
    async def body_echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/octet-stream")

    @app.get("/conformance/headers")
    async def headers() -> PlainTextResponse:
        response = PlainTextResponse("ok", headers={"X-Conformance-Case": "Mixed"})
        response.set_cookie("first", "1")
        response.set_cookie("second", "2")
        return response

    @app.get("/conformance/no-content", status_code=204)
    async def no_content() -> None:
        return None

    @app.get("/conformance/file")
    async def file() -> FileResponse:
        return FileResponse(support.conformance_file(), media_type="text/plain")

    @app.get("/conformance/error")
    async def error() -> None:
        raise RuntimeError("handler failed on purpose (conformance)")

    @app.get("/conformance/disconnect")
    async def disconnect_probe(id: str = "") -> StreamingResponse:
        record = support.probe_started(id, "stream")

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

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.get("/conformance/probe")
    async def probe_result(id: str = "") -> JSONResponse:
        result = support.probe_result(id)
        return JSONResponse(result, status_code=200 if result is not None else 404)

    @app.post("/conformance/form")
    async def form(request: Request) -> dict[str, int]:
        fields = await request.form()
        return {"fields": len(fields)}

    app.mount("/conformance/static", StaticFiles(directory=support.static_dir()))
    add_websocket_routes(app)


def add_websocket_routes(app: Velocix) -> None:
    """The WebSocket conformance endpoints (no denial response: Velocix has no API for it)."""

    @app.websocket("/conformance/ws/close-before-accept")
    async def ws_close_before_accept(websocket: WebSocket) -> None:
        await websocket.close(code=1000)

    @app.websocket("/conformance/ws/subprotocol")
    async def ws_subprotocol(websocket: WebSocket) -> None:
        chosen = "chat.v2" if "chat.v2" in websocket.scope.get("subprotocols", []) else None
        await websocket.accept(subprotocol=chosen)
        await websocket.send_text(chosen or "")
        await websocket.close()

    @app.websocket("/conformance/ws/close")
    async def ws_close(websocket: WebSocket) -> None:
        await websocket.accept()
        code = int(websocket.query_params.get("code", "1000"))
        await websocket.close(code=code, reason=websocket.query_params.get("reason", ""))

    @app.websocket("/conformance/ws/accept-headers")
    async def ws_accept_headers(websocket: WebSocket) -> None:
        await websocket.accept(headers=[(b"x-conformance", b"accepted")])
        await websocket.send_text("accepted")
        await websocket.close()

    @app.websocket("/conformance/ws/disconnect")
    async def ws_disconnect_probe(websocket: WebSocket) -> None:
        record = support.probe_started(websocket.query_params.get("id", ""), "websocket")
        await websocket.accept()
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect as exc:
            record.update(state="disconnected", code=exc.code, reason=exc.reason)


def build(**options: Any) -> Velocix:
    """The contract app (with its lifespan) plus the conformance endpoints."""
    built = contract_app.build()
    add_conformance_routes(built)
    return built


def build_failing_startup() -> Velocix:
    """An app whose startup hook raises (Velocix should answer lifespan.startup.failed)."""
    built = Velocix(on_startup=[support.fail_startup])
    add_conformance_routes(built)
    return built


app = build()
app_failing_startup = build_failing_startup()
