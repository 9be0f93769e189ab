"""Where the checks run: in-process (a validated app on an event loop thread) or over the wire
(a real server process running :mod:`conformance.served`).

Both give the checks the same synchronous API: :meth:`Target.request` returns an
:class:`Exchange` with the response, the scope the app was handed and the validator's
violations for that request; :meth:`Target.websocket` returns a :class:`WSHandle`.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from conformance.eventlog import EventReader
from conformance.inprocess import (
    HTTPExchange,
    WebSocketSession,
    http_call,
    http_scope,
    websocket_scope,
)
from conformance.validator.rules import Violation
from conformance.validator.wrapper import ASGIApp, Message, validate
from conformance.wire import http1

T = TypeVar("T")
CONNECTION_HEADER = "x-conformance-id"
_ids = itertools.count(1)


def new_connection_id(prefix: str = "r") -> str:
    """A unique connection tag for one request."""
    return f"{prefix}{next(_ids)}-{time.monotonic_ns() % 1_000_000}"


@dataclass
class Exchange:
    """One request as a check sees it."""

    status: int | None
    headers: list[tuple[bytes, bytes]]
    body: bytes
    connection: str
    violations: list[Violation] = field(default_factory=list)
    scope: dict[str, Any] | None = None
    error: str | None = None
    wire: http1.Response | None = None

    def header(self, name: str) -> bytes | None:
        """First value of a response header (case-insensitive)."""
        wanted = name.lower().encode()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def rules(self) -> set[str]:
        """Ids of the rules violated during this request."""
        return {v.rule for v in self.violations}


class MemoryLog:
    """In-process counterpart of the event log: observer and reader in one."""

    def __init__(self) -> None:
        self.all: list[Violation] = []
        self.scopes: dict[str, dict[str, Any]] = {}
        self.done: set[str] = set()

    def violation(self, violation: Violation) -> None:
        self.all.append(violation)

    def started(self, connection: str, scope: dict[str, Any]) -> None:
        self.scopes[connection] = dict(scope)

    def finished(self, connection: str, scope_type: str) -> None:
        self.done.add(connection)

    def violations(self, connection: str | None = None) -> list[Violation]:
        return [v for v in self.all if connection is None or v.connection == connection]

    def scope(self, connection: str) -> dict[str, Any] | None:
        return self.scopes.get(connection)


class WSHandle(abc.ABC):
    """A WebSocket session, whatever carries it."""

    def __init__(self, status: int, subprotocol: str | None, connection: str) -> None:
        self.status = status
        self.subprotocol = subprotocol
        self.connection = connection

    @property
    def accepted(self) -> bool:
        """The handshake completed (HTTP 101 on the wire)."""
        return self.status == 101

    @abc.abstractmethod
    def send(self, data: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message."""

    @abc.abstractmethod
    def recv(self, timeout: float = 3.0) -> str | bytes | None:
        """Next message, or None once the app closed."""

    @abc.abstractmethod
    def close(self, code: int = 1000) -> None:
        """Close from the client side and wait for the app call to end."""

    @abc.abstractmethod
    def close_code(self) -> int | None:
        """The close code the app (or server) sent, once closed."""

    @abc.abstractmethod
    def violations(self) -> list[Violation]:
        """Violations the validator recorded for this session."""


class Target(abc.ABC):
    """Base class: the shared request/WebSocket API of both kinds of target."""

    kind = "abstract"

    @abc.abstractmethod
    def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        http_version: str = "1.1",
    ) -> Exchange:
        """Implemented by each kind of target."""

    @abc.abstractmethod
    def websocket(self, path: str, subprotocols: Sequence[str] = ()) -> WSHandle:
        """Implemented by each kind of target."""

    @abc.abstractmethod
    def all_violations(self) -> list[Violation]:
        """Implemented by each kind of target."""

    @abc.abstractmethod
    def close(self) -> None:
        """Implemented by each kind of target."""


