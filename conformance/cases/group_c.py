"""Group C: WebSocket over the wire (checklist items 43-53).

Happy paths go through the ``websockets`` client; handshake errors and protocol violations
are written as raw frames (:mod:`conformance.wire.websocket`), which no client library sends.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from typing import Any

from conformance.cases.group_d import terminate_leader
from conformance.cases.model import Case, Context, Outcome, failed, not_applicable, passed, verdict
from conformance.cases.wirehelp import raw_request
from conformance.targets import CONNECTION_HEADER, new_connection_id, wire_target
from conformance.validator.report import Reporter
from conformance.validator.rules import Violation
from conformance.validator.scope import check_scope, spec_version
from conformance.wire import http1
from conformance.wire import websocket as rawws

ECHO_PROBE = "/conformance/raw/ws/echo"
REFUSE_PROBE = "/conformance/raw/ws/refuse"


def _echo_path(ctx: Context) -> str:
    """The framework's own echo route in the matrix; the raw probe beside anyone's app."""
    return ECHO_PROBE if ctx.check_mode else "/ws/echo"


def _ws_scope(ctx: Context) -> dict[str, Any]:
    """The scope the server builds for a WebSocket (read from the raw echo probe)."""

    def fetch() -> dict[str, Any]:
        ws = ctx.target.websocket(ECHO_PROBE)
        ws.close()
        return ctx.wire.events.scope(ws.connection) or {}

    scope: dict[str, Any] = ctx.once("ws-scope", fetch)
    return scope


def c43a_scope_types(ctx: Context) -> Outcome:
    scope = _ws_scope(ctx)
    if not scope:
        return failed(f"no WebSocket scope logged for {ECHO_PROBE}")
    problems: list[str] = []

    def collect(violation: Violation) -> None:
        problems.append(f"[{violation.rule}] {violation.message}")

    # The validator's scope rules, as the HTTP scopes get them (B21-B23): versions, types,
    # int ports, lowercase headers, a list of str subprotocols.
    check_scope(scope, Reporter(collect, strict=False, scope_type="websocket"))
    asgi = scope.get("asgi") or {}
    observed = {k: repr(scope.get(k)) for k in ("asgi", "http_version", "client", "server")}
    return verdict(
        sorted(set(problems)),
        f"asgi {asgi}, http_version {scope.get('http_version')!r}, int ports",
        observed=observed,
    )


def c43_handshake(ctx: Context) -> Outcome:
    ws = ctx.target.websocket("/ws/echo")
    if not ws.accepted:
        return failed(f"handshake answered {ws.status}", ws.status, 101)
    ws.send("x")
    ws.recv()
    ws.close()
    wrong = [v for v in ws.violations() if v.rule in ("receive.order", "receive.message")]
    if wrong:
        return failed("; ".join(str(v) for v in wrong))
    return passed("websocket.connect first; 101 only after accept")


def c44_close_before_accept(ctx: Context) -> Outcome:
    path = REFUSE_PROBE if ctx.check_mode else "/conformance/ws/close-before-accept"
    with http1.Connection(ctx.port) as conn:
        conn.send(rawws.handshake_request(path))
        try:
            response = conn.read_response()
        except (http1.FramingError, http1.PeerClosed, TimeoutError, OSError) as exc:
            return failed(f"close before accept: no HTTP answer ({exc})", str(exc), 403)
        closed = conn.wait_closed(2.0)
    failures = []
    if response.status != 403:
        failures.append(f"close before accept answered {response.status}, expected 403")
    if not closed:
        failures.append("the connection stayed open after the refusal (the server must close it)")
    return verdict(
        failures,
        "HTTP 403, then the connection closed",
        observed={"status": response.status, "closed": closed},
        expected={"status": 403, "closed": True},
    )


def c45_denial(ctx: Context) -> Outcome:
    if "websocket.http.response" not in (_ws_scope(ctx).get("extensions") or {}):
        return not_applicable(f"{ctx.server} does not offer websocket.http.response")
    result = raw_request(ctx, rawws.handshake_request("/conformance/ws/denial"))
    if not isinstance(result, http1.Response):
        return failed(f"denial response not delivered: {result}")
    observed = {
        "status": result.status,
        "x-denied": repr(result.header("x-denied")),
        "body": repr(result.body),
    }
    ok = result.status == 401 and result.header("x-denied") == b"yes" and result.body == b"denied"
    return verdict(
        [] if ok else ["status, header or body not passed through"],
        "status, headers and body passed through",
        observed,
        {"status": 401, "x-denied": "b'yes'", "body": "b'denied'"},
    )


def c46_subprotocols(ctx: Context) -> Outcome:
    connection = new_connection_id("w")
    raw = rawws.handshake_request(
        "/conformance/ws/subprotocol",
        headers=[("Sec-WebSocket-Protocol", "chat.v1, chat.v2"), (CONNECTION_HEADER, connection)],
    )
    with http1.Connection(ctx.port) as conn:
        conn.send(raw)
        try:
            response = conn.read_response()
        except (http1.FramingError, http1.PeerClosed, TimeoutError, OSError) as exc:
            return failed(f"handshake failed: {exc}")
        conn.send(rawws.frame(rawws.OP_CLOSE, rawws.close_payload(1000)))
    ctx.wire.events.wait_finished(connection, 3.0)
    offered = (ctx.wire.events.scope(connection) or {}).get("subprotocols")
    failures = []
    if list(offered or []) != ["chat.v1", "chat.v2"]:
        failures.append(f"scope subprotocols {offered!r}, expected ['chat.v1', 'chat.v2']")
    if response.header("sec-websocket-protocol") != b"chat.v2":
        failures.append(f"Sec-WebSocket-Protocol {response.header('sec-websocket-protocol')!r}")
    return verdict(
        failures,
        "split on commas; chosen one echoed",
        observed={"scope": repr(offered), "status": response.status},
    )


def c47_accept_headers(ctx: Context) -> Outcome:
    advertised = spec_version(_ws_scope(ctx))
    if advertised < (2, 1):
        return not_applicable(f"{ctx.server} advertises spec {advertised}: accept headers are 2.1")
    conn, response = rawws.open_raw(ctx.port, "/conformance/ws/accept-headers")
    conn.close()
    if response.status != 101:
        return failed(f"handshake answered {response.status}", response.status, 101)
    if response.header("x-conformance") != b"accepted":
        return failed("accept headers not passed through", repr(response.headers))
    return passed("x-conformance: accepted on the 101")


def c48_close_passthrough(ctx: Context) -> Outcome:
    seen: dict[str, Any] = {}
    for path, expected in (
        ("/conformance/ws/close?code=4001&reason=bye", (4001, "bye")),
        ("/conformance/ws/close", (1000, "")),
    ):
        conn, _response = rawws.open_raw(ctx.port, path)
        frame = rawws.read_frame(conn)
        conn.close()
        if frame is None or frame.opcode != rawws.OP_CLOSE:
            seen[path] = "no close frame"
            continue
        seen[path] = (frame.close_code, frame.payload[2:].decode("utf-8", "replace"))
        # The reason key of websocket.close is spec 2.3: before that only the code must pass.
        if "close_reason" not in ctx.features or spec_version(_ws_scope(ctx)) < (2, 3):
            seen[path] = (frame.close_code, expected[1])
    wanted = {
        "/conformance/ws/close?code=4001&reason=bye": (4001, "bye"),
        "/conformance/ws/close": (1000, ""),
    }
    failures = [f"{p}: {seen[p]!r}, expected {w!r}" for p, w in wanted.items() if seen[p] != w]
    return verdict(
        failures,
        "code and reason passed through; default 1000",
        observed={k: repr(v) for k, v in seen.items()},
    )


def _probe(ctx: Context, probe: str) -> dict[str, Any]:
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        result = raw_request(ctx, http1.build_request("GET", f"/conformance/probe?id={probe}"))
        if isinstance(result, http1.Response) and result.status == 200:
            data: dict[str, Any] = json.loads(result.body)
            if data.get("state") == "disconnected":
                return data
        time.sleep(0.1)
    return {}


def c49_disconnect_codes(ctx: Context) -> Outcome:
    seen: dict[str, Any] = {}
    for label, action in (
        ("client code 4002", "code"),
        ("no code (1005)", "empty"),
        ("abnormal (1006)", "drop"),
    ):
        probe = f"c49-{action}-{time.monotonic_ns()}"
        conn, response = rawws.open_raw(ctx.port, f"/conformance/ws/disconnect?id={probe}")
        if response.status != 101:
            seen[label] = f"handshake {response.status}"
            conn.close()
            continue
        if action == "code":
            conn.send(rawws.frame(rawws.OP_CLOSE, rawws.close_payload(4002, "client-bye")))
        elif action == "empty":
            conn.send(rawws.frame(rawws.OP_CLOSE, b""))
        else:
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if action != "drop":
            rawws.read_frame(conn, 1.0)
        conn.close()
        seen[label] = _probe(ctx, probe).get("code")
    expected = {"client code 4002": 4002, "no code (1005)": 1005, "abnormal (1006)": 1006}
    failures = [f"{k}: app got {seen[k]!r}" for k, v in expected.items() if seen[k] != v]
    return verdict(failures, "client code, 1005 and 1006 reported", seen, expected)


def c50_shutdown_close(ctx: Context) -> Outcome:
    with wire_target(ctx.server, ctx.app_ref, ctx.workdir) as variant:
        conn, response = rawws.open_raw(variant.port, "/ws/echo")
        if response.status != 101:
            conn.close()
            return failed(f"handshake answered {response.status}")
        stopper = threading.Thread(target=terminate_leader, args=(variant, 8.0))
        stopper.start()
        frame = rawws.read_frame(conn, 6.0)
        with contextlib.suppress(OSError):
            conn.send(rawws.frame(rawws.OP_CLOSE, rawws.close_payload(1000)))
        conn.close()
        stopper.join(10)
    code = frame.close_code if frame is not None else None
    if code not in (1001, 1012):
        return failed(
            f"server shutdown closed the socket with {code or 'no close frame'}",
            code,
            "1012 (service restart) or 1001 (going away)",
        )
    return passed(f"shutdown closes with {code}", code)


def c51_ping_fragments(ctx: Context) -> Outcome:
    conn, _response = rawws.open_raw(ctx.port, _echo_path(ctx))
    failures = []
    try:
        conn.send(rawws.frame(rawws.OP_PING, b"p1"))
        pong = rawws.read_frame(conn)
        if pong is None or pong.opcode != rawws.OP_PONG or pong.payload != b"p1":
            failures.append(f"ping answered with {pong}")
        conn.send(rawws.frame(rawws.OP_TEXT, b"hel", fin=False) + rawws.frame(rawws.OP_CONT, b"lo"))
        parts, frame = [], rawws.read_frame(conn)
        while frame is not None and frame.opcode in (rawws.OP_TEXT, rawws.OP_CONT):
            parts.append(frame.payload)
            if frame.fin:
                break
            frame = rawws.read_frame(conn)
        if b"".join(parts) != b"hello":
            failures.append(f"fragmented 'hel'+'lo' echoed as {parts!r}")
        conn.send(rawws.frame(rawws.OP_CLOSE, rawws.close_payload(1000)))
    finally:
        conn.close()
    return verdict(failures, "pong from the server; whole message delivered to the app")


_BAD_FRAMES = {
    "unmasked frame": (rawws.frame(rawws.OP_TEXT, b"x", mask=False), (1002,)),
    "RSV1 without extension": (rawws.frame(rawws.OP_TEXT, b"x", rsv=4), (1002,)),
    "invalid UTF-8 text": (rawws.frame(rawws.OP_TEXT, b"\xff\xfe"), (1007,)),
    "126-byte ping": (rawws.frame(rawws.OP_PING, b"p" * 126), (1002,)),
    "fragmented ping": (rawws.frame(rawws.OP_PING, b"p", fin=False), (1002,)),
}


def c52_rfc6455(ctx: Context) -> Outcome:
    seen: dict[str, Any] = {}
    for label, (data, _codes) in _BAD_FRAMES.items():
        conn, _response = rawws.open_raw(ctx.port, _echo_path(ctx))
        try:
            conn.send(data)
            frame = rawws.read_frame(conn, 2.0)
            while frame is not None and frame.opcode != rawws.OP_CLOSE:
                frame = rawws.read_frame(conn, 2.0)
        except OSError:
            frame = None
        finally:
            conn.close()
        if frame is None:
            seen[label] = "dropped without a close frame"
        else:
            seen[label] = frame.close_code or "close frame without a status code"
    failures = [
        f"{label}: {seen[label]}"
        for label, (_, codes) in _BAD_FRAMES.items()
        if seen[label] not in codes
    ]
    return verdict(
        failures,
        "each protocol error closes with its RFC 6455 code",
        observed=seen,
        expected={label: codes[0] for label, (_, codes) in _BAD_FRAMES.items()},
    )


def c53_bad_handshake(ctx: Context) -> Outcome:
    result = raw_request(ctx, rawws.handshake_request(_echo_path(ctx), version="12"))
    if not isinstance(result, http1.Response):
        return failed(f"wrong version: {result}")
    versions = result.header("sec-websocket-version") or b""
    failures = []
    if not 400 <= result.status < 500:
        failures.append(f"wrong version answered {result.status}, expected a 4xx (426)")
    if b"13" not in versions:
        failures.append(f"no Sec-WebSocket-Version: 13 in the {result.status} answer")
    note = "" if result.status == 426 else f" ({result.status}; RFC suggests 426)"
    return verdict(
        failures,
        "refused with Sec-WebSocket-Version: 13" + note,
        observed={"status": result.status, "version": repr(versions)},
    )


_WWW = "asgiref specs/www.rst"
_SERVER_ONLY = frozenset({"raw"})
_SERVER_REASON = "server behaviour with a fresh server process: checked in the raw column"
CASES: tuple[Case, ...] = (
    Case(
        "C43",
        "C",
        43,
        "Handshake held until accept; websocket.connect comes first",
        f"{_WWW} Connect",
        ("ws:/ws/echo",),
        c43_handshake,
        where="wire",
        tools=("GC",),
    ),
    Case(
        "C43a",
        "C",
        43,
        "WebSocket scope types: asgi version, http_version, int ports, subprotocols list",
        f"{_WWW} Websocket Connection Scope",
        (f"ws:{ECHO_PROBE}",),
        c43a_scope_types,
        where="wire",
        tools=("AS",),
        generic=True,
    ),
    Case(
        "C44",
        "C",
        44,
        "Close before accept gives HTTP 403 and the connection is closed",
        f"{_WWW} Close; granian #818",
        ("ws:/conformance/ws/close-before-accept",),
        c44_close_before_accept,
        where="wire",
        tools=("GC",),
        generic=True,
    ),
    Case(
        "C45",
        "C",
        45,
        "A denial response passes status, headers and body through",
        "asgiref docs/extensions.rst Websocket Denial Response",
        ("ws:/conformance/ws/denial",),
        c45_denial,
        where="wire",
        needs=frozenset({"denial_response"}),
    ),
    Case(
        "C46",
        "C",
        46,
        "subprotocols split on commas; the chosen one echoed",
        f"{_WWW} Websocket Connection Scope; granian #815",
        ("ws:/conformance/ws/subprotocol",),
        c46_subprotocols,
        where="wire",
        tools=("GC",),
    ),
    Case(
        "C47",
        "C",
        47,
        "Accept headers passed through (spec 2.1)",
        f"{_WWW} Accept",
        ("ws:/conformance/ws/accept-headers",),
        c47_accept_headers,
        where="wire",
        needs=frozenset({"accept_headers"}),
    ),
    Case(
        "C48",
        "C",
        48,
        "Close code and reason passed through, default 1000",
        f"{_WWW} Close",
        ("ws:/conformance/ws/close",),
        c48_close_passthrough,
        where="wire",
        tools=("GC",),
    ),
    Case(
        "C49",
        "C",
        49,
        "Disconnect code: the client's, 1005 without one, 1006 when abnormal",
        f"{_WWW} Disconnect; hypercorn #127; uvicorn #1753",
        ("ws:/conformance/ws/disconnect",),
        c49_disconnect_codes,
        where="wire",
        tools=("GC",),
    ),
    Case(
        "C50",
        "C",
        50,
        "Server shutdown closes open sockets with 1012 (or 1001)",
        "RFC 6455 §7.4.1; uvicorn #1816; granian #798",
        ("ws:/ws/echo",),
        c50_shutdown_close,
        where="wire",
        frameworks=_SERVER_ONLY,
        reason_other_frameworks=_SERVER_REASON,
    ),
    Case(
        "C51",
        "C",
        51,
        "Ping/pong and fragmentation handled by the server",
        f"{_WWW} WebSocket (SHOULD)",
        ("ws:/ws/echo",),
        c51_ping_fragments,
        where="wire",
        tools=("AB",),
        generic=True,
    ),
    Case(
        "C52",
        "C",
        52,
        "RFC 6455: masking, RSV bits, UTF-8 (1007), control-frame limits",
        "RFC 6455 §5.1-5.5, §8.1",
        ("ws:/ws/echo",),
        c52_rfc6455,
        where="wire",
        tools=("AB",),
        generic=True,
    ),
    Case(
        "C53",
        "C",
        53,
        "Unsupported version: 426 with Sec-WebSocket-Version",
        "RFC 6455 §4.2.2, §4.4",
        ("ws:/ws/echo",),
        c53_bad_handshake,
        where="wire",
        generic=True,
    ),
)
