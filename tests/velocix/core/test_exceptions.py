"""velocix.core.exceptions: HTTPException, the single error body format, validation errors."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from velocix.core.exceptions import (
    HTTPException,
    RequestValidationError,
    WebSocketException,
    error_response,
    status_phrase,
)
from velocix.core.response import JSONResponse


async def run(response: JSONResponse, method: str = "GET") -> tuple[int, dict[bytes, bytes], Any]:
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async def receive() -> dict[str, Any]:
        raise AssertionError("a response must not read the request")

    await response({"type": "http", "method": method, "headers": []}, receive, send)
    start, body = messages
    body_bytes = body["body"]
    return start["status"], dict(start["headers"]), msgspec.json.decode(body_bytes or b"null")


def test_detail_defaults_to_status_phrase() -> None:
    exc = HTTPException(404)
    assert exc.detail == "Not Found"
    assert exc.headers is None
    assert str(exc) == "404: Not Found"


def test_unknown_status_phrase_is_generic() -> None:
    assert status_phrase(499) == "Error"
    assert HTTPException(499).detail == "Error"


@pytest.mark.anyio
async def test_http_exception_headers_are_sent() -> None:
    """Seed defect: HTTPException headers were dropped (no WWW-Authenticate on 401)."""
    exc = HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    status, headers, body = await run(exc.response())
    assert status == 401
    assert headers[b"www-authenticate"] == b"Bearer"
    assert body == {"detail": "Not authenticated", "status": 401}


@pytest.mark.anyio
async def test_error_body_format() -> None:
    status, headers, body = await run(error_response(404))
    assert status == 404
    assert body == {"detail": "Not Found", "status": 404}
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"content-length"] == str(len(msgspec.json.encode(body))).encode()


@pytest.mark.anyio
async def test_error_response_with_allow_header() -> None:
    status, headers, body = await run(
        error_response(405, headers={"Allow": "GET, HEAD"}), method="POST"
    )
    assert (status, headers[b"allow"], body["detail"]) == (405, b"GET, HEAD", "Method Not Allowed")


@pytest.mark.anyio
async def test_validation_error_body_lists_errors() -> None:
    errors = [{"loc": ["query", "page"], "msg": "Expected `int`, got `str`", "type": "type_error"}]
    exc = RequestValidationError(errors)
    assert exc.status_code == 422
    status, _, body = await run(exc.response())
    assert status == 422
    assert body == {"detail": "Request validation failed", "status": 422, "errors": errors}


@pytest.mark.anyio
async def test_errors_key_only_for_validation() -> None:
    _, _, body = await run(error_response(400, "Malformed JSON: truncated"))
    assert "errors" not in body
    _, _, body = await run(error_response(422, errors=[]))
    assert body["errors"] == []


@pytest.mark.anyio
async def test_detail_may_be_structured() -> None:
    _, _, body = await run(HTTPException(409, {"id": 3, "reason": "exists"}).response())
    assert body["detail"] == {"id": 3, "reason": "exists"}


def test_websocket_exception_carries_code_and_reason() -> None:
    exc = WebSocketException(1008, "policy")
    assert (exc.code, exc.reason, str(exc)) == (1008, "policy", "1008: policy")
    assert str(WebSocketException(1011)) == "1011"
