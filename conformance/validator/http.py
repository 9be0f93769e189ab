"""State machine of one HTTP connection scope, as seen from between server and application."""

from __future__ import annotations

import os
from typing import Any

from conformance.validator.messages import advertised, check_headers, event_type
from conformance.validator.report import Reporter
from conformance.validator.values import header_values

_NO_CONTENT = frozenset({204, 304})
_EXTENSION_EVENTS = {
    "http.response.trailers": "http.response.trailers",
    "http.response.pathsend": "http.response.pathsend",
    "http.response.zerocopysend": "http.response.zerocopysend",
    "http.response.early_hint": "http.response.early_hint",
    "http.response.push": "http.response.push",
    "http.response.debug": "http.response.debug",
}


class HTTPChecker:
    """Follows one request/response exchange and reports what breaks the HTTP spec."""

    def __init__(self, scope: dict[str, Any], report: Reporter) -> None:
        self.scope = scope
        self.report = report
        self.is_head = scope.get("method") == "HEAD"
        self.started = False
        self.body_done = False
        self.trailers_expected = False
        self.trailers_done = False
        self.status = 0
        self.content_length: int | None = None
        self.sent = 0
        self.used_body = False
        self.used_pathsend = False
        self.request_done = False
        self.disconnected = False
        self._reported: set[str] = set()

    # --- server -> application ------------------------------------------------------------
    def received(self, message: Any) -> None:
        """Check an event returned by the server's receive()."""
        kind = event_type(message, self.report)
        if kind == "http.request":
            if not isinstance(message.get("body", b""), bytes) or not isinstance(
                message.get("more_body", False), bool
            ):
                self.report("receive.message", "http.request body/more_body of the wrong type")
            if self.request_done:
                self.report("receive.order", "http.request after the request body was complete")
            self.request_done = not message.get("more_body", False)
        elif kind == "http.disconnect":
            self.disconnected = True
        elif kind is not None:
            self.report("receive.message", f"unexpected {kind!r} on an http scope")

    def send_failed(self) -> None:
        """send() raised: the client is gone (www 2.4), so an unfinished response is fine."""
        self.disconnected = True

    # --- application -> server ------------------------------------------------------------
    def sending(self, message: Any) -> None:
        """Check an event the application passes to send()."""
        kind = event_type(message, self.report)
        if kind is None:
            return
        if self.complete:
            if kind == "http.response.trailers" and not self.trailers_expected:
                self.report("http.trailers.unexpected", "trailers without trailers=True")
            else:
                self.report("http.send.after-complete", f"{kind!r} after the response ended")
            return
        extension = _EXTENSION_EVENTS.get(kind)
        if extension is not None and not advertised(self.scope, extension):
            self.report("extension.not-advertised", f"{kind!r} without scope['extensions']")
        handler = getattr(self, "_" + kind.replace(".", "_"), None)
        if handler is None:
            self.report("message.unknown-type", f"{kind!r} is not an http event")
            return
        handler(message)

    @property
    def complete(self) -> bool:
        """The final body (and promised trailers) went out: nothing more may be sent."""
        return self.body_done and (not self.trailers_expected or self.trailers_done)

    def _http_response_start(self, message: dict[str, Any]) -> None:
        if self.started:
            self.report("http.start.duplicate", "second http.response.start")
            return
        self.started = True
        status = message.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
            self.report("http.start.status", f"status {status!r}")
        self.status = status if isinstance(status, int) else 0
        pairs = check_headers(message.get("headers", []), self.report, "http.response.start")
        if header_values(pairs, b"transfer-encoding"):
            self.report("http.headers.transfer-encoding", "Transfer-Encoding set by the app")
        self._read_content_length(pairs)
        trailers = message.get("trailers", False)
        if not isinstance(trailers, bool):
            self.report("message.value-type", f"trailers is {trailers!r}, not a bool")
        elif trailers:
            self.trailers_expected = True
            if not advertised(self.scope, "http.response.trailers"):
                self.report("extension.not-advertised", "trailers=True without the extension")
            if not header_values(pairs, b"trailer"):
                self.report("http.trailers.declared", "trailers=True without a Trailer header")

    def _read_content_length(self, pairs: list[tuple[bytes, bytes]]) -> None:
        values = header_values(pairs, b"content-length")
        if not values:
            return
        if 100 <= self.status < 200 or self.status == 204:
            self.report("http.content-length.forbidden", f"Content-Length on a {self.status}")
        if len(set(values)) != 1 or not values[0].isdigit():
            self.report("http.content-length.invalid", f"Content-Length {values!r}")
            return
        self.content_length = int(values[0])

    def _http_response_body(self, message: dict[str, Any]) -> None:
        if not self.started:
            self.report("http.body.before-start", "http.response.body before http.response.start")
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if not isinstance(body, bytes) or not isinstance(more, bool):
            self.report("http.body.type", f"body {type(body).__name__}, more_body {more!r}")
            body = body if isinstance(body, bytes) else b""
        self.used_body = True
        if self.used_pathsend:
            self.report("http.pathsend.misuse", "http.response.body mixed with pathsend")
        self._count(len(body))
        if not more:
            self._finish_body()

    def _count(self, size: int) -> None:
        if (size and self.status in _NO_CONTENT) or (size and 100 <= self.status < 200):
            self.report("http.body.forbidden-status", f"{size} body bytes on a {self.status}")
        if size and self.is_head:
            self.report("http.body.head", f"{size} body bytes in a response to HEAD")
        self.sent += size
        limit = self.content_length
        if self._length_checked and limit is not None and self.sent > limit:
            self._once("http.content-length.mismatch", f"body bytes exceed Content-Length {limit}")

    def _once(self, rule_id: str, message: str) -> None:
        # A streamed body would repeat the same fault on every chunk; one report says it all.
        if rule_id not in self._reported:
            self._reported.add(rule_id)
            self.report(rule_id, message)

    @property
    def _length_checked(self) -> bool:
        # HEAD and 304 carry the representation's length, not the (empty) content's.
        return not self.is_head and self.status != 304

    def _finish_body(self) -> None:
        self.body_done = True
        limit = self.content_length
        if self._length_checked and limit is not None and self.sent < limit:
            message = f"{self.sent} bytes sent, Content-Length {limit}"
            self._once("http.content-length.mismatch", message)

    def _http_response_trailers(self, message: dict[str, Any]) -> None:
        if not self.trailers_expected or not self.body_done:
            self.report(
                "http.trailers.unexpected",
                "http.response.trailers without trailers=True or before the final body",
            )
            return
        check_headers(message.get("headers", []), self.report, "http.response.trailers")
        if not message.get("more_trailers", False):
            self.trailers_done = True

    def _http_response_pathsend(self, message: dict[str, Any]) -> None:
        path = message.get("path")
        if not self.started or self.used_body or self.used_pathsend:
            self.report("http.pathsend.misuse", "pathsend before start, twice or after body")
        if not isinstance(path, str) or not os.path.isabs(path):
            self.report("http.pathsend.misuse", f"pathsend path {path!r} is not absolute")
        self.used_pathsend = True
        if not self.started:
            return
        size = os.path.getsize(path) if isinstance(path, str) and os.path.isfile(path) else 0
        self._count(size)
        self._finish_body()

    def _http_response_zerocopysend(self, message: dict[str, Any]) -> None:
        if not self.started:
            self.report("http.extension.order", "zerocopysend before http.response.start")
            return
        count = message.get("count")
        if not isinstance(count, int):
            handle = message.get("file")
            fileno = getattr(handle, "fileno", None)
            total = os.fstat(fileno()).st_size if callable(fileno) else 0
            count = max(total - int(message.get("offset") or 0), 0)
        self._count(count)
        if not message.get("more_body", False):
            self._finish_body()

    def _http_response_early_hint(self, message: dict[str, Any]) -> None:
        links = message.get("links")
        if not isinstance(links, list | tuple) or any(not isinstance(x, bytes) for x in links):
            self.report("message.value-type", f"early_hint links {links!r} are not bytes")

    def _http_response_push(self, message: dict[str, Any]) -> None:
        if not self.started:
            self.report("http.extension.order", "server push before http.response.start")
        check_headers(message.get("headers", []), self.report, "http.response.push")

    def _http_response_debug(self, message: dict[str, Any]) -> None:
        if self.started:
            self.report("http.extension.order", "http.response.debug after http.response.start")

    # --- end of the application call ----------------------------------------------------------
    def finished(self, error: BaseException | None) -> None:
        """The application returned (or raised): report an incomplete exchange."""
        if error is not None or self.disconnected:
            return  # A crash is the server's to turn into a 500; a gone client needs no answer.
        if not self.started:
            self.report("http.response.missing", "returned without http.response.start")
        elif not self.body_done:
            self.report("http.response.unfinished", "returned with more_body=True outstanding")
        elif self.trailers_expected and not self.trailers_done:
            self.report("http.trailers.missing", "trailers=True but no http.response.trailers")
