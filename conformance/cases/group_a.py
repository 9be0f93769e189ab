"""Group A: the messages a framework sends, checked by the validator (checklist items 1-20).

The "standard traffic" below exercises every contract and conformance endpoint once per cell;
the validator sits between server (or in-process driver) and framework, and each case then
looks for the rules it is about. In a wire cell the validator runs inside the server process.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

from bench.frameworks._shared.conformance import PROBE_CHUNKS, decode
from conformance.cases.model import (
    Case,
    Context,
    Outcome,
    failed,
    not_applicable,
    passed,
    verdict,
    violations_outcome,
)
from conformance.inprocess import http_call, http_scope
from conformance.targets import Exchange
from conformance.validator.rules import Violation
from conformance.wire import http1

JSON_CT = [("Content-Type", "application/json")]
STANDARD_TRAFFIC: tuple[tuple[str, str, list[tuple[str, str]], bytes], ...] = (
    ("GET", "/plaintext", [], b""),
    ("GET", "/json", [], b""),
    ("GET", "/users/42", [], b""),
    ("GET", "/users/abc", [], b""),
    ("GET", "/search?q=conformance&page=2", [], b""),
    ("POST", "/items", JSON_CT, b'{"name": "a", "price": 1.5, "tags": ["x"]}'),
    ("POST", "/items", JSON_CT, b'{"name": '),
    ("GET", "/records?n=3", [], b""),
    ("GET", "/stream?chunks=3&size=16", [], b""),
    ("GET", "/no/such/route", [], b""),
    ("DELETE", "/plaintext", [], b""),
    ("HEAD", "/plaintext", [], b""),
    ("GET", "/conformance/headers", [], b""),
    ("GET", "/conformance/scope", [], b""),
    ("POST", "/conformance/echo", [("Content-Type", "application/octet-stream")], b"hello"),
    ("GET", "/conformance/error", [], b""),
    ("GET", "/conformance/no-content", [], b""),
    ("GET", "/conformance/file", [], b""),
    ("GET", "/conformance/file", [("Range", "bytes=0-9")], b""),
)
TRAFFIC = "the standard traffic (contract + conformance endpoints)"


def standard_traffic(ctx: Context) -> list[Exchange]:
    """Every standard request once per cell (shared by the rule-based cases)."""

    def run() -> list[Exchange]:
        if ctx.traffic is not None:  # python -m conformance check: the user's own routes
            return [ctx.target.request(m, p, h, b) for m, p, h, b in ctx.traffic]
        return [ctx.target.request(m, p, h, b) for m, p, h, b in STANDARD_TRAFFIC]

    result: list[Exchange] = ctx.once("standard-traffic", run)
    return result


def traffic_violations(ctx: Context) -> list[Violation]:
    """Violations recorded over the standard traffic."""
    return [v for exchange in standard_traffic(ctx) for v in exchange.violations]


def traffic_name(ctx: Context) -> str:
    """What the standard traffic of this cell is, for messages."""
    if ctx.traffic is None:
        return TRAFFIC
    return f"{len(ctx.traffic)} requests on the app's own routes"


def rules_case(*rules: str) -> Any:
    """A runner failing on any error-severity violation of ``rules`` over the traffic."""

    def run(ctx: Context) -> Outcome:
        return violations_outcome(traffic_violations(ctx), set(rules), traffic_name(ctx))

    return run


def a06_extensions(ctx: Context) -> Outcome:
    violations = traffic_violations(ctx)
    if ctx.inprocess:  # no extension offered at all: a file response must use plain bodies
        violations += ctx.local.request("GET", "/conformance/file", extensions={}).violations
    return violations_outcome(violations, {"extension.not-advertised"}, traffic_name(ctx))


def a07_pathsend(ctx: Context) -> Outcome:
    if ctx.inprocess:
        exchange = ctx.local.request(
            "GET", "/conformance/file", extensions={"http.response.pathsend": {}}
        )
        used = exchange.body == b"" and exchange.status == 200
    else:
        scope = next((e.scope for e in standard_traffic(ctx) if e.scope), None) or {}
        if "http.response.pathsend" not in (scope.get("extensions") or {}):
            return not_applicable(f"{ctx.server} does not offer http.response.pathsend")
        exchange = ctx.target.request("GET", "/conformance/file")
        used = True
    rules = {"http.pathsend.misuse", "http.pathsend.headers", "http.content-length.mismatch"}
    outcome = violations_outcome(exchange.violations, rules, "GET /conformance/file")
    if outcome.kind == "pass" and ctx.inprocess and not used:
        return not_applicable(f"{ctx.framework} does not use pathsend when it is offered")
    return outcome


def a08_trailers(ctx: Context) -> Outcome:
    extensions: dict[str, dict[str, Any]] = {"http.response.trailers": {}}
    if ctx.inprocess:
        exchange = ctx.local.request(
            "GET", "/conformance/trailers", [("TE", "trailers")], extensions=extensions
        )
    else:
        exchange = ctx.target.request("GET", "/conformance/trailers", [("TE", "trailers")])
        if "http.response.trailers" not in ((exchange.scope or {}).get("extensions") or {}):
            return not_applicable(f"{ctx.server} does not offer trailers on HTTP/1.1")
    rules = {"http.trailers.missing", "http.trailers.unexpected", "http.trailers.declared"}
    found = [v for v in exchange.violations if v.rule in rules]
    if found:
        return failed("; ".join(str(v) for v in found), [v.rule for v in found])
    return passed("trailers=True, Trailer header, trailers after the final body")


def a09_no_content(ctx: Context) -> Outcome:
    exchanges = [ctx.target.request("GET", "/conformance/no-content")]
    failures = (
        []
        if exchanges[0].status == 204
        else [f"GET /conformance/no-content answered {exchanges[0].status}, not 204"]
    )
    first = ctx.target.request("GET", "/conformance/file")
    etag = first.header("etag")
    if etag is not None:
        conditional = ctx.target.request(
            "GET", "/conformance/file", [("If-None-Match", etag.decode("latin-1"))]
        )
        exchanges.append(conditional)
        if conditional.status == 304 and conditional.body:
            failures.append(f"304 carried {len(conditional.body)} body bytes")
    rules = {"http.body.forbidden-status", "http.content-length.forbidden"}
    outcome = violations_outcome(
        [v for e in exchanges for v in e.violations], rules, "204 and 304 responses"
    )
    if outcome.kind == "fail":
        failures.append(outcome.detail)
    statuses = [e.status for e in exchanges]
    return verdict(
        failures, f"statuses {statuses}: no content, no Content-Length on 204", observed=statuses
    )


def a11_ws_send(ctx: Context) -> Outcome:
    ws = ctx.target.websocket("/ws/echo")
    if not ws.accepted:
        return failed(f"/ws/echo handshake answered {ws.status}", ws.status, 101)
    replies: list[Any] = []
    for message in ("hello", b"\x00\x01binary"):
        ws.send(message)
        replies.append(ws.recv())
    ws.close(1000)
    failures = [] if replies == ["hello", b"\x00\x01binary"] else [f"echo returned {replies!r}"]
    outcome = violations_outcome(
        ws.violations(), {"ws.send.before-accept", "ws.send.payload"}, "WS /ws/echo (text + binary)"
    )
    if outcome.kind == "fail":
        failures.append(outcome.detail)
    return verdict(failures, "accept before send; one payload per message")


def a12_subprotocol(ctx: Context) -> Outcome:
    ws = ctx.target.websocket("/conformance/ws/subprotocol", ["chat.v1", "chat.v2"])
    failures = []
    if not ws.accepted:
        return failed(f"handshake answered {ws.status}", ws.status, 101)
    if ws.subprotocol != "chat.v2":
        failures.append(f"negotiated subprotocol {ws.subprotocol!r}, expected 'chat.v2'")
    ws.recv()
    ws.close()
    rules = {"ws.accept.subprotocol", "ws.accept.protocol-header"}
    outcome = violations_outcome(ws.violations(), rules, "WS /conformance/ws/subprotocol")
    if outcome.kind == "fail":
        failures.append(outcome.detail)
    return verdict(failures, "chat.v2 chosen from the offered list via 'subprotocol'")


def a13_close_codes(ctx: Context) -> Outcome:
    violations: list[Violation] = []
    ws = ctx.target.websocket("/conformance/ws/close?code=4001&reason=bye")
    ws.recv()
    code = ws.close_code()
    violations += ws.violations()
    for path in ("/conformance/ws/close-before-accept", "/no/such/socket"):
        other = ctx.target.websocket(path)
        violations += other.violations()
    failures = [] if code == 4001 else [f"app close arrived with code {code}, expected 4001"]
    outcome = violations_outcome(
        violations,
        {"ws.close.code", "ws.close.reason"},
        "app-initiated closes (4001, before accept, unknown route)",
    )
    if outcome.kind == "fail":
        failures.append(outcome.detail)
    return verdict(failures, "close codes 1000 / 4001 with short reasons")


def a14_denial(ctx: Context) -> Outcome:
    extension: dict[str, dict[str, Any]] = {"websocket.http.response": {}}
    if ctx.inprocess:
        ws = ctx.local.websocket("/conformance/ws/denial", extensions=extension)
    else:
        ws = ctx.target.websocket("/conformance/ws/denial")
        scope = ctx.wire.events.scope(ws.connection) or {}
        if "websocket.http.response" not in (scope.get("extensions") or {}):
            return not_applicable(f"{ctx.server} does not offer websocket.http.response")
    rules = {"ws.denial.state", "ws.denial.unfinished", "extension.not-advertised"}
    outcome = violations_outcome(ws.violations(), rules, "WS /conformance/ws/denial")
    if outcome.kind == "pass" and ws.status != 401:
        return failed(f"denial response status {ws.status}, expected 401", ws.status, 401)
    return outcome


def a15_unknown_scope(ctx: Context) -> Outcome:
    target = ctx.local

    async def call() -> str:
        scope = {"type": "conformance.unknown", "asgi": {"version": "3.0"}}

        async def receive() -> dict[str, Any]:
            return {"type": "conformance.unknown.event"}

        async def send(message: Any) -> None:
            return None

        try:
            await target.app(scope, receive, send)
        except Exception as exc:
            return type(exc).__name__
        return ""

    raised = target.loop.run(call())
    if not raised:
        return failed(
            "the app returned normally for scope type 'conformance.unknown'",
            "returned",
            "an exception",
        )
    return passed(f"the app refused scope type 'conformance.unknown' by raising {raised}")


def a16_tolerant(ctx: Context) -> Outcome:
    target = ctx.local

    async def extra_keys(scope: Any, receive: Any, send: Any) -> None:
        async def with_extra() -> Any:
            return {**(await receive()), "x_future_key": {"nested": True}}

        await target.app(scope, with_extra, send)

    scope = http_scope("GET", "/plaintext", spec_version=None)
    scope["x_future_scope_key"] = 1
    result = target.loop.run(http_call(extra_keys, scope))
    ok = result.status == 200 and result.body == b"Hello, World!" and result.error is None
    if not ok:
        return failed(
            "request with extra keys / no spec_version not served",
            {"status": result.status, "error": repr(result.error)},
            200,
        )
    return passed("extra event keys and a missing spec_version are tolerated")


def a18_head(ctx: Context) -> Outcome:
    get = ctx.target.request("GET", "/plaintext")
    head = ctx.target.request("HEAD", "/plaintext")
    failures = []
    if head.status != get.status:
        failures.append(f"HEAD /plaintext answered {head.status}, GET {get.status}")
    if head.header("content-type") != get.header("content-type"):
        failures.append("HEAD and GET differ in Content-Type")
    note = ""
    if any(v.rule == "http.body.head" for v in head.violations):
        note = " (the app sent body bytes for HEAD; the server has to drop them)"
    return verdict(
        failures,
        "HEAD /plaintext mirrors GET" + note,
        observed={"GET": get.status, "HEAD": head.status},
    )


def a19_root_path(ctx: Context) -> Outcome:
    exchange = ctx.local.request("GET", "/conformance/scope", root_path="/prefix")
    if exchange.status != 200:
        return failed(
            f"GET /prefix/conformance/scope with root_path '/prefix' answered {exchange.status}",
            exchange.status,
            200,
        )
    data = decode(json.loads(exchange.body))
    wanted = "http://testserver/prefix/conformance/scope"
    failures = (
        [f"request URL {data.get('url')!r}, expected {wanted!r}"]
        if data.get("url") != wanted
        else []
    )
    if "url_for" in data and data["url_for"] != wanted:
        failures.append(f"generated URL {data['url_for']!r}, expected {wanted!r}")
    return verdict(failures, "routed and URLs built under root_path", observed=data.get("url"))


def a20_stream_stops(ctx: Context) -> Outcome:
    if ctx.inprocess:
        results = {spec: _stop_inprocess(ctx, spec) for spec in ("2.4", "2.3")}
    else:
        results = {"wire": _stop_over_wire(ctx)}
    failures = [f"spec {spec}: {problem}" for spec, problem in results.items() if problem]
    return verdict(failures, "the stream stopped after the client left", observed=results)


def _stop_inprocess(ctx: Context, spec: str) -> str:
    probe = f"a20-{spec}-{time.monotonic_ns()}"
    scope = http_scope(
        "GET", "/conformance/disconnect", query_string=f"id={probe}".encode(), spec_version=spec
    )
    ctx.local.call(scope, disconnect_after=3)
    return _probe_stopped(ctx, probe)


def _stop_over_wire(ctx: Context) -> str:
    probe = f"a20-{time.monotonic_ns()}"
    with http1.Connection(ctx.port) as conn:
        conn.send(http1.build_request("GET", f"/conformance/disconnect?id={probe}"))
        conn.read_available(0.3)
        # Linger 0: the close sends RST, as a client that vanishes would.
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.5)
    return _probe_stopped(ctx, probe)


def _probe_stopped(ctx: Context, probe: str) -> str:
    """Empty when the probe stream stopped before the end and sends no more."""
    first = _probe(ctx, probe)
    time.sleep(0.3)
    second = _probe(ctx, probe)
    if first is None or second is None:
        return "the disconnect probe recorded nothing"
    if second.get("state") == "completed" or second.get("sent", 0) >= PROBE_CHUNKS:
        return "the stream ran to completion after the client left"
    if second.get("sent") != first.get("sent"):
        return f"still streaming after the client left ({first['sent']} -> {second['sent']})"
    return ""


def _probe(ctx: Context, probe: str) -> dict[str, Any] | None:
    exchange = ctx.target.request("GET", f"/conformance/probe?id={probe}")
    if exchange.status != 200:
        return None
    data: dict[str, Any] = json.loads(exchange.body)
    return data


_WWW = "asgiref specs/www.rst"
CASES: tuple[Case, ...] = (
    Case(
        "A01",
        "A",
        1,
        "Exactly one http.response.start before any body",
        f"{_WWW} Response Start",
        ("standard traffic",),
        rules_case("http.start.duplicate", "http.body.before-start", "http.response.missing"),
        tools=("AS",),
        generic=True,
    ),
    Case(
        "A02",
        "A",
        2,
        "The response ends with more_body=False; nothing is sent after it",
        f"{_WWW} Response Body",
        ("standard traffic",),
        rules_case("http.send.after-complete", "http.response.unfinished"),
        tools=("AS",),
        generic=True,
    ),
    Case(
        "A03",
        "A",
        3,
        "Status is an int; headers are lowercase [bytes, bytes], no pseudo-headers",
        f"{_WWW} Response Start",
        ("standard traffic", "/conformance/headers"),
        rules_case(
            "http.start.status",
            "headers.type",
            "headers.name-case",
            "headers.pseudo",
            "headers.value-chars",
        ),
        tools=("AS",),
        generic=True,
    ),
    Case(
        "A04",
        "A",
        4,
        "Only the allowed value types appear in events",
        "asgiref specs/asgi.rst Events",
        ("standard traffic",),
        rules_case(
            "message.value-type",
            "message.not-dict",
            "message.type",
            "http.body.type",
            "message.unknown-type",
        ),
        tools=("AS",),
        generic=True,
    ),
    Case(
        "A05",
        "A",
        5,
        "The app does not set Transfer-Encoding",
        f"{_WWW} Response Start",
        ("standard traffic", "/stream"),
        rules_case("http.headers.transfer-encoding"),
        tools=("AS",),
        generic=True,
    ),
    Case(
        "A06",
        "A",
        6,
        "Extension events only when advertised in scope['extensions']",
        "asgiref specs/asgi.rst Extensions",
        ("standard traffic", "/conformance/file"),
        a06_extensions,
        tools=("AS",),
        generic=True,
    ),
    Case(
        "A07",
        "A",
        7,
        "pathsend: once, not mixed with body, with Content-Type/Length",
        "asgiref docs/extensions.rst Path Send",
        ("/conformance/file",),
        a07_pathsend,
        needs=frozenset({"file"}),
    ),
    Case(
        "A08",
        "A",
        8,
        "trailers=True is followed by http.response.trailers; Trailer header set",
        "asgiref docs/extensions.rst HTTP Trailers",
        ("/conformance/trailers",),
        a08_trailers,
        needs=frozenset({"trailers"}),
        tools=("AS",),
    ),
    Case(
        "A09",
        "A",
        9,
        "No content and no Content-Length with 204; no content with 304",
        "RFC 9110 §6.4.1, §8.6",
        ("/conformance/no-content", "/conformance/file"),
        a09_no_content,
        tools=("AS",),
    ),
    Case(
        "A10",
        "A",
        10,
        "Content-Length equals the bytes actually sent",
        "RFC 9110 §8.6",
        ("standard traffic", "/conformance/file (Range)"),
        rules_case("http.content-length.mismatch", "http.content-length.invalid"),
        tools=("AS",),
        generic=True,
    ),
    Case(
        "A11",
        "A",
        11,
        "WebSocket: accept before send; each send carries exactly one payload",
        f"{_WWW} Send",
        ("ws:/ws/echo",),
        a11_ws_send,
        tools=("AS",),
    ),
    Case(
        "A12",
        "A",
        12,
        "Accepted subprotocol was offered; no sec-websocket-protocol header",
        f"{_WWW} Accept; RFC 6455 §4.2.2",
        ("ws:/conformance/ws/subprotocol",),
        a12_subprotocol,
    ),
    Case(
        "A13",
        "A",
        13,
        "Close codes are valid application codes (never 1005/1006/1015)",
        "RFC 6455 §7.4",
        ("ws:/conformance/ws/close", "ws:/conformance/ws/close-before-accept"),
        a13_close_codes,
    ),
    Case(
        "A14",
        "A",
        14,
        "The denial response goes after connect and before accept",
        "asgiref docs/extensions.rst Websocket Denial Response",
        ("ws:/conformance/ws/denial",),
        a14_denial,
        needs=frozenset({"denial_response"}),
        tools=("AS",),
    ),
    Case(
        "A15",
        "A",
        15,
        "An unknown scope type makes the app raise",
        "asgiref specs/asgi.rst Protocol Specifications",
        ("scope type conformance.unknown",),
        a15_unknown_scope,
        where="inprocess",
        generic=True,
    ),
    Case(
        "A16",
        "A",
        16,
        "Extra event keys and a missing spec_version are tolerated",
        "asgiref specs/asgi.rst Error Handling",
        ("/plaintext",),
        a16_tolerant,
        where="inprocess",
    ),
    Case(
        "A17",
        "A",
        17,
        "The scope is not mutated in place",
        "asgiref specs/asgi.rst Middleware",
        ("standard traffic", "lifespan"),
        rules_case("scope.mutated"),
        generic=True,
    ),
    Case(
        "A18",
        "A",
        18,
        "GET routes answer HEAD",
        "RFC 9110 §9.1, §9.3.2",
        ("HEAD /plaintext",),
        a18_head,
        tools=("GC",),
    ),
    Case(
        "A19",
        "A",
        19,
        "Routing and URL generation with root_path",
        f"{_WWW} root_path; starlette #2352/#2400",
        ("/conformance/scope",),
        a19_root_path,
        where="inprocess",
    ),
    Case(
        "A20",
        "A",
        20,
        "Streaming stops on http.disconnect or an OSError from send",
        f"{_WWW} Disconnected Client (2.4)",
        ("/conformance/disconnect",),
        a20_stream_stops,
    ),
)
