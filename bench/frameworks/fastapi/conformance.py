"""FastAPI: the lab's contract app plus the conformance endpoints, in FastAPI's idiom."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from bench.frameworks._shared import conformance as support
from bench.frameworks.fastapi import app as contract_app

NAME = "fastapi"
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


def add_conformance_routes(app: FastAPI) -> None:
    """Register the conformance endpoints (see conformance/apps/__init__.py)."""

    @app.get("/conformance/scope", name=support.SCOPE_ROUTE_NAME)
    async def scope_echo(request: Request) -> dict[str, Any]:
        url_for = str(request.url_for(support.SCOPE_ROUTE_NAME))
        return support.scope_view(request.scope, url=str(request.url), url_for=url_for)

    @app.post("/conformance/echo")
    async def body_echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/octet-stream")

    @app.get("/conformance/headers", response_class=PlainTextResponse)
    async def headers(response: Response) -> str:
        response.headers["X-Conformance-Case"] = "Mixed"
        response.set_cookie("first", "1")
        response.set_cookie("second", "2")
        return "ok"

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
        async with request.form() as fields:
            return {"fields": len(fields)}

    app.mount("/conformance/static", StaticFiles(directory=support.static_dir()))
    add_websocket_routes(app)


def add_websocket_routes(app: FastAPI) -> None:
    """The WebSocket conformance endpoints."""

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
    async def ws_close(websocket: WebSocket, code: int = 1000, reason: str = "") -> None:
        await websocket.accept()
        await websocket.close(code=code, reason=reason)

    @app.websocket("/conformance/ws/accept-headers")
    async def ws_accept_headers(websocket: WebSocket) -> None:
        await websocket.accept(headers=[(b"x-conformance", b"accepted")])
        await websocket.send_text("accepted")
        await websocket.close()

    @app.websocket("/conformance/ws/denial")
    async def ws_denial(websocket: WebSocket) -> None:
        denial = PlainTextResponse("denied", status_code=401, headers={"x-denied": "yes"})
        await websocket.send_denial_response(denial)

    @app.websocket("/conformance/ws/disconnect")
    async def ws_disconnect_probe(websocket: WebSocket, id: str = "") -> None:
        record = support.probe_started(id, "websocket")
        await websocket.accept()
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect as exc:
            record.update(state="disconnected", code=exc.code, reason=exc.reason)


@asynccontextmanager
async def failing_lifespan(app: FastAPI) -> AsyncIterator[None]:
    support.fail_startup()
    yield


def build() -> FastAPI:
    """The contract app (with its lifespan) plus the conformance endpoints."""
    built = contract_app.build()
    add_conformance_routes(built)
    return built


def build_failing_startup() -> FastAPI:
    """An app whose lifespan startup raises (FastAPI should answer lifespan.startup.failed)."""
    built = FastAPI(lifespan=failing_lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    add_conformance_routes(built)
    return built


app = build()
app_failing_startup = build_failing_startup()
