"""Group G: generated traffic on the app's own routes, in-process through the validator.

The A cases read the lab's endpoints; these read whatever routes the app has (its OpenAPI
document, its route table, ``--path``/``--ws`` or a routes file under ``check``; the contract
routes in the matrix), driven with the methods and odd inputs of :mod:`conformance.traffic`.
So a body sent with a 204 on a user's DELETE, a wrong Content-Length that only shows when the
request body arrives in pieces, or a WebSocket closed with a reserved code are found on apps
that have none of the lab's endpoints.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.cases.model import (
    Case,
    Context,
    Outcome,
    grouped_failure,
    not_applicable,
    passed,
    verdict,
)
from conformance.routes import HTTPRoute, Routes, WebSocketRoute
from conformance.traffic import CALL_LIMIT, Call, Session, Traffic, generate

CONTRACT_ROUTES = Routes(
    (
        HTTPRoute("/plaintext"),
        HTTPRoute("/json"),
        HTTPRoute("/users/42"),
        HTTPRoute("/search?q=conformance&page=2"),
        HTTPRoute("/items", ("POST",), b'{"name": "a", "price": 1.5, "tags": ["x"]}'),
        HTTPRoute("/records?n=3"),
        HTTPRoute("/stream?chunks=3&size=16"),
        HTTPRoute("/conformance/no-content"),
        HTTPRoute("/conformance/file"),
        HTTPRoute("/conformance/headers"),
    ),
    (WebSocketRoute("/ws/echo"), WebSocketRoute("/conformance/ws/subprotocol", ("chat.v2",))),
    "the lab's contract routes",
)


def traffic(ctx: Context) -> Traffic:
    """The generated traffic of this cell (once per cell)."""
    routes = ctx.routes or CONTRACT_ROUTES
    result: Traffic = ctx.once("generated-traffic", lambda: generate(ctx.local, routes))
    return result


def _described(ctx: Context) -> str:
    found = traffic(ctx)
    return f"{len(found.calls)} generated requests" + (
        f" and {len(found.sessions)} WebSocket sessions" if found.sessions else ""
    )


def _errors(items: list[Call] | list[Session], rules: set[str]) -> Outcome | None:
    found = [
        (v, item.label)
        for item in items
        for v in item.violations
        if v.rule in rules and v.severity == "error"
    ]
    return grouped_failure(found) if found else None


def rules_over(rules: set[str], *, websocket: bool = False) -> Callable[[Context], Outcome]:
    """A runner failing on any error of ``rules`` over the generated HTTP (or WS) traffic."""

    def run(ctx: Context) -> Outcome:
        found = traffic(ctx)
        items: list[Call] | list[Session] = found.sessions if websocket else found.calls
        if websocket and not items:
            return not_applicable(
                "no WebSocket route known: name them with --ws PATH or in a routes file"
            )
        outcome = _errors(items, rules)
        if outcome is not None:
            return outcome
        return passed(f"no violation of {', '.join(sorted(rules))} over {_described(ctx)}")

    return run


ORDER_RULES = {
    "http.start.duplicate",
    "http.body.before-start",
    "http.response.missing",
    "http.response.unfinished",
    "http.send.after-complete",
    "message.not-dict",
    "message.type",
    "message.value-type",
    "message.unknown-type",
    "http.body.type",
    "extension.not-advertised",
}
LENGTH_RULES = {"http.content-length.mismatch", "http.content-length.invalid"}
NO_CONTENT_RULES = {"http.body.forbidden-status", "http.content-length.forbidden"}
HEADER_RULES = {
    "http.start.status",
    "headers.type",
    "headers.name-case",
    "headers.pseudo",
    "headers.value-chars",
}
WS_STATE_RULES = {
    "ws.send.before-accept",
    "ws.send.payload",
    "ws.accept.state",
    "ws.send.after-close",
    "ws.close.code",
    "ws.close.reason",
    "ws.denial.state",
    "ws.denial.unfinished",
    "extension.not-advertised",
    "message.value-type",
    "message.unknown-type",
}
WS_PROTOCOL_RULES = {
    "ws.accept.subprotocol",
    "ws.accept.protocol-header",
    "ws.accept.headers-version",
}


def g03_head(ctx: Context) -> Outcome:
    calls = traffic(ctx).calls
    pairs = [
        (get, head)
        for head in calls
        if head.kind == "head"
        for get in calls
        if get.kind == "plain" and get.method == "GET" and get.path == head.path
    ]
    if not pairs:
        return not_applicable("the app has no GET route to compare HEAD with")
    failures = []
    for get, head in pairs:
        if get.status is not None and 200 <= get.status < 300 and head.status != get.status:
            failures.append(f"HEAD {head.path} answered {head.status} where GET gives {get.status}")
            continue
        head_length, get_length = head.header(b"content-length"), get.header(b"content-length")
        if head_length is not None and get_length is not None and head_length != get_length:
            failures.append(
                f"HEAD {head.path} has Content-Length {head_length.decode()}, "
                f"GET has {get_length.decode()}"
            )
    dropped = sum(any(v.rule == "http.body.head" for v in head.violations) for _, head in pairs)
    note = f" ({dropped} sent body bytes the server has to drop)" if dropped else ""
    return verdict(
        failures,
        f"HEAD mirrors GET on {len(pairs)} route(s){note}",
        observed={head.path: [get.status, head.status] for get, head in pairs},
    )


def g04_no_content(ctx: Context) -> Outcome:
    calls = [c for c in traffic(ctx).calls if c.status in (204, 304)]
    if not calls:
        return not_applicable(
            f"no 204 or 304 response among {len(traffic(ctx).calls)} generated requests"
        )
    outcome = _errors(calls, NO_CONTENT_RULES)
    if outcome is not None:
        return outcome
    return passed(f"no content and no Content-Length on 204; no content on 304 ({len(calls)})")


def g06_ends(ctx: Context) -> Outcome:
    odd = [c for c in traffic(ctx).calls if c.kind.startswith("client leaves")]
    hung = [c.label for c in odd if c.timed_out]
    hung += [s.label for s in traffic(ctx).sessions if s.timed_out]
    if hung:
        return verdict(
            [f"the app was still running {CALL_LIMIT:g} s after the client left: {', '.join(hung)}"]
        )
    outcome = _errors(odd, ORDER_RULES | LENGTH_RULES | {"receive.order"})
    if outcome is not None:
        return outcome
    return passed(f"{len(odd)} calls whose client left early ended cleanly")


_WWW = "asgiref specs/www.rst"
_GEN = ("generated traffic on the app's routes",)
CASES: tuple[Case, ...] = tuple(
    Case(case_id, "G", item, title, spec, _GEN, run, where="inprocess", generic=True)
    for case_id, item, title, spec, run in (
        (
            "G01",
            1,
            "Message order on the app's routes (methods x odd inputs)",
            f"{_WWW} Response Start, Response Body; asgi.rst Events",
            rules_over(ORDER_RULES),
        ),
        (
            "G02",
            10,
            "Content-Length equals the bytes sent on the app's routes",
            "RFC 9110 §8.6",
            rules_over(LENGTH_RULES),
        ),
        (
            "G03",
            18,
            "HEAD on the app's GET routes: same status and Content-Length as GET",
            "RFC 9110 §9.1, §9.3.2, §8.6",
            g03_head,
        ),
        (
            "G04",
            9,
            "No body (and no Content-Length on 204) in the app's 204/304 answers",
            "RFC 9110 §6.4.1, §8.6, §15.4.5",
            g04_no_content,
        ),
        (
            "G05",
            3,
            "Status and header fields well formed on every generated answer",
            f"{_WWW} Response Start; RFC 9110 §5.5",
            rules_over(HEADER_RULES),
        ),
        (
            "G06",
            20,
            "A client leaving mid-body or mid-response: the app call ends, no protocol fault",
            f"{_WWW} Disconnect, Disconnected Client",
            g06_ends,
        ),
        (
            "G07",
            11,
            "WebSocket accept/send/close rules on the app's WebSocket routes",
            f"{_WWW} Accept, Send, Close; RFC 6455 §7.4",
            rules_over(WS_STATE_RULES, websocket=True),
        ),
        (
            "G08",
            12,
            "WebSocket subprotocols: only an offered one; headers only from spec 2.1",
            f"{_WWW} Accept, Spec Versions; RFC 6455 §4.2.2",
            rules_over(WS_PROTOCOL_RULES, websocket=True),
        ),
    )
)
