"""The wrapper forwards what the app sends: checking an event must not change what arrives."""

from __future__ import annotations

from typing import Any

import pytest

from conformance import validate
from conformance.inprocess import http_scope


async def generator_headers_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    headers = ((name, value) for name, value in [(b"content-type", b"text/plain")])
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.anyio
async def test_one_shot_headers_are_checked_and_still_reach_the_server() -> None:
    # Sanic sends its headers as a generator: the check must not use them up.
    wrapped = validate(generator_headers_app, strict=False)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await wrapped(http_scope("GET", "/"), receive, send)
    assert list(sent[0]["headers"]) == [(b"content-type", b"text/plain")]
    assert "message.value-type" in wrapped.rules_violated()  # a generator is still reported
