"""Litestar: the lab's contract app plus the conformance endpoints, in Litestar's idiom.

Litestar has no WebSocket denial-response API (``websocket.http.response`` is only an enum
member), so ``denial_response`` is not among its features.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from litestar import MediaType, Request, Response, get, post, websocket
from litestar.connection import WebSocket
from litestar.datastructures import Cookie
from litestar.params import FromQuery
from litestar.response import File, Stream
from litestar.static_files import create_static_files_router

from bench.frameworks._shared import conformance as support
from bench.frameworks.litestar import app as contract_app

NAME = "litestar"
FEATURES = frozenset({"url_for", "file", "accept_headers", "close_reason", "static", "forms"})


@get("/conformance/scope", name=support.SCOPE_ROUTE_NAME)
async def scope_echo(request: Request[Any, Any, Any]) -> dict[str, Any]:
    url_for = request.url_for(support.SCOPE_ROUTE_NAME)
    return support.scope_view(request.scope, url=str(request.url), url_for=url_for)


@post("/conformance/echo", status_code=200)
async def body_echo(request: Request[Any, Any, Any]) -> Response[bytes]:
    return Response(await request.body(), media_type="application/octet-stream")


@get("/conformance/headers", media_type=MediaType.TEXT)
async def headers() -> Response[str]:
    return Response(
        "ok",
        headers={"X-Conformance-Case": "Mixed"},
        cookies=[Cookie(key="first", value="1"), Cookie(key="second", value="2")],
    )


@get("/conformance/no-content", status_code=204)
async def no_content() -> None:
    return None


@get("/conformance/file")
async def file() -> File:
    return File(
        support.conformance_file(), media_type="text/plain", content_disposition_type="inline"
    )


@get("/conformance/error")
async def error() -> None:
    raise RuntimeError("handler failed on purpose (conformance)")


@get("/conformance/disconnect")
async def disconnect_probe(id: FromQuery[str] = "") -> Stream:
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

    return Stream(chunks(), media_type="application/octet-stream")


@get("/conformance/probe")
async def probe_result(id: FromQuery[str] = "") -> Response[Any]:
    result = support.probe_result(id)
    return Response(result, status_code=200 if result is not None else 404)


@post("/conformance/form", status_code=200)
async def form(request: Request[Any, Any, Any]) -> dict[str, int]:
    fields = await request.form()
    return {"fields": len(fields)}


@websocket("/conformance/ws/close-before-accept")
async def ws_close_before_accept(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.close(code=1000)


@websocket("/conformance/ws/subprotocol")
async def ws_subprotocol(socket: WebSocket[Any, Any, Any]) -> None:
    chosen = "chat.v2" if "chat.v2" in socket.scope.get("subprotocols", []) else None
    await socket.accept(subprotocols=chosen)
    await socket.send_text(chosen or "")
    await socket.close()


@websocket("/conformance/ws/close")
async def ws_close(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    code = int(socket.query_params.get("code", "1000"))
    await socket.close(code=code, reason=socket.query_params.get("reason", ""))


@websocket("/conformance/ws/accept-headers")
async def ws_accept_headers(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept(headers=[(b"x-conformance", b"accepted")])
    await socket.send_text("accepted")
    await socket.close()


@websocket("/conformance/ws/disconnect")
async def ws_disconnect_probe(socket: WebSocket[Any, Any, Any]) -> None:
    record = support.probe_started(socket.query_params.get("id", ""), "websocket")
    await socket.accept()
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            record.update(
                state="disconnected", code=message.get("code"), reason=message.get("reason")
            )
            return


def conformance_handlers() -> list[Any]:
    """The conformance endpoints (see conformance/apps/__init__.py for their contract)."""
    return [
        scope_echo,
        body_echo,
        headers,
        no_content,
        file,
        error,
        disconnect_probe,
        probe_result,
        form,
        create_static_files_router("/conformance/static", directories=[support.static_dir()]),
        ws_close_before_accept,
        ws_subprotocol,
        ws_close,
        ws_accept_headers,
        ws_disconnect_probe,
    ]


def build(**options: Any) -> Any:
    """Contract handlers + conformance handlers, with the contract's lifespan (or ``options``)."""
    return contract_app.build(extra=conformance_handlers(), **options)


async def failing_startup() -> None:
    support.fail_startup()


app = build()
app_failing_startup = build(lifespan=[], on_startup=[failing_startup])
