"""WebSocket sessions of the TestClient, against raw ASGI applications and Starlette."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket as StarletteWebSocket

from velocix.testing import (
    ASGIProtocolError,
    ClientDisconnected,
    TestClient,
    WebSocketDenied,
    WebSocketTestSession,
)
from velocix.websocket import WebSocketDisconnect

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Any
Send = Any


class Boom(Exception):
    """The application's own error."""


class Echo:
    """Accepts (choosing the last offered subprotocol) and echoes each message back.

    Text commands: ``close`` closes with 4001 "bye"; ``crash`` raises ``Boom``;
    ``return`` returns without closing.
    """

    def __init__(self, accept_headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.accept_headers = accept_headers or []
        self.scope: Scope = {}
        self.received: list[Message] = []
        self.send_errors: list[OSError] = []
        self.finished = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return  # no lifespan support
        self.scope = scope
        try:
            await self.session(scope, receive, send)
        finally:
            self.finished.set()

    async def session(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "websocket.connect"
        offered = scope["subprotocols"]
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": offered[-1] if offered else None,
                "headers": self.accept_headers,
            }
        )
        while True:
            message = await receive()
            self.received.append(message)
            if message["type"] == "websocket.disconnect":
                await self.try_to_send(send)
                return
            command = message.get("text")
            if command == "close":
                await send({"type": "websocket.close", "code": 4001, "reason": "bye"})
            elif command == "crash":
                raise Boom("crashed after accept")
            elif command == "return":
                return
            else:
                await send({**message, "type": "websocket.send"})

    async def try_to_send(self, send: Send) -> None:
        try:
            await send({"type": "websocket.send", "text": "after disconnect"})
        except OSError as error:
            self.send_errors.append(error)


# -- messages ------------------------------------------------------------------------------


def test_echo_text_bytes_and_json() -> None:
    with TestClient(Echo()) as client, client.websocket_connect("/ws") as ws:
        ws.send_text("héllo")
        assert ws.receive_text() == "héllo"
        ws.send_bytes(b"\x00\xff")
        assert ws.receive_bytes() == b"\x00\xff"
        ws.send_json({"n": [1, 2], "s": "é"})
        assert ws.receive_json() == {"n": [1, 2], "s": "é"}
        ws.send_json({"mode": "binary"}, mode="binary")
        assert ws.receive_json(mode="binary") == {"mode": "binary"}
        ws.send({"type": "websocket.receive", "text": "raw"})
        assert ws.receive() == {"type": "websocket.send", "text": "raw"}


def test_json_is_sent_compact() -> None:
    app = Echo()
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        ws.send_json({"a": 1, "b": [1, 2]})
        ws.receive_text()
    assert app.received[0] == {"type": "websocket.receive", "text": '{"a":1,"b":[1,2]}'}


def test_receiving_the_wrong_kind_of_message_is_an_error() -> None:
    with TestClient(Echo()) as client, client.websocket_connect("/ws") as ws:
        ws.send_bytes(b"binary")
        with pytest.raises(TypeError, match="Expected a text message"):
            ws.receive_text()
        ws.send_text("text")
        with pytest.raises(TypeError, match="Expected a binary message"):
            ws.receive_bytes()


def test_scope_has_every_key_a_server_sends() -> None:
    app = Echo()
    with (
        TestClient(app, root_path="/app") as client,
        client.websocket_connect("/ws/room%201?token=a%20b", headers={"X-Tag": "t"}),
    ):
        scope = app.scope
    assert scope["type"] == "websocket"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["scheme"] == "ws"
    assert scope["path"] == "/app/ws/room 1"
    assert scope["raw_path"] == b"/app/ws/room%201"
    assert scope["root_path"] == "/app"
    assert scope["query_string"] == b"token=a%20b"
    assert scope["client"] == ("testclient", 50000)
    assert scope["server"] == ("testserver", 80)
    assert scope["subprotocols"] == []
    assert scope["extensions"] == {"websocket.http.response": {}}
    assert scope["state"] == {}
    headers = dict(scope["headers"])
    assert headers[b"host"] == b"testserver"
    assert headers[b"connection"] == b"upgrade"
    assert headers[b"upgrade"] == b"websocket"
    assert headers[b"sec-websocket-version"] == b"13"
    assert len(headers[b"sec-websocket-key"]) == 24  # base64 of 16 random bytes
    assert headers[b"x-tag"] == b"t"


def test_https_base_url_gives_wss() -> None:
    app = Echo()
    with TestClient(app, base_url="https://example.org") as client, client.websocket_connect("/"):
        assert app.scope["scheme"] == "wss"
        assert app.scope["server"] == ("example.org", 443)


