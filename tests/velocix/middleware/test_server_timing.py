"""ServerTimingMiddleware and record_timing()."""

from __future__ import annotations

import re
from typing import Any

import pytest

from velocix.middleware import ServerTimingMiddleware, record_timing

pytestmark = pytest.mark.anyio


async def app(scope: Any, receive: Any, send: Any) -> None:
    record_timing(scope, "db", 1.25, 'query "users"\r\nX-Evil: 1')
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def test_header_has_total_and_recorded_entries(asgi: Any) -> None:
    result = await asgi(ServerTimingMiddleware(app))
    value = result.header("server-timing") or ""
    assert re.fullmatch(r'app;dur=\d+\.\d, db;dur=1\.2;desc="query \\"users\\"X-Evil: 1"', value)


def test_record_timing_without_middleware_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="ServerTimingMiddleware"):
        record_timing({"type": "http"}, "db", 1.0)


def test_names_must_be_tokens() -> None:
    with pytest.raises(ValueError, match="token"):
        record_timing({"state": {"server_timing": []}}, "a b", 1.0)
    with pytest.raises(ValueError, match="metric name"):
        ServerTimingMiddleware(app, metric_name="a;b")