class LoopThread:
    """An asyncio loop on a daemon thread, so synchronous checks can drive async apps."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
        """Run ``coro`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        """Stop the loop and join the thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.loop.is_running():
            self.loop.close()


class InProcessTarget(Target):
    """The framework app behind the validator, driven by :mod:`conformance.inprocess`."""

    kind = "inprocess"

    def __init__(
        self,
        app: ASGIApp,
        *,
        extensions: dict[str, dict[str, Any]] | None = None,
        wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    ):
        self.log = MemoryLog()
        self.raw_app = app
        self.validated = validate(app, strict=False, observer=self.log)
        # ``wrap`` puts another layer outside the validator (the asgion cross-check).
        self.app: ASGIApp = wrap(self.validated) if wrap else self.validated
        self.extensions = extensions or {}
        self.loop = LoopThread()
        self.state: dict[str, Any] = {}
        self._lifespan: _Lifespan | None = None

    def start(self) -> None:
        """Run lifespan startup, as a server would (failures are recorded, not raised)."""
        self._lifespan = _Lifespan(self.app, self.state)
        self.loop.run(self._lifespan.startup())

    @property
    def startup_reply(self) -> str | None:
        """What the app answered to lifespan.startup."""
        return self._lifespan.startup_reply if self._lifespan else None

    def call(
        self,
        scope: dict[str, Any],
        body: bytes | Sequence[bytes] = b"",
        *,
        disconnect_after: int | None = None,
    ) -> HTTPExchange:
        """One raw in-process call with a caller-built scope."""
        return self.loop.run(http_call(self.app, scope, body, disconnect_after=disconnect_after))

    def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        http_version: str = "1.1",
        extensions: dict[str, dict[str, Any]] | None = None,
        root_path: str = "",
        disconnect_after: int | None = None,
    ) -> Exchange:
        connection = new_connection_id()
        path, _, query = target.partition("?")
        fields = [(n.lower().encode(), v.encode("latin-1")) for n, v in headers]
        fields.append((CONNECTION_HEADER.encode(), connection.encode()))
        if body:
            fields.append((b"content-length", str(len(body)).encode()))
        scope = http_scope(
            method,
            root_path + path,
            query_string=query.encode("latin-1"),
            headers=fields,
            http_version=http_version,
            root_path=root_path,
            extensions=extensions if extensions is not None else dict(self.extensions),
            state=self.state,
        )
        result = self.call(scope, body, disconnect_after=disconnect_after)
        return Exchange(
            result.status,
            result.headers,
            result.body,
            connection,
            violations=self.log.violations(connection),
            scope=self.log.scope(connection),
            error=repr(result.error) if result.error else None,
        )

    def websocket(
        self,
        path: str,
        subprotocols: Sequence[str] = (),
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> WSHandle:
        connection = new_connection_id("w")
        route, _, query = path.partition("?")
        scope = websocket_scope(
            route,
            subprotocols=subprotocols,
            query_string=query.encode("latin-1"),
            headers=[(CONNECTION_HEADER.encode(), connection.encode())],
            extensions=extensions if extensions is not None else dict(self.extensions),
        )
        session = WebSocketSession(self.app, scope, 5.0)
        answer = self.loop.run(session.connect())
        return _InProcessWS(self, session, answer, connection)

    def all_violations(self) -> list[Violation]:
        return list(self.log.all)

    def close(self) -> None:
        if self._lifespan is not None:
            with contextlib.suppress(Exception):
                self.loop.run(self._lifespan.shutdown())
        self.loop.stop()


class _Lifespan:
    """A lifespan scope held open between startup and shutdown."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self.events: asyncio.Queue[Message] = asyncio.Queue()
        self.replies: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.startup_reply: str | None = None

    async def _run(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }

        async def send(message: Message) -> None:
            await self.replies.put(message)

        # "If an exception is raised ... the server must continue" (lifespan.rst).
        with contextlib.suppress(Exception):
            await self.app(scope, self.events.get, send)
        await self.replies.put({"type": "conformance.app-returned"})

    async def startup(self) -> None:
        self.task = asyncio.ensure_future(self._run())
        await self.events.put({"type": "lifespan.startup"})
        reply = await asyncio.wait_for(self.replies.get(), 10)
        self.startup_reply = str(reply.get("type"))

    async def shutdown(self) -> None:
        if self.task is None or self.task.done():
            return
        await self.events.put({"type": "lifespan.shutdown"})
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.replies.get(), 5)
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


class _InProcessWS(WSHandle):
    def __init__(
        self, target: InProcessTarget, session: WebSocketSession, answer: Message, connection: str
    ) -> None:
        kind = answer.get("type")
        status = 101 if kind == "websocket.accept" else 403
        if kind == "websocket.http.response.start":
            status = int(answer.get("status", 0))
        super().__init__(status, answer.get("subprotocol"), connection)
        self.target = target
        self.session = session
        self.answer = answer
        self._close_code: int | None = None if status == 101 else 1006

    def send(self, data: str | bytes) -> None:
        if isinstance(data, str):
            self.target.loop.run(self.session.send_text(data))
        else:
            self.target.loop.run(self.session.send_bytes(data))

    def recv(self, timeout: float = 3.0) -> str | bytes | None:
        while True:
            message = self.target.loop.run(self.session.next(), timeout + 1)
            kind = message.get("type")
            if kind == "websocket.send":
                text = message.get("text")
                return text if text is not None else bytes(message.get("bytes") or b"")
            if kind == "websocket.close":
                self._close_code = int(message.get("code", 1000))
                return None
            if kind == "conformance.app-returned":
                return None

    def close(self, code: int = 1000) -> None:
        self.target.loop.run(self.session.disconnect(code))
        self.target.loop.run(self.session.aclose())

    def close_code(self) -> int | None:
        return self._close_code

    def violations(self) -> list[Violation]:
        return self.target.log.violations(self.connection)


READY_UNDER_ROOT_PATH = "/conformance/raw/echo"
"""Readiness path of a root-path variant: a probe conformance.served answers itself."""

ROOT_PATH_FLAGS = {
    "uvicorn": lambda root: ["--root-path", root],
    "hypercorn": lambda root: ["--root-path", root],
    "granian": lambda root: ["--url-path-prefix", root],
    "daphne": lambda root: ["--root-path", root],
}


def server_family(server: str) -> str:
    """``uvicorn-h11`` -> ``uvicorn``: the variants of a server share its options."""
    return server.split("-", 1)[0]


def _any_answer(port: int, path: str, timeout: float) -> bool:
    """True when a GET of ``path`` gets a complete response, whatever its status."""
    try:
        http1.exchange(port, http1.build_request("GET", path), timeout=timeout)
    except (OSError, TimeoutError, http1.PeerClosed, http1.FramingError):
        return False
    return True


def _app_server(ready_path: str) -> type:
    """A RunningServer that is ready once the port accepts and ``ready_path`` gets any answer
    (the app under ``check`` is anyone's: it has no ``/plaintext`` to answer 200)."""
    from bench.infra.servers.base import RunningServer, tcp_open

    class AppServer(RunningServer):
        def ready(self) -> bool:
            return tcp_open(self.port, 0.5) and _any_answer(self.port, ready_path, 5.0)

    return AppServer


class WireTarget(Target):
    """A real server process (bench's server registry) running conformance.served."""

    kind = "wire"

    def __init__(
        self,
        server: str,
        app_target: str,
        workdir: Path,
        *,
        lifespan_mode: str = "",
        root_path: str = "",
        cpus: Sequence[int] = (0,),
        wait_ready: bool = True,
        timeout: float = 30.0,
        ready_path: str | None = None,
    ) -> None:
        from bench.infra.servers import registry
        from bench.infra.servers.base import RunningServer

        self.ready_path = ready_path
        # Under a root path, whether GET /plaintext reaches the app's route depends on the
        # server (uvicorn prepends the root path, hypercorn and granian do not) and on the
        # framework (Quart answers 404 outside its root path): ask the served wrapper's own
        # probe instead, which every combination answers.
        probe = ready_path or (READY_UNDER_ROOT_PATH if root_path else "")
        server_class = _app_server(probe) if probe else RunningServer

        self.server_name = server
        workdir.mkdir(parents=True, exist_ok=True)
        stem = f"{server}-{new_connection_id('s')}"
        self.log_path = workdir / f"{stem}.events.jsonl"
        self.server_log = workdir / f"{stem}.server.log"
        env = {
            "CONFORMANCE_TARGET": app_target,
            "CONFORMANCE_LOG": str(self.log_path),
            "CONFORMANCE_LIFESPAN": lifespan_mode,
        }
        self.running = server_class(
            registry()[server], "conformance.served:app", cpus=cpus, env=env, log=self.server_log
        )
        if root_path:
            flags = ROOT_PATH_FLAGS[server_family(server)](root_path)
            index = self.running.command.index("conformance.served:app")
            if server_family(server) in ("uvicorn", "daphne"):
                index += 1  # the app first, options after (as the spec's command line has it)
            self.running.command[index:index] = flags
        self.events = EventReader(self.log_path)
        self.port = self.running.port
        if wait_ready:
            self.running.start(timeout)

    def spawn(self) -> None:
        """Start the process without waiting for readiness (lifespan checks)."""
        from bench.infra import process

        self.running.process = process.spawn(
            self.running.command, log=self.server_log, env=self.running.env
        )

    def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        http_version: str = "1.1",
        timeout: float = 5.0,
    ) -> Exchange:
        connection = new_connection_id()
        fields = [*headers, (CONNECTION_HEADER, connection)]
        raw = http1.build_request(method, target, fields, body, version=f"HTTP/{http_version}")
        try:
            response = http1.exchange(self.port, raw, method=method, timeout=timeout)
        except (OSError, http1.FramingError, http1.PeerClosed, TimeoutError) as exc:
            self.events.wait_finished(connection, 2.0)
            return Exchange(
                None,
                [],
                b"",
                connection,
                self.events.violations(connection),
                self.events.scope(connection),
                error=f"{type(exc).__name__}: {exc}",
            )
        self.events.wait_finished(connection, 5.0)
        return Exchange(
            response.status,
            [(k.lower(), v) for k, v in response.headers],
            response.body,
            connection,
            violations=self.events.violations(connection),
            scope=self.events.scope(connection),
            wire=response,
        )

    def websocket(self, path: str, subprotocols: Sequence[str] = ()) -> WSHandle:
        from websockets.exceptions import InvalidStatus
        from websockets.sync.client import connect
        from websockets.typing import Subprotocol

        connection = new_connection_id("w")
        try:
            client = connect(
                f"ws://{http1.HOST}:{self.port}{path}",
                subprotocols=[Subprotocol(p) for p in subprotocols] or None,
                additional_headers={CONNECTION_HEADER: connection},
                compression=None,
                open_timeout=5,
                close_timeout=2,
                proxy=None,
                ping_interval=None,
            )
        except InvalidStatus as exc:
            return _WireWS(self, None, exc.response.status_code, None, connection)
        return _WireWS(self, client, 101, client.subprotocol, connection)

    def all_violations(self) -> list[Violation]:
        return self.events.violations()

    def server_log_text(self) -> str:
        """What the server printed so far."""
        try:
            return self.server_log.read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        self.running.stop()


class _WireWS(WSHandle):
    def __init__(
        self, target: WireTarget, client: Any, status: int, subprotocol: str | None, connection: str
    ) -> None:
        super().__init__(status, subprotocol, connection)
        self.target = target
        self.client = client

    def send(self, data: str | bytes) -> None:
        self.client.send(data)

    def recv(self, timeout: float = 3.0) -> str | bytes | None:
        from websockets.exceptions import ConnectionClosed

        try:
            message: str | bytes = self.client.recv(timeout)
            return message
        except ConnectionClosed:
            return None

    def close(self, code: int = 1000) -> None:
        if self.client is not None:
            self.client.close(code)
        self.target.events.wait_finished(self.connection, 3.0)

    def close_code(self) -> int | None:
        if self.client is None or self.client.close_code is None:
            return None
        return int(self.client.close_code)

    def violations(self) -> list[Violation]:
        self.target.events.wait_finished(self.connection, 3.0)
        return self.target.events.violations(self.connection)


@contextlib.contextmanager
def wire_target(
    server: str, app_target: str, workdir: Path, **options: Any
) -> Iterator[WireTarget]:
    """A started wire target, always stopped (its whole process group) on exit."""
    target = WireTarget(server, app_target, workdir, **options)
    try:
        yield target
    finally:
        target.close()
