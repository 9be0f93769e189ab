"""State machine of one WebSocket connection scope."""

from __future__ import annotations

from typing import Any

from conformance.validator.messages import advertised, check_headers, event_type
from conformance.validator.report import Reporter
from conformance.validator.scope import spec_version
from conformance.validator.values import header_values

# RFC 6455 §7.4.1 defines 1000-1003 and 1007-1011; IANA registered 1012-1014. 1004 is
# reserved, 1005/1006/1015 must never be sent, 3000-4999 belong to libraries and apps.
_VALID_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015), *range(3000, 5000)})
_MAX_REASON_BYTES = 123  # A control frame carries 125 bytes, two of which are the code.
_DENIAL = "websocket.http.response"


def valid_close_code(code: Any) -> bool:
    """Whether an application may put ``code`` in a close frame."""
    return isinstance(code, int) and not isinstance(code, bool) and code in _VALID_CLOSE_CODES


class WebSocketChecker:
    """Follows one WebSocket session: handshake reply, messages, close, denial response."""

    def __init__(self, scope: dict[str, Any], report: Reporter) -> None:
        self.scope = scope
        self.report = report
        offered = scope.get("subprotocols") or []
        self.offered = list(offered) if isinstance(offered, list | tuple) else []
        self.connected = False
        self.accepted = False
        self.closed = False
        self.denial_started = False
        self.denial_done = False
        self.disconnected = False

    def received(self, message: Any) -> None:
        """Check an event returned by the server's receive()."""
        kind = event_type(message, self.report)
        if kind == "websocket.connect":
            if self.connected:
                self.report("receive.order", "second websocket.connect")
            self.connected = True
        elif kind == "websocket.receive":
            if not self.connected:
                self.report("receive.order", "websocket.receive before websocket.connect")
            if not _one_payload(message):
                self.report("receive.message", "websocket.receive without exactly one payload")
        elif kind == "websocket.disconnect":
            self.disconnected = True
            code = message.get("code", 1005)
            if isinstance(code, bool) or not isinstance(code, int):
                self.report("receive.message", f"websocket.disconnect code {code!r}")
        elif kind is not None:
            self.report("receive.message", f"unexpected {kind!r} on a websocket scope")

    def send_failed(self) -> None:
        """send() raised: the peer is gone."""
        self.disconnected = True

    def sending(self, message: Any) -> None:
        """Check an event the application passes to send()."""
        kind = event_type(message, self.report)
        if kind is None:
            return
        if kind.startswith(_DENIAL + ".") and not advertised(self.scope, _DENIAL):
            self.report("extension.not-advertised", f"{kind!r} without scope['extensions']")
        handler = getattr(self, "_" + kind.replace(".", "_"), None)
        if handler is None:
            self.report("message.unknown-type", f"{kind!r} is not a websocket event")
            return
        handler(message)

    @property
    def finished_sending(self) -> bool:
        """Close was sent or a denial response began: no further websocket events."""
        return self.closed or self.denial_started

    def _websocket_accept(self, message: dict[str, Any]) -> None:
        if self.accepted or self.finished_sending:
            self.report("ws.accept.state", "websocket.accept after accept, close or denial")
            return
        if not self.connected:
            self.report("ws.accept.before-connect", "accept before websocket.connect was received")
        self.accepted = True
        subprotocol = message.get("subprotocol")
        if subprotocol is not None and subprotocol not in self.offered:
            self.report(
                "ws.accept.subprotocol", f"{subprotocol!r} not among offered {self.offered!r}"
            )
        headers = message.get("headers")
        if headers:
            pairs = check_headers(headers, self.report, "websocket.accept")
            if header_values(pairs, b"sec-websocket-protocol"):
                self.report("ws.accept.protocol-header", "sec-websocket-protocol in accept headers")
            if spec_version(self.scope) < (2, 1):
                self.report("ws.accept.headers-version", "accept headers on spec_version < 2.1")

    def _websocket_send(self, message: dict[str, Any]) -> None:
        if self.finished_sending:
            self.report("ws.send.after-close", "websocket.send after close or denial")
        elif not self.accepted:
            self.report("ws.send.before-accept", "websocket.send before websocket.accept")
        if not _one_payload(message):
            self.report("ws.send.payload", "websocket.send needs exactly one of bytes or text")

    def _websocket_close(self, message: dict[str, Any]) -> None:
        if self.finished_sending:
            self.report("ws.send.after-close", "websocket.close after close or denial")
            return
        if not self.connected:
            self.report("ws.accept.before-connect", "close before websocket.connect was received")
        self.closed = True
        code = message.get("code", 1000)
        if not valid_close_code(code):
            self.report("ws.close.code", f"close code {code!r}")
        reason = message.get("reason")
        if reason is not None and (
            not isinstance(reason, str) or len(reason.encode("utf-8")) > _MAX_REASON_BYTES
        ):
            self.report("ws.close.reason", f"close reason {reason!r}")

    def _websocket_http_response_start(self, message: dict[str, Any]) -> None:
        if self.accepted or self.finished_sending:
            self.report("ws.denial.state", "denial start after accept, close or another denial")
            return
        if not self.connected:
            self.report("ws.accept.before-connect", "denial before websocket.connect was received")
        self.denial_started = True
        status = message.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            self.report("http.start.status", f"denial status {status!r}")
        check_headers(message.get("headers", []), self.report, "websocket.http.response.start")

    def _websocket_http_response_body(self, message: dict[str, Any]) -> None:
        if not self.denial_started:
            self.report("ws.denial.state", "denial body before denial start")
            return
        if self.denial_done:
            self.report("ws.send.after-close", "denial body after the final denial body")
            return
        if not isinstance(message.get("body", b""), bytes):
            self.report("http.body.type", "denial body is not bytes")
        if not message.get("more_body", False):
            self.denial_done = True

    def finished(self, error: BaseException | None) -> None:
        """The application returned (or raised)."""
        if error is None and self.denial_started and not self.denial_done:
            self.report("ws.denial.unfinished", "denial response started but never completed")


def _one_payload(message: dict[str, Any]) -> bool:
    data, text = message.get("bytes"), message.get("text")
    if (data is None) == (text is None):
        return False
    return isinstance(data, bytes) if data is not None else isinstance(text, str)
