"""The WebSocket conversation reports every connection and message as a Locust request,
and a wrong echo as a failure — against real ``websockets`` servers in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from bench.flows import cases
from bench.flows.conversation import EchoConversation, EchoMismatch
from bench.lab.scenarios.base import WsMessage

Handler = Callable[[ServerConnection], None]


def echo(connection: ServerConnection) -> None:
    for message in connection:
        connection.send(message)


def swap_frame_type(connection: ServerConnection) -> None:
    """Echoes text as binary and binary as text: the same bytes, the wrong frame."""
    for message in connection:
        connection.send(message.encode() if isinstance(message, str) else message.decode())


@contextmanager
def ws_server(handler: Handler) -> Iterator[str]:
    with serve(handler, "127.0.0.1", 0, compression=None) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        try:
            yield f"ws://127.0.0.1:{port}{cases.WS_PATH}"
        finally:
            server.shutdown()
            thread.join(timeout=5)


class Events:
    """Collects what would go to ``environment.events.request.fire``."""

    def __init__(self) -> None:
        self.fired: list[dict[str, Any]] = []

    def __call__(self, **event: Any) -> None:
        self.fired.append(event)


def test_a_correct_conversation_reports_successes() -> None:
    events = Events()
    with ws_server(echo) as url:
        conversation = EchoConversation(url, events, timeout=5)
        assert conversation.open()
        assert conversation.exchange(WsMessage("héllo"))
        assert conversation.exchange(WsMessage(b"\x00\x01binary"))
        conversation.close()
    assert [(e["request_type"], e["name"]) for e in events.fired] == [
        ("WS", cases.WS_CONNECT),
        ("WS", cases.WS_MESSAGE),
        ("WS", cases.WS_MESSAGE),
    ]
    assert all(e["exception"] is None for e in events.fired)
    assert events.fired[2]["response_length"] == len(b"\x00\x01binary")
    assert all(e["response_time"] >= 0 for e in events.fired)


@pytest.mark.parametrize("data", [pytest.param("text", id="text"), pytest.param(b"bin", id="bin")])
def test_a_wrong_frame_type_is_a_failure(data: str | bytes) -> None:
    events = Events()
    with ws_server(swap_frame_type) as url:
        conversation = EchoConversation(url, events, timeout=5)
        assert conversation.open()
        assert not conversation.exchange(WsMessage(data))
        assert conversation.is_open  # a wrong answer does not break the connection
        conversation.close()
    error = events.fired[-1]["exception"]
    assert isinstance(error, EchoMismatch)
    assert "frame" in str(error)


def test_a_refused_connection_is_a_failed_connect() -> None:
    events = Events()
    with ws_server(echo) as url:
        pass  # the server is gone: its port now refuses connections
    conversation = EchoConversation(url, events, timeout=2)
    assert not conversation.open()
    assert not conversation.is_open
    assert events.fired[0]["name"] == cases.WS_CONNECT
    assert isinstance(events.fired[0]["exception"], OSError)


def test_exchange_before_open_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match="before open"):
        EchoConversation("ws://127.0.0.1:9/ws/echo", Events()).exchange(WsMessage("x"))