def test_cookies_from_the_jar_go_with_the_handshake() -> None:
    app = Echo()
    with TestClient(app, cookies={"session": "abc"}) as client, client.websocket_connect("/"):
        assert dict(app.scope["headers"])[b"cookie"] == b"session=abc"


# -- handshake -----------------------------------------------------------------------------


def test_subprotocol_negotiation() -> None:
    app = Echo(accept_headers=[(b"x-server", b"1")])
    with TestClient(app) as client:
        with client.websocket_connect("/", subprotocols=["chat.v1", "chat.v2"]) as ws:
            assert ws.accepted_subprotocol == "chat.v2"
            assert ws.extra_headers == [(b"x-server", b"1")]
            assert app.scope["subprotocols"] == ["chat.v1", "chat.v2"]
        with client.websocket_connect("/") as ws:
            assert ws.accepted_subprotocol is None
            assert app.scope["subprotocols"] == []
    with TestClient(Echo()) as client, client.websocket_connect("/") as ws:
        assert ws.extra_headers == []


class Scripted:
    """Sends ``messages`` after websocket.connect, then records what it receives next."""

    def __init__(self, *messages: Message) -> None:
        self.messages = messages
        self.after: Message = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        for message in self.messages:
            await send(message)
        self.after = await receive()


def _handshake_app(*messages: Message) -> Scripted:
    return Scripted(*messages)


def test_close_before_accept_is_an_http_403_not_a_disconnect() -> None:
    app = _handshake_app({"type": "websocket.close", "code": 1008})
    with TestClient(app) as client, pytest.raises(WebSocketDenied) as info:
        client.websocket_connect("/private")
    denied = info.value
    assert denied.status_code == 403
    assert denied.content == b""
    assert isinstance(denied, httpx.HTTPStatusError)
    assert denied.response.status_code == 403
    assert str(denied.request.url) == "http://testserver/private"
    assert "HTTP 403 Forbidden" in str(denied)
    assert app.after == {"type": "websocket.disconnect", "code": 1006, "reason": ""}


def test_denial_response_passes_status_headers_and_body() -> None:
    app = _handshake_app(
        {
            "type": "websocket.http.response.start",
            "status": 401,
            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
        },
        {"type": "websocket.http.response.body", "body": b'{"detail":', "more_body": True},
        {"type": "websocket.http.response.body", "body": b'"no token"}'},
    )
    with TestClient(app) as client, pytest.raises(WebSocketDenied) as info:
        client.websocket_connect("/")
    assert info.value.status_code == 401
    assert info.value.headers["www-authenticate"] == "Bearer"
    assert info.value.response.json() == {"detail": "no token"}
    assert info.value.text == '{"detail":"no token"}'
    assert app.after["type"] == "websocket.disconnect"


HANDSHAKE_VIOLATIONS = [
    pytest.param(
        [{"type": "websocket.send", "text": "early"}],
        "Expected ASGI message 'websocket.accept'",
        id="send-before-accept",
    ),
    pytest.param(
        [{"type": "websocket.accept", "subprotocol": "nope"}],
        "did not offer",
        id="unoffered-subprotocol",
    ),
    pytest.param(
        [{"type": "websocket.accept", "headers": [(b"sec-websocket-protocol", b"x")]}],
        "must not include sec-websocket-protocol",
        id="subprotocol-header",
    ),
    pytest.param(
        [{"type": "websocket.accept", "headers": [(b"X-Upper", b"1")]}],
        "lowercase",
        id="uppercase-accept-header",
    ),
    pytest.param(
        [{"type": "websocket.http.response.start", "status": 403}, {"type": "websocket.send"}],
        "Expected ASGI message 'websocket.http.response.body'",
        id="send-during-denial",
    ),
]


@pytest.mark.parametrize(("messages", "error"), HANDSHAKE_VIOLATIONS)
def test_handshake_violations_are_reported(messages: list[Message], error: str) -> None:
    with TestClient(_handshake_app(*messages)) as client, pytest.raises(ASGIProtocolError) as info:
        client.websocket_connect("/")
    assert error in str(info.value)


def _open_app(*messages: Message) -> Scripted:
    return _handshake_app({"type": "websocket.accept"}, *messages)


OPEN_VIOLATIONS = [
    pytest.param([{"type": "websocket.accept"}], "but got 'websocket.accept'", id="accept-twice"),
    pytest.param(
        [{"type": "websocket.send", "text": "a", "bytes": b"b"}], "exactly one", id="text-and-bytes"
    ),
    pytest.param([{"type": "websocket.send"}], "exactly one", id="neither"),
    pytest.param([{"type": "websocket.send", "text": b"x"}], "must be a str", id="text-bytes"),
    pytest.param([{"type": "websocket.send", "bytes": "x"}], "must be bytes", id="bytes-str"),
    pytest.param([{"type": "websocket.close", "code": 1006}], "Invalid WebSocket close", id="1006"),
    pytest.param([{"type": "websocket.close", "code": 999}], "Invalid WebSocket close", id="999"),
    pytest.param(
        [{"type": "websocket.close", "reason": "x" * 124}], "123 bytes", id="reason-too-long"
    ),
]


