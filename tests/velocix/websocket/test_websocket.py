"""velocix.websocket: the application side of the ASGI WebSocket protocol."""

from __future__ import annotations

from typing import Any

import pytest

from velocix.core.exceptions import WebSocketException
from velocix.core.response import PlainTextResponse
from velocix.http.datastructures import Address
from velocix.websocket import WebSocket, WebSocketDisconnect, WebSocketState
from velocix.websocket.websocket import validate_close

Message = dict[str, Any]


class FakeServer:
    """Hands out prepared client messages and records what the application sends."""

    def __init__(self, *incoming: Message, send_error: BaseException | None = None) -> None:
        self.incoming = [{"type": "websocket.connect"}, *incoming]
        self.sent: list[Message] = []
        self.send_error = send_error

    async def receive(self) -> Message:
        if not self.incoming:
            raise AssertionError("the application received more messages than the client sent")
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        if self.send_error is not None:
            raise self.send_error
        self.sent.append(message)


def ws_scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "scheme": "ws",
        "path": "/ws/lobby",
        "query_string": b"token=abc&tag=a&tag=b",
        "headers": [(b"host", b"testserver"), (b"cookie", b"sid=42")],
        "client": ("127.0.0.1", 4321),
        "server": ("127.0.0.1", 8000),
        "subprotocols": ["chat", "json"],
        "path_params": {"room": "lobby"},
    }
    scope.update(overrides)
    return scope


def text(data: str) -> Message:
    return {"type": "websocket.receive", "text": data}


def binary(data: bytes) -> Message:
    return {"type": "websocket.receive", "bytes": data}


def disconnect(code: int = 1000, reason: str = "") -> Message:
    return {"type": "websocket.disconnect", "code": code, "reason": reason}


async def accepted(server: FakeServer, **scope: Any) -> WebSocket:
    websocket = WebSocket(ws_scope(**scope), server.receive, server.send)
    await websocket.accept()
    return websocket


def test_scope_properties() -> None:
    server = FakeServer()
    websocket = WebSocket(ws_scope(), server.receive, server.send)
    assert str(websocket.url) == "ws://testserver/ws/lobby?token=abc&tag=a&tag=b"
    assert websocket.query_params.getlist("tag") == ["a", "b"]
    assert websocket.path_params == {"room": "lobby"}
    assert websocket.headers["host"] == "testserver"
    assert websocket.cookies == {"sid": "42"}
    assert websocket.client == Address("127.0.0.1", 4321)
    websocket.state.user = "u"
    assert websocket.scope["state"] == {"user": "u"}
    assert websocket.client_state is WebSocketState.CONNECTING
    assert websocket.application_state is WebSocketState.CONNECTING


def test_rejects_http_scope() -> None:
    server = FakeServer()
    with pytest.raises(ValueError, match="websocket"):
        WebSocket({"type": "http"}, server.receive, server.send)


@pytest.mark.anyio
async def test_accept_receives_connect_first_and_echo() -> None:
    server = FakeServer(text("hello"), binary(b"\x00\x01"), disconnect(1001, "bye"))
    websocket = await accepted(server)
    assert server.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    assert websocket.client_state is WebSocketState.CONNECTED
    assert websocket.application_state is WebSocketState.CONNECTED
    await websocket.send_text(await websocket.receive_text())
    await websocket.send_bytes(await websocket.receive_bytes())
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.receive_text()
    assert (info.value.code, info.value.reason) == (1001, "bye")
    assert server.sent[1:] == [
        {"type": "websocket.send", "text": "hello"},
        {"type": "websocket.send", "bytes": b"\x00\x01"},
    ]
    with pytest.raises(RuntimeError, match="disconnect message has been received"):
        await websocket.receive()


@pytest.mark.anyio
async def test_accept_with_subprotocol_and_headers() -> None:
    server = FakeServer()
    websocket = WebSocket(ws_scope(), server.receive, server.send)
    await websocket.accept(subprotocol="chat", headers={"X-Server": "velocix"})
    assert server.sent == [
        {
            "type": "websocket.accept",
            "subprotocol": "chat",
            "headers": [(b"x-server", b"velocix")],
        }
    ]


@pytest.mark.anyio
async def test_accept_with_raw_headers() -> None:
    server = FakeServer()
    websocket = WebSocket(ws_scope(), server.receive, server.send)
    await websocket.accept(headers=[(b"X-Raw", b"1")])
    assert server.sent[0]["headers"] == [(b"x-raw", b"1")]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"subprotocol": "mqtt"}, "not offered", id="subprotocol-not-offered"),
        pytest.param(
            {"headers": {"Sec-WebSocket-Protocol": "chat"}}, "subprotocol=", id="protocol-header"
        ),
        pytest.param(
            {"headers": [(b"sec-websocket-protocol", b"chat")]}, "subprotocol=", id="raw-header"
        ),
    ],
)
async def test_accept_misuse(kwargs: dict[str, Any], message: str) -> None:
    server = FakeServer()
    websocket = WebSocket(ws_scope(), server.receive, server.send)
    with pytest.raises(ValueError, match=message):
        await websocket.accept(**kwargs)
    assert server.sent == []


