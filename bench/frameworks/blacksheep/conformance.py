"""BlackSheep: the lab's contract app plus the conformance endpoints, in BlackSheep's idiom.

BlackSheep has no WebSocket denial-response API, so ``denial_response`` is not among its
features. Its router builds paths from route names (``router.url_for``); the absolute URL is
``get_absolute_url_to_path``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from blacksheep import Application, Content, Request, Response, Router, StreamedContent, text
from blacksheep.cookies import Cookie
from blacksheep.messages import get_absolute_url_to_path, get_request_absolute_url
from blacksheep.server.responses import file as file_response
from blacksheep.server.responses import json, no_content
from blacksheep.server.websocket import WebSocket, WebSocketDisconnectError

from bench.frameworks._shared import conformance as support
from bench.frameworks.blacksheep import app as contract_app

NAME = "blacksheep"
FEATURES = frozenset({"url_for", "file", "accept_headers", "close_reason", "static", "forms"})


def add_conformance_routes(router: Router) -> None:
    """Register the conformance endpoints (see conformance/apps/__init__.py)."""

    @router.get("/conformance/scope", name=support.SCOPE_ROUTE_NAME)
    async def scope_echo(request: Request) -> Response:
        path = router.url_for(support.SCOPE_ROUTE_NAME)
        url_for = str(get_absolute_url_to_path(request, path).value.decode())
        url = get_request_absolute_url(request).value.decode()
        return json(support.scope_view(request.scope, url=url, url_for=url_for))

    @router.post("/conformance/echo")
    async def body_echo(request: Request) -> Response:
        body = await request.read() or b""
        return Response(200, None, Content(b"application/octet-stream", body))

    @router.get("/conformance/headers")
    async def headers() -> Response:
        response = text("ok")
        response.add_header(b"X-Conformance-Case", b"Mixed")
        response.set_cookie(Cookie("first", "1"))
        response.set_cookie(Cookie("second", "2"))
        return response

    @router.get("/conformance/no-content")
    async def no_content_endpoint() -> Response:
        return no_content()

    @router.get("/conformance/file")
    async def file() -> Response:
        return file_response(support.conformance_file(), "text/plain")

    @router.get("/conformance/error")
    async def error() -> Response:
        raise RuntimeError("handler failed on purpose (conformance)")

    @router.get("/conformance/disconnect")
    async def disconnect_probe(request: Request) -> Response:
        record = support.probe_started(request.query.get("id", [""])[0], "stream")

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

        return Response(200, None, StreamedContent(b"application/octet-stream", chunks))

    @router.get("/conformance/probe")
    async def probe_result(request: Request) -> Response:
        result = support.probe_result(request.query.get("id", [""])[0])
        return json(result, 200 if result is not None else 404)

    @router.post("/conformance/form")
    async def form(request: Request) -> Response:
        fields = await request.form() or {}
        return json({"fields": len(fields)})

    add_websocket_routes(router)


def add_websocket_routes(router: Router) -> None:
    """The WebSocket conformance endpoints (no denial response: BlackSheep has no API)."""

    @router.ws("/conformance/ws/close-before-accept")
    async def ws_close_before_accept(websocket: WebSocket) -> None:
        await websocket.close(code=1000)

    @router.ws("/conformance/ws/subprotocol")
    async def ws_subprotocol(websocket: WebSocket) -> None:
        chosen = "chat.v2" if "chat.v2" in websocket.scope.get("subprotocols", []) else None
        await websocket.accept(subprotocol=chosen)
        await websocket.send_text(chosen or "")
        await websocket.close()

    @router.ws("/conformance/ws/close")
    async def ws_close(websocket: WebSocket) -> None:
        await websocket.accept()
        code = int(websocket.query.get("code", ["1000"])[0])
        await websocket.close(code=code, reason=websocket.query.get("reason", [""])[0])

    @router.ws("/conformance/ws/accept-headers")
    async def ws_accept_headers(websocket: WebSocket) -> None:
        await websocket.accept(headers=[(b"x-conformance", b"accepted")])
        await websocket.send_text("accepted")
        await websocket.close()

    @router.ws("/conformance/ws/disconnect")
    async def ws_disconnect_probe(websocket: WebSocket) -> None:
        probe_id = websocket.query.get("id", [""])[0]
        record = support.probe_started(probe_id, "websocket")
        await websocket.accept()
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnectError as exc:
            # BlackSheep keeps only the code of the disconnect event, not its reason.
            record.update(state="disconnected", code=exc.code, reason=None)


def build() -> Application:
    """The contract app (with its startup/stop events) plus the conformance endpoints."""
    router = Router()
    add_conformance_routes(router)
    built = contract_app.build(router=router)
    built.serve_files(support.static_dir(), root_path="conformance/static")
    return built


def build_failing_startup() -> Application:
    """An app whose start event raises (BlackSheep should answer lifespan.startup.failed)."""
    router = Router()
    add_conformance_routes(router)
    built = Application(router=router)

    async def fail(application: Application) -> None:
        support.fail_startup()

    built.on_start += fail
    return built


app = build()
app_failing_startup = build_failing_startup()
