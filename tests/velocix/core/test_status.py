"""velocix.core.status: the constant table matches http.HTTPStatus."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from velocix.core import status


@pytest.mark.parametrize("code", list(HTTPStatus), ids=lambda c: str(c.value))
def test_every_http_status_has_a_constant(code: HTTPStatus) -> None:
    assert getattr(status, f"HTTP_{code.value}_{code.name}") == code.value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HTTP_413_CONTENT_TOO_LARGE", 413),
        ("HTTP_416_RANGE_NOT_SATISFIABLE", 416),
        ("HTTP_422_UNPROCESSABLE_CONTENT", 422),
        ("WS_1000_NORMAL_CLOSURE", 1000),
        ("WS_1008_POLICY_VIOLATION", 1008),
        ("WS_1011_INTERNAL_ERROR", 1011),
    ],
)
def test_rfc9110_and_websocket_names(name: str, value: int) -> None:
    assert getattr(status, name) == value


def test_all_lists_exactly_the_constants() -> None:
    constants = {n for n in vars(status) if n.startswith(("HTTP_", "WS_"))}
    assert set(status.__all__) == constants