@pytest.mark.parametrize(("messages", "error"), OPEN_VIOLATIONS)
def test_open_violations_are_reported(messages: list[Message], error: str) -> None:
    with TestClient(_open_app(*messages)) as client:
        ws = client.websocket_connect("/")
        with pytest.raises(ASGIProtocolError) as info:
            ws.receive()
    assert error in str(info.value)


def test_send_after_close_raises_an_oserror_in_the_app() -> None:
    errors: list[OSError] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close"})
        try:
            await send({"type": "websocket.send", "text": "too late"})
        except OSError as error:
            errors.append(error)
            raise  # servers must not report their own disconnect error as an app failure

    with TestClient(app) as client, client.websocket_connect("/") as ws:
        assert ws.receive() == {"type": "websocket.close", "code": 1000, "reason": ""}
    assert len(errors) == 1
    assert isinstance(errors[0], ClientDisconnected)
    assert "closed" in str(errors[0])


# -- closing -------------------------------------------------------------------------------


def test_app_close_raises_websocket_disconnect_with_code_and_reason() -> None:
    app = Echo()
    with TestClient(app) as client, client.websocket_connect("/") as ws:
        ws.send_text("close")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert (info.value.code, info.value.reason) == (4001, "bye")
        with pytest.raises(WebSocketDisconnect):  # and every receive after that
            ws.receive_json()
        ws.send_text("ignored: the socket is closed")
    # The client answered the close frame: the app saw websocket.disconnect with the code.
    assert app.received[-1] == {"type": "websocket.disconnect", "code": 4001, "reason": "bye"}
    assert all(m.get("text") != "ignored: the socket is closed" for m in app.received)


def test_raw_receive_returns_the_close_message_once() -> None:
    with TestClient(Echo()) as client, client.websocket_connect("/") as ws:
        ws.send_text("close")
        assert ws.receive() == {"type": "websocket.close", "code": 4001, "reason": "bye"}
        with pytest.raises(WebSocketDisconnect):
            ws.receive()


def test_client_close_sends_code_and_reason_and_waits_for_the_app() -> None:
    app = Echo()
    with TestClient(app) as client:
        ws = client.websocket_connect("/")
        ws.close(4000, "done")
        assert app.finished.is_set()
        assert app.received == [{"type": "websocket.disconnect", "code": 4000, "reason": "done"}]
        assert len(app.send_errors) == 1
        assert isinstance(app.send_errors[0], ClientDisconnected)
        with pytest.raises(RuntimeError, match="closed"):
            ws.send_text("after close")
        ws.close()  # closing twice is harmless


def test_leaving_the_with_block_closes_with_1000() -> None:
    app = Echo()
    with TestClient(app) as client:
        with client.websocket_connect("/") as ws:
            ws.send_text("hi")
            ws.receive_text()
        assert app.finished.is_set()
    assert app.received[-1] == {"type": "websocket.disconnect", "code": 1000, "reason": ""}


def test_app_returning_without_close_looks_like_an_abnormal_closure() -> None:
    with TestClient(Echo()) as client, client.websocket_connect("/") as ws:
        ws.send_text("return")
        assert ws.receive() == {"type": "websocket.close", "code": 1006, "reason": ""}


