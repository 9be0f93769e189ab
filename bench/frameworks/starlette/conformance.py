"""Starlette: the lab's contract app plus the conformance endpoints, in Starlette's idiom."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.frameworks._shared import conformance as support
from bench.frameworks.starlette import app as contract_app

NAME = "starlette"
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


async def scope_echo(request: Request) -> Response:
    url_for = str(request.url_for(support.SCOPE_ROUTE_NAME))
    return JSONResponse(support.scope_view(request.scope, url=str(request.url), url_for=url_for))


async def body_echo(request: Request) -> Response:
    body = await request.body()
    return Response(body, media_type="application/octet-stream")


async def headers(request: Request) -> Response:
    response = PlainTextResponse("ok", headers={"X-Conformance-Case": "Mixed"})
    response.set_cookie("first", "1")
    response.set_cookie("second", "2")
    return response


async def no_content(request: Request) -> Response:
    return Response(status_code=204)


async def file(request: Request) -> Response:
    return FileResponse(support.conformance_file(), media_type="text/plain")


async def error(request: Request) -> Response:
    raise RuntimeError("handler failed on purpose (conformance)")


async def disconnect_probe(request: Request) -> Response:
    record = support.probe_started(request.query_params.get("id", ""), "stream")

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


async def form(request: Request) -> Response:
    async with request.form() as fields:
        return JSONResponse({"fields": len(fields)})


async def probe_result(request: Request) -> Response:
    result = support.probe_result(request.query_params.get("id", ""))
    return JSONResponse(result, status_code=200 if result is not None else 404)


async def ws_close_before_accept(websocket: WebSocket) -> None:
    await websocket.close(code=1000)


async def ws_subprotocol(websocket: WebSocket) -> None:
    chosen = "chat.v2" if "chat.v2" in websocket.scope.get("subprotocols", []) else None
    await websocket.accept(subprotocol=chosen)
    await websocket.send_text(chosen or "")
    await websocket.close()


async def ws_close(websocket: WebSocket) -> None:
    await websocket.accept()
    code = int(websocket.query_params.get("code", "1000"))
    await websocket.close(code=code, reason=websocket.query_params.get("reason", ""))


async def ws_accept_headers(websocket: WebSocket) -> None:
    await websocket.accept(headers=[(b"x-conformance", b"accepted")])
    await websocket.send_text("accepted")
    await websocket.close()


async def ws_denial(websocket: WebSocket) -> None:
    denial = PlainTextResponse("denied", status_code=401, headers={"x-denied": "yes"})
    await websocket.send_denial_response(denial)


async def ws_disconnect_probe(websocket: WebSocket) -> None:
    record = support.probe_started(websocket.query_params.get("id", ""), "websocket")
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect as exc:
        record.update(state="disconnected", code=exc.code, reason=exc.reason)


def conformance_routes() -> list[BaseRoute]:
    """The conformance endpoints (see conformance/apps/__init__.py for their contract)."""
    return [
        Route("/conformance/scope", scope_echo, name=support.SCOPE_ROUTE_NAME),
        Route("/conformance/echo", body_echo, methods=["POST"]),
        Route("/conformance/headers", headers),
        Route("/conformance/no-content", no_content),
        Route("/conformance/file", file),
        Route("/conformance/error", error),
        Route("/conformance/disconnect", disconnect_probe),
        Route("/conformance/probe", probe_result),
        Route("/conformance/form", form, methods=["POST"]),
        Mount("/conformance/static", app=StaticFiles(directory=support.static_dir())),
        WebSocketRoute("/conformance/ws/close-before-accept", ws_close_before_accept),
        WebSocketRoute("/conformance/ws/subprotocol", ws_subprotocol),
        WebSocketRoute("/conformance/ws/close", ws_close),
        WebSocketRoute("/conformance/ws/accept-headers", ws_accept_headers),
        WebSocketRoute("/conformance/ws/denial", ws_denial),
        WebSocketRoute("/conformance/ws/disconnect", ws_disconnect_probe),
    ]


@asynccontextmanager
async def failing_lifespan(app: Starlette) -> AsyncIterator[None]:
    support.fail_startup()
    yield


def build(**options: Any) -> Starlette:
    """Contract routes + conformance routes, with the contract's lifespan (or ``options``)."""
    lifespan = options.pop("lifespan", contract_app.lifespan)
    return Starlette(routes=[*contract_app.routes(), *conformance_routes()], lifespan=lifespan)


app = build()
app_failing_startup = build(lifespan=failing_lifespan)
