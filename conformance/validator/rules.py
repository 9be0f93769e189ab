"""The validator's rules: one entry per thing the ASGI spec (or an RFC it leans on) requires.

Every violation names a rule, and every rule names the checklist item it serves and the clause
it comes from, so a report line can always be traced back to the text that justifies it.
Severity ``error`` is a MUST (or a behaviour a server is entitled to reject); ``warning`` is a
SHOULD — recorded, shown, but never raised in strict mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
Direction = Literal["scope", "receive", "send", "app"]


@dataclass(frozen=True, slots=True)
class Rule:
    """Metadata of one rule: what it checks and where the requirement is written."""

    id: str
    item: int
    severity: Severity
    direction: Direction
    spec: str
    summary: str


@dataclass(frozen=True, slots=True)
class Violation:
    """One breach of a rule, seen on one connection."""

    rule: str
    message: str
    severity: Severity
    spec: str
    item: int
    scope_type: str = ""
    method: str = ""
    path: str = ""
    connection: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the wire cells ship violations through a JSON-lines file)."""
        return {
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity,
            "spec": self.spec,
            "item": self.item,
            "scope_type": self.scope_type,
            "method": self.method,
            "path": self.path,
            "connection": self.connection,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Violation:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)

    def __str__(self) -> str:
        where = f" {self.method} {self.path}".rstrip() if self.path else ""
        return f"[{self.rule}] {self.message} ({self.spec}){where}"


