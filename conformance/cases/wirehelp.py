"""Small helpers shared by the over-the-wire groups (B-E)."""

from __future__ import annotations

import json
import time
from typing import Any

from conformance.cases.model import Context
from conformance.targets import CONNECTION_HEADER, new_connection_id
from conformance.wire import http1

Result = http1.Response | str


def raw_request(
    ctx: Context, raw: bytes, *, method: str = "GET", timeout: float = 5.0, port: int | None = None
) -> Result:
    """Send raw bytes on a fresh connection; the parsed response, or a description of why not."""
    try:
        return http1.exchange(port or ctx.port, raw, method=method, timeout=timeout)
    except http1.PeerClosed as exc:
        return f"connection closed ({exc}; {len(exc.received)} bytes)"
    except http1.FramingError as exc:
        return f"malformed response: {exc}"
    except (OSError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"


def tagged(
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    **options: Any,
) -> tuple[bytes, str]:
    """A well-formed request carrying a fresh connection id; returns (bytes, id)."""
    connection = new_connection_id()
    fields = [*(headers or []), (CONNECTION_HEADER, connection)]
    return http1.build_request(method, target, fields, body, **options), connection


def status_of(result: Result) -> int | str:
    """The status, or the failure description."""
    return result.status if isinstance(result, http1.Response) else result


def probe_result(
    ctx: Context, probe_id: str, *, until: str | None = None, timeout: float = 4.0
) -> dict[str, Any] | None:
    """Read what a raw probe recorded, optionally waiting for a state."""
    deadline = time.monotonic() + timeout
    found: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        response = raw_request(
            ctx, http1.build_request("GET", f"/conformance/raw/result?id={probe_id}")
        )
        if isinstance(response, http1.Response) and response.status == 200:
            found = json.loads(response.body)
            if until is None or (found or {}).get("state") == until:
                return found
        time.sleep(0.1)
    return found


def wait_scope(ctx: Context, connection: str) -> dict[str, Any] | None:
    """The scope the server handed the app for ``connection``."""
    ctx.wire.events.wait_finished(connection, 3.0)
    return ctx.wire.events.scope(connection)


def rejected(result: Result, *, allowed: tuple[int, ...] = (400,), close_ok: bool = True) -> bool:
    """The server refused the request: an allowed 4xx status, or (``close_ok``) it closed the
    connection without answering."""
    if isinstance(result, http1.Response):
        return result.status in allowed
    return close_ok and result.startswith("connection closed")


def server_log_has_error(ctx: Context, before: int) -> str:
    """The first error-looking line the server logged after offset ``before``."""
    text = ctx.wire.server_log_text()[before:]
    for line in text.splitlines():
        if "Traceback" in line or " ERROR" in line.upper() or "Exception in ASGI" in line:
            return line.strip()
    return ""
