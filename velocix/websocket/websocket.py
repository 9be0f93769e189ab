"""The WebSocket connection object handed to ``@app.websocket`` endpoints.

:class:`WebSocket` enforces the ASGI WebSocket protocol from the application's side so that
misuse fails with a clear message instead of a confused server:

* ``websocket.connect`` is received first (``accept()`` does it for you);
* ``accept()`` happens at most once; the subprotocol must be one the client offered
  (``scope["subprotocols"]``) and is chosen with ``subprotocol=``, never with a
  ``sec-websocket-protocol`` header;
* ``close()`` before ``accept()`` sends ``websocket.close`` and the server answers the handshake
  with HTTP 403; sending anything after ``close()`` raises :class:`RuntimeError`;
* close codes are the ones an endpoint may send (RFC 6455 §7.4): 1000-1003, 1007-1014 and
  3000-4999, with a reason of at most 123 UTF-8 bytes; anything else is a :class:`ValueError`.

Receiving: ``receive_text``/``receive_bytes``/``receive_json`` raise :class:`WebSocketDisconnect`
when the client goes away; ``iter_text``/``iter_bytes``/``iter_json`` simply end. Data the
endpoint cannot accept is answered the way RFC 6455 prescribes, by raising
:class:`~velocix.core.exceptions.WebSocketException` - which the application turns into a
close with that code: a binary frame where text was expected (or the reverse) is 1003
(unsupported data), malformed JSON is 1007 (invalid payload data). (Starlette lets the decode
error escape, which ends the connection with 1011 "internal error" and blames the server.)
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from velocix.core.exceptions import WebSocketException
from velocix.core.request import HTTPConnection
from velocix.core.response import json_body
from velocix.http.datastructures import RawHeaders, Scope, encode_header

if TYPE_CHECKING:
    from velocix.core.response import Response

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState", "validate_close"]

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_REASON_BYTES = 123  # a close frame's payload is at most 125 bytes, 2 of them the code


class WebSocketState(enum.Enum):
    """Where one side of the connection is in the ASGI WebSocket protocol."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3  # the application is sending a denial response (HTTP) instead of accepting


class WebSocketDisconnect(Exception):
    """The connection is closed: ``code`` is the client's close code (1005 when it gave none,
    1006 when the connection dropped)."""

    def __init__(self, code: int = 1000, reason: str | None = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}" if self.reason else str(self.code)


def validate_close(code: int, reason: str) -> None:
    """Raise :class:`ValueError` unless ``code``/``reason`` may be sent in a close frame."""
    if not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise ValueError(
            f"Invalid WebSocket close code {code}: use 1000-1003, 1007-1014 or 3000-4999 "
            "(1004-1006 and 1015 are reserved and never sent; RFC 6455 §7.4)"
        )
    if len(reason.encode("utf-8")) > MAX_REASON_BYTES:
        raise ValueError(f"WebSocket close reason is longer than {MAX_REASON_BYTES} UTF-8 bytes")


def _short_reason(text: str) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_REASON_BYTES:
        return text
    return encoded[: MAX_REASON_BYTES - 3].decode("utf-8", "ignore") + "..."


_CONNECTING, _CONNECTED, _DISCONNECTED, _RESPONSE = (
    WebSocketState.CONNECTING,
    WebSocketState.CONNECTED,
    WebSocketState.DISCONNECTED,
    WebSocketState.RESPONSE,
)
_EXPECTED_SENDS = {
    _CONNECTING: ("websocket.accept", "websocket.close", "websocket.http.response.start"),
    _CONNECTED: ("websocket.send", "websocket.close"),
    _RESPONSE: ("websocket.http.response.body",),
}