class ASGIConformanceError(AssertionError):
    """Raised in strict mode for an error-severity violation (an AssertionError, as in wsgiref)."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(str(violation))
        self.violation = violation


_WWW = "asgiref specs/www.rst"
_MAIN = "asgiref specs/asgi.rst"
_EXT = "asgiref docs/extensions.rst"
_LIFE = "asgiref specs/lifespan.rst"

_RULES: tuple[Rule, ...] = (
    # --- messages in general (both directions) -------------------------------------------
    Rule("message.not-dict", 4, "error", "send", f"{_MAIN} §Events", "an event must be a dict"),
    Rule("message.type", 4, "error", "send", f"{_MAIN} §Events", "an event needs a str 'type' key"),
    Rule(
        "message.value-type",
        4,
        "error",
        "send",
        f"{_MAIN} §Events",
        "only bytes, str, int64, finite float, list, dict[str, ...], bool and None are allowed",
    ),
    Rule(
        "message.unknown-type",
        32,
        "error",
        "send",
        f"{_MAIN} §Error Handling",
        "the event type is not defined for this scope type",
    ),
    Rule(
        "extension.not-advertised",
        6,
        "error",
        "send",
        f"{_MAIN} §Extensions",
        "extension events may only be sent when the server lists them in scope['extensions']",
    ),
    # --- headers (response start, accept, denial, trailers) --------------------------------
    Rule(
        "headers.type",
        3,
        "error",
        "send",
        f"{_WWW} §Response Start",
        "headers must be an iterable of [bytes, bytes] pairs",
    ),
    Rule(
        "headers.name-case",
        3,
        "error",
        "send",
        f"{_WWW} §Response Start",
        "header names must be lowercased",
    ),
    Rule(
        "headers.pseudo",
        3,
        "error",
        "send",
        f"{_WWW} §Response Start",
        "pseudo-headers (':status', ...) must not be present",
    ),
    Rule(
        "headers.value-chars",
        65,
        "error",
        "send",
        "RFC 9110 §5.5",
        "field names must be tokens and values must not contain CR, LF or NUL",
    ),
    # --- HTTP response ------------------------------------------------------------------------
    Rule(
        "http.start.duplicate",
        1,
        "error",
        "send",
        f"{_WWW} §Response Start",
        "exactly one http.response.start per request",
    ),
    Rule(
        "http.start.status",
        3,
        "error",
        "send",
        f"{_WWW} §Response Start",
        "status must be an int final status code between 200 and 599",
    ),
    Rule(
        "http.body.before-start",
        1,
        "error",
        "send",
        f"{_WWW} §Response Body",
        "http.response.body needs a preceding http.response.start",
    ),
    Rule(
        "http.body.type",
        4,
        "error",
        "send",
        f"{_WWW} §Response Body",
        "body must be bytes and more_body a bool",
    ),
    Rule(
        "http.send.after-complete",
        2,
        "error",
        "send",
        f"{_WWW} §Response Body",
        "nothing may be sent after the final body (more_body=False) and trailers",
    ),
    Rule(
        "http.response.missing",
        1,
        "error",
        "app",
        f"{_WWW} §Response Start",
        "the application returned without sending http.response.start",
    ),
    Rule(
        "http.response.unfinished",
        2,
        "error",
        "app",
        f"{_WWW} §Response Body",
        "the application returned without a final body (more_body=False)",
    ),
    Rule(
        "http.headers.transfer-encoding",
        5,
        "warning",
        "send",
        f"{_WWW} §Response Start",
        "the application should not set Transfer-Encoding: the server ignores it",
    ),
    Rule(
        "http.body.forbidden-status",
        9,
        "error",
        "send",
        "RFC 9110 §6.4.1, §15.3.5, §15.4.5",
        "1xx, 204 and 304 responses have no content",
    ),
    # A warning: RFC 9110 binds "the server", and ASGI servers drop a HEAD body themselves.
    Rule(
        "http.body.head",
        36,
        "warning",
        "send",
        "RFC 9110 §9.3.2",
        "a response to HEAD should carry no content (the server has to drop it)",
    ),
    Rule(
        "http.content-length.mismatch",
        10,
        "error",
        "app",
        "RFC 9110 §8.6",
        "Content-Length must equal the number of body bytes sent",
    ),
    Rule(
        "http.content-length.invalid",
        10,
        "error",
        "send",
        "RFC 9110 §8.6",
        "Content-Length must be one non-negative decimal integer",
    ),
    Rule(
        "http.content-length.forbidden",
        9,
        "error",
        "send",
        "RFC 9110 §8.6",
        "no Content-Length in a 1xx or 204 response",
    ),
    Rule(
        "http.trailers.missing",
        8,
        "error",
        "app",
        f"{_EXT} §HTTP Trailers",
        "trailers=True promises an http.response.trailers after the last body",
    ),
    Rule(
        "http.trailers.unexpected",
        8,
        "error",
        "send",
        f"{_EXT} §HTTP Trailers",
        "http.response.trailers needs trailers=True and must follow the final body",
    ),
    Rule(
        "http.trailers.declared",
        8,
        "warning",
        "send",
        f"{_EXT} §HTTP Trailers",
        "an app sending trailers sets the 'trailer' response header",
    ),
    Rule(
        "http.pathsend.misuse",
        7,
        "error",
        "send",
        f"{_EXT} §Path Send",
        "pathsend is sent once, after start, with an absolute path, never mixed with body",
    ),
    Rule(
        "http.pathsend.headers",
        7,
        "warning",
        "send",
        f"{_EXT} §Path Send",
        "a pathsend response carries Content-Type and Content-Length",
    ),
    Rule(
        "http.extension.order",
        40,
        "error",
        "send",
        f"{_EXT}",
        "an extension event was sent at a point of the response where it is not allowed",
    ),
    # --- WebSocket ------------------------------------------------------------------------------
    Rule(
        "ws.send.before-accept",
        11,
        "error",
        "send",
        f"{_WWW} §Connect",
        "accept (or close) before any websocket.send",
    ),
    Rule(
        "ws.send.payload",
        11,
        "error",
        "send",
        f"{_WWW} §Send",
        "websocket.send carries exactly one of bytes (bytes) or text (str)",
    ),
    Rule(
        "ws.accept.state",
        43,
        "error",
        "send",
        f"{_WWW} §Accept",
        "websocket.accept is sent once, after websocket.connect, before any close",
    ),
    Rule(
        "ws.accept.before-connect",
        43,
        "warning",
        "send",
        f"{_WWW} §Connect",
        "accept/close answers websocket.connect: it should be received first",
    ),
    Rule(
        "ws.accept.subprotocol",
        12,
        "error",
        "send",
        f"{_WWW} §Accept; RFC 6455 §4.2.2",
        "the accepted subprotocol must be one the client offered (scope['subprotocols'])",
    ),
    Rule(
        "ws.accept.protocol-header",
        12,
        "error",
        "send",
        f"{_WWW} §Accept",
        "accept headers must not include sec-websocket-protocol; use 'subprotocol'",
    ),
    Rule(
        "ws.accept.headers-version",
        47,
        "error",
        "send",
        f"{_WWW} §Spec Versions",
        "accept headers need spec_version >= 2.1",
    ),
    Rule(
        "ws.send.after-close",
        11,
        "error",
        "send",
        f"{_WWW} §Close",
        "nothing may be sent after websocket.close or the denial response",
    ),
    Rule(
        "ws.close.code",
        13,
        "error",
        "send",
        "RFC 6455 §7.4",
        "close codes are 1000-1003, 1007-1014 or 3000-4999; never 1005, 1006 or 1015",
    ),
    Rule(
        "ws.close.reason",
        13,
        "error",
        "send",
        "RFC 6455 §5.5",
        "the close reason is a str of at most 123 UTF-8 bytes",
    ),
    Rule(
        "ws.denial.state",
        14,
        "error",
        "send",
        f"{_EXT} §Websocket Denial Response",
        "the denial response goes after websocket.connect and before accept, start then body",
    ),
    Rule(
        "ws.denial.unfinished",
        14,
        "error",
        "app",
        f"{_EXT} §Websocket Denial Response",
        "a started denial response must be completed",
    ),
    # --- lifespan -------------------------------------------------------------------------------
    Rule(
        "lifespan.send.state",
        54,
        "error",
        "send",
        f"{_LIFE} §Startup Complete",
        "startup/shutdown replies answer the matching event, once each",
    ),
    Rule(
        "lifespan.failed.message",
        55,
        "error",
        "send",
        f"{_LIFE} §Startup Failed",
        "the failure 'message' is a str",
    ),
    # --- scope and the application as a whole ---------------------------------------------------
    Rule(
        "scope.type",
        15,
        "error",
        "scope",
        f"{_MAIN} §Applications",
        "scope must be a dict with a str 'type'",
    ),
    Rule(
        "scope.unknown-type-accepted",
        15,
        "error",
        "app",
        f"{_MAIN} §Protocol Specifications",
        "an application must raise for a scope type it does not understand",
    ),
    Rule(
        "scope.asgi",
        21,
        "error",
        "scope",
        f"{_MAIN} §Applications",
        "scope['asgi'] is a dict with a str version ('3.0' for single-callable apps)",
    ),
    Rule(
        "scope.spec-version",
        21,
        "error",
        "scope",
        f"{_WWW} §Connection Scope",
        "asgi['spec_version'], when present, is a str like '2.3'",
    ),
    Rule(
        "scope.http-version",
        22,
        "error",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "http_version is one of '1.0', '1.1', '2' ('1.1' or '2' for websocket)",
    ),
    Rule(
        "scope.method",
        21,
        "error",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "method is an uppercase str",
    ),
    Rule(
        "scope.scheme",
        21,
        "error",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "scheme, when present, is a non-empty str",
    ),
    Rule(
        "scope.path",
        24,
        "error",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "path is a percent- and UTF-8-decoded str",
    ),
    Rule(
        "scope.raw-path",
        25,
        "error",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "raw_path, when present, is bytes without the query string, matching path",
    ),
    Rule(
        "scope.query-string",
        24,
        "error",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "query_string is bytes",
    ),
    Rule(
        "scope.root-path",
        26,
        "error",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "root_path, when present, is a str that path starts with",
    ),
    Rule(
        "scope.headers",
        27,
        "error",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "headers is an iterable of [bytes, bytes] pairs without pseudo-headers",
    ),
    Rule(
        "scope.headers.case",
        27,
        "warning",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "request header names should be lowercased",
    ),
    Rule(
        "scope.address",
        23,
        "error",
        "scope",
        f"{_WWW} §HTTP Connection Scope",
        "client/server are None or [str host, int port] ([path, None] for a unix socket)",
    ),
    Rule(
        "scope.subprotocols",
        46,
        "error",
        "scope",
        f"{_WWW} §Websocket Connection Scope",
        "subprotocols is a list of str",
    ),
    Rule(
        "scope.state",
        28,
        "error",
        "scope",
        f"{_LIFE} §Lifespan State",
        "state, when present, is a dict",
    ),
    Rule(
        "scope.extensions",
        6,
        "error",
        "scope",
        f"{_MAIN} §Extensions",
        "extensions, when present, is a dict of dicts",
    ),
    Rule(
        "scope.mutated",
        17,
        "error",
        "app",
        f"{_MAIN} §Middleware",
        "the application must not mutate the scope it was given (copy before changing)",
    ),
    # --- what the server hands the application through receive() ---------------------------
    Rule(
        "receive.message",
        29,
        "error",
        "receive",
        f"{_WWW} §Request",
        "the received event is well formed for this scope type",
    ),
    Rule(
        "receive.order",
        30,
        "error",
        "receive",
        f"{_WWW} §Disconnect",
        "events arrive in protocol order (request body, then disconnect; connect first)",
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    """Look a rule up by id; an unknown id is a programming error in the validator."""
    return RULES[rule_id]