@pytest.mark.anyio
async def test_accept_without_offered_subprotocols() -> None:
    server = FakeServer()
    websocket = WebSocket(ws_scope(subprotocols=[]), server.receive, server.send)
    with pytest.raises(ValueError, match="not offered"):
        await websocket.accept(subprotocol="chat")


@pytest.mark.anyio
async def test_accept_only_once() -> None:
    server = FakeServer()
    websocket = await accepted(server)
    with pytest.raises(RuntimeError, match="only be called once"):
        await websocket.accept()


@pytest.mark.anyio
async def test_client_gone_before_accept() -> None:
    server = FakeServer()
    server.incoming = [disconnect(1006)]
    websocket = WebSocket(ws_scope(), server.receive, server.send)
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.accept()
    assert info.value.code == 1006
    assert server.sent == []


@pytest.mark.anyio
async def test_unexpected_first_message_is_a_protocol_error() -> None:
    server = FakeServer()
    server.incoming = [text("too early")]
    websocket = WebSocket(ws_scope(), server.receive, server.send)
    with pytest.raises(RuntimeError, match=r'"websocket\.connect"'):
        await websocket.accept()


@pytest.mark.anyio
async def test_close_before_accept_sends_close() -> None:
    """The server turns this into an HTTP 403 on the handshake."""
    server = FakeServer()
    websocket = WebSocket(ws_scope(), server.receive, server.send)
    await websocket.close(1008, "no token")
    assert server.sent == [{"type": "websocket.close", "code": 1008, "reason": "no token"}]
    assert websocket.application_state is WebSocketState.DISCONNECTED
    with pytest.raises(RuntimeError, match="only be called once, before close"):
        await websocket.accept()


@pytest.mark.anyio
async def test_send_after_close_is_a_clear_error() -> None:
    server = FakeServer()
    websocket = await accepted(server)
    await websocket.close()
    assert server.sent[-1] == {"type": "websocket.close", "code": 1000, "reason": ""}
    with pytest.raises(RuntimeError, match="the WebSocket is closed"):
        await websocket.send_text("late")
    with pytest.raises(RuntimeError, match="the WebSocket is closed"):
        await websocket.close()


@pytest.mark.anyio
async def test_close_after_client_disconnect_is_a_no_op() -> None:
    server = FakeServer(disconnect(1001))
    websocket = await accepted(server)
    assert [m async for m in websocket.iter_text()] == []
    await websocket.close()
    assert server.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]


@pytest.mark.anyio
async def test_send_before_accept_is_a_protocol_error() -> None:
    server = FakeServer()
    websocket = WebSocket(ws_scope(), server.receive, server.send)
    with pytest.raises(RuntimeError, match=r"'websocket\.accept'"):
        await websocket.send_text("hi")
    with pytest.raises(RuntimeError, match='call "accept" first'):
        await websocket.receive_text()


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1011, 1014, 3000, 4000, 4999])
def test_valid_close_codes(code: int) -> None:
    validate_close(code, "")


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, -1])
def test_invalid_close_codes(code: int) -> None:
    with pytest.raises(ValueError, match="close code"):
        validate_close(code, "")


@pytest.mark.anyio
async def test_close_validates_before_sending() -> None:
    server = FakeServer()
    websocket = await accepted(server)
    with pytest.raises(ValueError, match="close code"):
        await websocket.close(1006)
    with pytest.raises(ValueError, match="123 UTF-8 bytes"):
        await websocket.close(1000, "é" * 62)
    assert websocket.application_state is WebSocketState.CONNECTED
    await websocket.close(1000, "é" * 61)
    assert server.sent[-1]["reason"] == "é" * 61


@pytest.mark.anyio
async def test_json_text_and_binary() -> None:
    server = FakeServer(text('{"a": 1}'), binary(b"[1, 2]"), text("[3]"))
    websocket = await accepted(server)
    assert await websocket.receive_json() == {"a": 1}
    assert await websocket.receive_json(mode="binary") == [1, 2]
    assert await websocket.receive_json(mode="binary") == [3]  # other frame type tolerated
    await websocket.send_json({"b": [1, "x"]})
    await websocket.send_json({"c": None}, mode="binary")
    assert server.sent[1:] == [
        {"type": "websocket.send", "text": '{"b":[1,"x"]}'},
        {"type": "websocket.send", "bytes": b'{"c":null}'},
    ]