class WebSocket(HTTPConnection):
    """A WebSocket connection (``scope["type"] == "websocket"``).

    Scope data (``url``, ``headers``, ``query_params``, ``path_params``, ``cookies``,
    ``client``, ``state``) works as on :class:`~velocix.core.request.Request`.
    ``client_state`` tracks what was received, ``application_state`` what was sent.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError(f"WebSocket needs a 'websocket' scope, got {scope['type']!r}")
        self.scope = scope
        self._receive = receive
        self._send = send
        self.client_state = _CONNECTING
        self.application_state = _CONNECTING

    # --- raw ASGI messages, with the protocol enforced ------------------------------------------

    async def receive(self) -> Message:
        """Receive one ASGI message, checking it is valid at this point of the protocol."""
        state = self.client_state
        if state is _DISCONNECTED:
            raise RuntimeError('Cannot call "receive" once a disconnect message has been received.')
        message = await self._receive()
        message_type = message["type"]
        if message_type == "websocket.disconnect":
            self.client_state = _DISCONNECTED
        elif state is _CONNECTING:
            if message_type != "websocket.connect":
                raise RuntimeError(
                    f'Expected ASGI message "websocket.connect", but got {message_type!r}'
                )
            self.client_state = _CONNECTED
        elif message_type != "websocket.receive":
            raise RuntimeError(
                'Expected ASGI message "websocket.receive" or "websocket.disconnect", '
                f"but got {message_type!r}"
            )
        return message

    async def send(self, message: Message) -> None:
        """Send one ASGI message, checking it is valid at this point of the protocol."""
        state = self.application_state
        message_type = message["type"]
        if state is _DISCONNECTED:
            raise RuntimeError(
                f"Cannot send {message_type!r}: the WebSocket is closed "
                '("websocket.close" was sent or the response was completed).'
            )
        expected = _EXPECTED_SENDS[state]
        if message_type not in expected:
            raise RuntimeError(
                f"Expected ASGI message {' or '.join(map(repr, expected))}, "
                f"but got {message_type!r}"
            )
        if message_type == "websocket.accept":
            self.application_state = _CONNECTED
        elif message_type == "websocket.close":
            self.application_state = _DISCONNECTED
        elif message_type == "websocket.http.response.start":
            self.application_state = _RESPONSE
        elif state is _RESPONSE and not message.get("more_body", False):
            self.application_state = _DISCONNECTED
        try:
            await self._send(message)
        except OSError:
            # ASGI 2.4: send raises OSError once the connection is gone.
            self.application_state = _DISCONNECTED
            raise WebSocketDisconnect(1006) from None

    # --- handshake ------------------------------------------------------------------------------

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Accept the connection, optionally choosing one of the client's subprotocols.

        Raises :class:`WebSocketDisconnect` if the client left before the handshake finished,
        :class:`ValueError` for a subprotocol the client did not offer or a
        ``sec-websocket-protocol`` header, :class:`RuntimeError` if already accepted or closed.
        """
        if self.application_state is not _CONNECTING:
            raise RuntimeError(
                "WebSocket.accept() can only be called once, before close() "
                f"(application state: {self.application_state.name})"
            )
        raw_headers = _accept_headers(headers)
        offered = self.scope.get("subprotocols") or ()
        if subprotocol is not None and subprotocol not in offered:
            raise ValueError(
                f"Subprotocol {subprotocol!r} was not offered by the client (offered: {offered!r})"
            )
        if self.client_state is _CONNECTING:
            message = await self.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1006), message.get("reason"))
        await self.send(
            {"type": "websocket.accept", "subprotocol": subprotocol, "headers": raw_headers}
        )

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection; before ``accept()`` this rejects the handshake (HTTP 403).

        A no-op once the client has disconnected; :class:`RuntimeError` if already closed.
        """
        validate_close(code, reason)
        if self.client_state is _DISCONNECTED and self.application_state is not _RESPONSE:
            self.application_state = _DISCONNECTED
            return
        await self.send({"type": "websocket.close", "code": code, "reason": reason})

    async def send_denial_response(self, response: Response) -> None:
        """Reject the handshake with a full HTTP response (``websocket.http.response``
        extension). Raises :class:`RuntimeError` if the server does not offer it."""
        if "websocket.http.response" not in (self.scope.get("extensions") or {}):
            raise RuntimeError(
                "The server does not support the websocket.http.response extension; "
                "use close() to reject the handshake with 403"
            )
        if self.application_state is not _CONNECTING:
            raise RuntimeError("A denial response can only be sent before accept() or close()")
        await response(self.scope, self.receive, self.send)

    # --- data -----------------------------------------------------------------------------------

    async def _receive_data(self) -> Message:
        if self.application_state is not _CONNECTED:
            raise RuntimeError('WebSocket is not connected: call "accept" first.')
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1005), message.get("reason"))
        return message

    async def receive_text(self) -> str:
        """The next text message. A binary message raises ``WebSocketException(1003)``."""
        text: str | None = (await self._receive_data()).get("text")
        if text is None:
            raise WebSocketException(1003, "Expected a text message, got a binary one")
        return text

    async def receive_bytes(self) -> bytes:
        """The next binary message. A text message raises ``WebSocketException(1003)``."""
        data: bytes | None = (await self._receive_data()).get("bytes")
        if data is None:
            raise WebSocketException(1003, "Expected a binary message, got a text one")
        return data

    async def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """The next message decoded as JSON; malformed JSON raises ``WebSocketException(1007)``.

        ``mode`` names the frame type expected; a JSON document in the other frame type is
        accepted too (UTF-8 either way).
        """
        _check_mode(mode)
        message = await self._receive_data()
        data = message.get("text") if mode == "text" else message.get("bytes")
        if data is None:
            data = message.get("bytes") if mode == "text" else message.get("text")
        try:
            return msgspec.json.decode(data or b"")
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            # msgspec raises UnicodeDecodeError for invalid UTF-8 inside a string and
            # RecursionError for deep nesting: both are malformed input, not server errors.
            reason = str(exc).removeprefix("JSON is malformed: ")
            raise WebSocketException(1007, _short_reason(f"Malformed JSON: {reason}")) from exc

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        if not isinstance(data, str):
            raise TypeError(f"send_text() takes str, not {type(data).__name__}")
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"send_bytes() takes bytes, not {type(data).__name__}")
        await self.send({"type": "websocket.send", "bytes": bytes(data)})

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` as JSON (encoded like JSONResponse) in a text or binary message."""
        _check_mode(mode)
        encoded = json_body(data)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": encoded.decode("utf-8")})
        else:
            await self.send({"type": "websocket.send", "bytes": encoded})

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            return

    async def iter_json(self, mode: Literal["text", "binary"] = "text") -> AsyncIterator[Any]:
        """JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json(mode)
        except WebSocketDisconnect:
            return


def _check_mode(mode: str) -> None:
    if mode not in ("text", "binary"):
        raise ValueError(f'mode must be "text" or "binary", got {mode!r}')


def _accept_headers(
    headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]] | None,
) -> RawHeaders:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        raw = [encode_header(name, value) for name, value in headers.items()]
    else:
        raw = [_checked_raw_header(name, value) for name, value in headers]
    if any(name == b"sec-websocket-protocol" for name, _ in raw):
        raise ValueError(
            "Do not set sec-websocket-protocol in accept headers: pass subprotocol= instead"
        )
    return raw


def _checked_raw_header(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """An accept header given as bytes, refused (naming it) when it would split the headers."""
    pair = (bytes(name).lower(), bytes(value))
    if any(char in pair[1] or char in pair[0] for char in (b"\r", b"\n", b"\x00")):
        raise ValueError(
            f"Invalid header {pair[0].decode('latin-1')!r}: CR, LF and NUL are not allowed"
        )
    return pair
