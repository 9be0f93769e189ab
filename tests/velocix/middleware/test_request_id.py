"""RequestIDMiddleware: generated or validated incoming ids, in state, header and context."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from velocix.middleware import RequestIDMiddleware, get_request_id

pytestmark = pytest.mark.anyio


class Recorder:
    """An app that records the request id it sees in the scope state and the context var."""

    def __init__(self) -> None:
        self.state_ids: list[str] = []
        self.context_ids: list[str | None] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.state_ids.append(scope["state"]["request_id"])
        self.context_ids.append(get_request_id())
        headers = [(b"x-request-id", b"app-chosen")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def test_generates_uuid4_hex_everywhere(asgi: Any) -> None:
    recorder = Recorder()
    result = await asgi(RequestIDMiddleware(recorder))
    request_id = result.header("x-request-id")
    assert request_id is not None
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert uuid.UUID(request_id).version == 4
    assert uuid.UUID(request_id).variant == uuid.RFC_4122
    assert result.header_values("x-request-id") == [request_id]
    assert recorder.state_ids == [request_id]
    assert recorder.context_ids == [request_id]
    assert get_request_id() is None  # Reset after the request.


async def test_ids_are_unique(asgi: Any) -> None:
    app = RequestIDMiddleware(Recorder())
    ids = {(await asgi(app)).header("x-request-id") for _ in range(20)}
    assert len(ids) == 20


async def test_valid_incoming_id_is_propagated(asgi: Any) -> None:
    recorder = Recorder()
    result = await asgi(RequestIDMiddleware(recorder), headers=[("X-Request-ID", "abc-123.x:y")])
    assert result.header("x-request-id") == "abc-123.x:y"
    assert recorder.state_ids == ["abc-123.x:y"]


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param("a" * 129, id="too-long"),
        pytest.param("abc def", id="space"),
        pytest.param("<script>", id="markup"),
        pytest.param("", id="empty"),
        pytest.param("id\x7f", id="control"),
    ],
)
async def test_invalid_incoming_id_is_replaced(asgi: Any, incoming: str) -> None:
    result = await asgi(RequestIDMiddleware(Recorder()), headers=[("x-request-id", incoming)])
    assert result.header("x-request-id") != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", result.header("x-request-id") or "")


async def test_incoming_ignored_when_not_trusted(asgi: Any) -> None:
    app = RequestIDMiddleware(Recorder(), trust_incoming=False)
    result = await asgi(app, headers=[("x-request-id", "client-chosen")])
    assert result.header("x-request-id") != "client-chosen"


async def test_custom_header_and_generator(asgi: Any) -> None:
    app = RequestIDMiddleware(Recorder(), header_name="X-Correlation-ID", generator=lambda: "fixed")
    result = await asgi(app)
    assert result.header("x-correlation-id") == "fixed"


async def test_id_goes_into_the_per_request_state_in_place() -> None:
    # The server's per-request state dict is meant to be written (request.state uses it);
    # the scope object itself keeps its identity so outer middleware see scope["route"].
    state: dict[str, Any] = {"shared": 1}
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [],
        "state": state,
    }
    seen: list[Any] = []

    async def app(inner: Any, receive: Any, send: Any) -> None:
        seen.append(inner)

    await RequestIDMiddleware(app)(scope, None, None)
    assert seen == [scope]
    assert seen[0] is scope
    assert set(state) == {"shared", "request_id"}


async def test_scope_without_state_is_copied_not_mutated() -> None:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": []}
    seen: list[Any] = []

    async def app(inner: Any, receive: Any, send: Any) -> None:
        seen.append(inner)

    await RequestIDMiddleware(app)(scope, None, None)
    assert "state" not in scope
    assert seen[0]["state"]["request_id"]
