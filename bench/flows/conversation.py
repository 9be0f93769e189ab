"""A WebSocket echo conversation that reports to Locust exactly as its HTTP users do.

Locust ships no WebSocket user, so the journeys use a real client — ``websockets``' sync
client, which runs on gevent once Locust has monkey-patched sockets and threads — and fire
Locust's ``request`` event for every connection and every echoed message. A wrong echo (other
bytes or another frame type) is reported as a failure with the reason, like a wrong HTTP body.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from bench.flows.cases import WS_CONNECT, WS_MESSAGE, WS_TYPE, failure_label
from bench.lab.scenarios.base import WsMessage, check_echo

Fire = Callable[..., Any]
"""``environment.events.request.fire``: takes Locust's request-event keyword arguments."""

MAX_MESSAGE_BYTES = 1 << 20


class EchoMismatch(Exception):
    """The server echoed something else than what was sent."""


class EchoConversation:
    """One WebSocket connection to the echo endpoint; every operation is a Locust request."""

    def __init__(self, url: str, fire: Fire, *, timeout: float = 10.0) -> None:
        self.url = url
        self.fire = fire
        self.timeout = timeout
        self.connection: ClientConnection | None = None
        self._stack = ExitStack()

    @property
    def is_open(self) -> bool:
        """True between a successful :meth:`open` and :meth:`close`."""
        return self.connection is not None

    def open(self) -> bool:
        """Connect (handshake included in the timing); False, reported as a failure, if not."""
        self.close()
        started = time.time()
        error: BaseException | None = None
        try:
            # A connection lives across tasks, so its context is entered on a stack that
            # close() unwinds (websockets wants connect() used as a context manager).
            self.connection = self._stack.enter_context(
                connect(
                    self.url,
                    open_timeout=self.timeout,
                    close_timeout=self.timeout,
                    max_size=MAX_MESSAGE_BYTES,
                    compression=None,
                )
            )
        except (OSError, TimeoutError, WebSocketException) as exc:
            error = exc
        self._report(WS_CONNECT, started, 0, error)
        return error is None

    def exchange(self, message: WsMessage) -> bool:
        """Send one message and wait for its echo; False when it failed or differed."""
        if self.connection is None:
            raise RuntimeError("exchange() before open(): the conversation has no connection")
        started = time.time()
        error: BaseException | None = None
        received: str | bytes = b""
        try:
            self.connection.send(message.data)
            received = self.connection.recv(timeout=self.timeout)
        except (OSError, TimeoutError, WebSocketException) as exc:
            error = exc
        else:
            reason = check_echo(message, received)
            if reason:
                error = EchoMismatch(failure_label(reason))  # one Locust entry per kind
        self._report(WS_MESSAGE, started, len(received), error)
        if error is not None and not isinstance(error, EchoMismatch):
            self.close()  # a broken connection is not reused; the next step reconnects
        return error is None

    def close(self) -> None:
        """Close the connection (normal closure) if it is open."""
        self.connection = None
        try:
            self._stack.close()
        except (OSError, WebSocketException):
            return  # already gone: nothing left to release

    def _report(self, name: str, started: float, length: int, error: BaseException | None) -> None:
        self.fire(
            request_type=WS_TYPE,
            name=name,
            response_time=(time.time() - started) * 1000.0,
            response_length=length,
            response=None,
            context={},
            exception=error,
            start_time=started,
            url=self.url,
        )