@pytest.mark.anyio
async def test_malformed_json_is_close_1007() -> None:
    server = FakeServer(text("{nope"))
    websocket = await accepted(server)
    with pytest.raises(WebSocketException) as info:
        await websocket.receive_json()
    assert info.value.code == 1007
    assert info.value.reason.startswith("Malformed JSON")
    validate_close(info.value.code, info.value.reason)  # usable as-is for close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(binary(b'{"a": "\xff\xfe"}'), id="invalid-utf8-in-string"),
        pytest.param(text("[" * 100_000 + "]" * 100_000), id="nested-past-recursion-limit"),
    ],
)
async def test_json_that_breaks_the_decoder_is_close_1007(frame: Message) -> None:
    # msgspec raises UnicodeDecodeError / RecursionError here, not DecodeError (the same
    # classes the fuzzer found on HTTP bodies): still malformed input, never a 1011.
    server = FakeServer(frame)
    websocket = await accepted(server)
    with pytest.raises(WebSocketException) as info:
        await websocket.receive_json(mode="binary")
    assert info.value.code == 1007


@pytest.mark.anyio
async def test_wrong_frame_type_is_close_1003() -> None:
    server = FakeServer(binary(b"x"), text("y"))
    websocket = await accepted(server)
    with pytest.raises(WebSocketException) as info:
        await websocket.receive_text()
    assert info.value.code == 1003
    with pytest.raises(WebSocketException) as info:
        await websocket.receive_bytes()
    assert info.value.code == 1003


@pytest.mark.anyio
async def test_json_mode_is_validated() -> None:
    server = FakeServer()
    websocket = await accepted(server)
    with pytest.raises(ValueError, match="mode"):
        await websocket.send_json({}, mode="yaml")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_send_type_errors() -> None:
    server = FakeServer()
    websocket = await accepted(server)
    with pytest.raises(TypeError, match="send_text"):
        await websocket.send_text(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="send_bytes"):
        await websocket.send_bytes("text")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_iterators_stop_on_disconnect() -> None:
    server = FakeServer(text("a"), text("b"), disconnect())
    websocket = await accepted(server)
    assert [m async for m in websocket.iter_text()] == ["a", "b"]

    server = FakeServer(binary(b"a"), disconnect())
    websocket = await accepted(server)
    assert [m async for m in websocket.iter_bytes()] == [b"a"]

    server = FakeServer(text("1"), text('{"x": 2}'), disconnect())
    websocket = await accepted(server)
    assert [m async for m in websocket.iter_json()] == [1, {"x": 2}]


@pytest.mark.anyio
async def test_disconnect_without_code_is_1005() -> None:
    server = FakeServer({"type": "websocket.disconnect"})
    websocket = await accepted(server)
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.receive_bytes()
    assert info.value.code == 1005
    assert str(info.value) == "1005"


@pytest.mark.anyio
async def test_oserror_from_send_is_a_disconnect() -> None:
    """ASGI 2.4: send raises OSError once the connection is gone."""
    server = FakeServer()
    websocket = await accepted(server)
    server.send_error = OSError("gone")
    with pytest.raises(WebSocketDisconnect) as info:
        await websocket.send_text("x")
    assert info.value.code == 1006
    assert websocket.application_state is WebSocketState.DISCONNECTED


@pytest.mark.anyio
async def test_unexpected_message_type_after_connect() -> None:
    server = FakeServer({"type": "http.request"})
    websocket = await accepted(server)
    with pytest.raises(RuntimeError, match=r"websocket\.receive"):
        await websocket.receive_text()


@pytest.mark.anyio
async def test_denial_response() -> None:
    server = FakeServer()
    scope = ws_scope(extensions={"websocket.http.response": {}})
    websocket = WebSocket(scope, server.receive, server.send)
    await websocket.send_denial_response(PlainTextResponse("go away", status_code=401))
    assert [m["type"] for m in server.sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert server.sent[0]["status"] == 401
    assert websocket.application_state is WebSocketState.DISCONNECTED
    with pytest.raises(RuntimeError, match="closed"):
        await websocket.close()


@pytest.mark.anyio
async def test_denial_response_needs_the_extension() -> None:
    server = FakeServer()
    websocket = WebSocket(ws_scope(), server.receive, server.send)
    with pytest.raises(RuntimeError, match="extension"):
        await websocket.send_denial_response(PlainTextResponse("no", status_code=403))
    await websocket.accept()
    scope = ws_scope(extensions={"websocket.http.response": {}})
    late = WebSocket(scope, server.receive, server.send)
    late.application_state = WebSocketState.CONNECTED
    with pytest.raises(RuntimeError, match="before accept"):
        await late.send_denial_response(PlainTextResponse("no", status_code=403))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Custom": "a\r\nb"}, id="mapping-crlf"),
        pytest.param({"X-Custom": "€"}, id="mapping-non-latin-1"),
        pytest.param([(b"x-custom", b"a\r\nset-cookie: x=1")], id="raw-crlf"),
        pytest.param([(b"x-custom", b"a\x00")], id="raw-nul"),
    ],
)
def test_accept_headers_that_cannot_go_on_the_wire_name_the_header(headers: Any) -> None:
    from velocix.websocket.websocket import _accept_headers

    with pytest.raises(ValueError, match=r"(?i)'x-custom'"):
        _accept_headers(headers)