def test_an_endless_sender_stops_when_the_client_closes() -> None:
    outcome: list[str] = []

    async def ticker(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        await send({"type": "websocket.accept"})
        try:
            while True:
                await send({"type": "websocket.send", "text": "tick"})
                await asyncio.sleep(0)
        except ClientDisconnected:
            outcome.append("stopped")

    with TestClient(ticker) as client:
        with client.websocket_connect("/") as ws:
            assert ws.receive_text() == "tick"
        assert outcome == ["stopped"]


def test_open_session_is_closed_with_1012_when_the_client_shuts_down() -> None:
    app = Echo()
    with TestClient(app) as client:
        ws = client.websocket_connect("/")
    assert app.received == [{"type": "websocket.disconnect", "code": 1012, "reason": ""}]
    assert ws.receive() == {"type": "websocket.close", "code": 1012, "reason": ""}


# -- application errors --------------------------------------------------------------------


def test_exception_after_accept_surfaces_in_the_test() -> None:
    with TestClient(Echo()) as client, client.websocket_connect("/") as ws:
        ws.send_text("crash")
        with pytest.raises(Boom, match="crashed after accept"):
            ws.receive_text()


def test_exception_after_accept_is_close_1011_when_not_raised() -> None:
    with (
        TestClient(Echo(), raise_server_exceptions=False) as client,
        client.websocket_connect("/") as ws,
    ):
        ws.send_text("crash")
        assert ws.receive() == {"type": "websocket.close", "code": 1011, "reason": ""}


def test_exception_not_yet_seen_is_raised_when_leaving() -> None:
    with (
        TestClient(Echo()) as client,
        pytest.raises(Boom),
        client.websocket_connect("/") as ws,
    ):
        ws.send_text("crash")


def test_the_tests_own_failure_wins_over_the_app_error() -> None:
    with (
        TestClient(Echo()) as client,
        pytest.raises(AssertionError) as info,
        client.websocket_connect("/") as ws,
    ):
        ws.send_text("crash")
        raise AssertionError("test failed first")
    assert "Boom" in "".join(info.value.__notes__)


async def fails_before_accept(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    raise Boom("crashed in handshake")


async def returns_before_accept(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await receive()


def test_exception_before_accept_is_raised() -> None:
    with TestClient(fails_before_accept) as client, pytest.raises(Boom, match="handshake"):
        client.websocket_connect("/")


@pytest.mark.parametrize("app", [fails_before_accept, returns_before_accept])
def test_failed_handshake_is_http_500_when_not_raised(app: Any) -> None:
    with (
        TestClient(app, raise_server_exceptions=False) as client,
        pytest.raises(WebSocketDenied) as info,
    ):
        client.websocket_connect("/")
    assert info.value.status_code == 500


def test_returning_before_accept_is_a_protocol_error() -> None:
    with TestClient(returns_before_accept) as client, pytest.raises(ASGIProtocolError):
        client.websocket_connect("/")


# -- shared loop and state -----------------------------------------------------------------


class StatefulEcho(Echo):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["loop"] = asyncio.get_running_loop()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        self.loop_matches = scope["state"]["loop"] is asyncio.get_running_loop()
        await super().__call__(scope, receive, send)


def test_lifespan_state_and_loop_are_shared_with_websockets() -> None:
    app = StatefulEcho()
    with TestClient(app) as client, client.websocket_connect("/") as ws:
        ws.send_text("x")
        ws.receive_text()
        assert app.loop_matches is True


def test_no_thread_is_left_after_websocket_sessions() -> None:
    before = set(threading.enumerate())
    with TestClient(Echo()) as client:
        for _ in range(3):
            with client.websocket_connect("/") as ws:
                ws.send_text("x")
                ws.receive_text()
    assert set(threading.enumerate()) <= before


def test_closed_client_refuses_websockets() -> None:
    client = TestClient(Echo())
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.websocket_connect("/")


def test_session_type_is_exported() -> None:
    with TestClient(Echo()) as client, client.websocket_connect("/") as ws:
        assert isinstance(ws, WebSocketTestSession)


# -- Starlette -----------------------------------------------------------------------------


async def starlette_echo(websocket: StarletteWebSocket) -> None:
    await websocket.accept(subprotocol="json.v1", headers=[(b"x-room", b"lobby")])
    async for data in websocket.iter_json():
        if data == "bye":
            await websocket.close(code=4002, reason="see you")
            return
        await websocket.send_json({"echo": data})


async def starlette_private(websocket: StarletteWebSocket) -> None:
    await websocket.close(code=1008)


async def starlette_denial(websocket: StarletteWebSocket) -> None:
    await websocket.send_denial_response(PlainTextResponse("members only", status_code=401))


starlette_app = Starlette(
    routes=[
        WebSocketRoute("/echo", starlette_echo),
        WebSocketRoute("/private", starlette_private),
        WebSocketRoute("/denied", starlette_denial),
    ]
)


def test_starlette_echo_subprotocol_and_close() -> None:
    with (
        TestClient(starlette_app) as client,
        client.websocket_connect("/echo", subprotocols=["json.v1"]) as ws,
    ):
        assert ws.accepted_subprotocol == "json.v1"
        assert ws.extra_headers == [(b"x-room", b"lobby")]
        ws.send_json({"n": 1})
        assert ws.receive_json() == {"echo": {"n": 1}}
        ws.send_json("bye")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 4002
        assert info.value.reason == "see you"


def test_starlette_close_before_accept_is_403() -> None:
    with TestClient(starlette_app) as client, pytest.raises(WebSocketDenied) as info:
        client.websocket_connect("/private")
    assert info.value.status_code == 403


def test_starlette_denial_response() -> None:
    with TestClient(starlette_app) as client, pytest.raises(WebSocketDenied) as info:
        client.websocket_connect("/denied")
    assert info.value.status_code == 401
    assert info.value.text == "members only"
