"""Slow and hostile clients: bodies over the limit, bodies trickling in, clients that leave.

Driven through the ASGI interface with a scripted client (every ``receive()`` counted), then
once over a real uvicorn with raw sockets. Whatever the client does, the app must stop reading
at the limit, answer slow clients without stalling others, and leave no task, open file,
temporary upload file or un-run teardown behind when the client disconnects.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

import conformance

APP_FILE = Path(__file__).with_name("hostile_clients_app.py")


def _load_app_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hostile_clients_app", APP_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["hostile_clients_app"] = module
    spec.loader.exec_module(module)
    return module


hostile = _load_app_module()
LIMIT: int = hostile.LIMIT
CHUNK = 4096


# --- a scripted ASGI client -------------------------------------------------------------------


@dataclass
class Client:
    """Feeds ``chunks`` (with ``delay`` seconds between them); after ``leave_after`` chunks (or
    ``leave_after_sent`` response messages) it disconnects."""

    chunks: list[bytes]
    delay: float = 0.0
    leave_after: int | None = None
    leave_after_sent: int | None = None
    receive_calls: int = 0
    received_bytes: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    left: asyncio.Event = field(default_factory=asyncio.Event)

    async def receive(self) -> dict[str, Any]:
        self.receive_calls += 1
        index = self.receive_calls - 1
        if self.leave_after is not None and index >= self.leave_after:
            self.left.set()
            return {"type": "http.disconnect"}
        if index < len(self.chunks):
            if self.delay:
                await asyncio.sleep(self.delay)
            chunk = self.chunks[index]
            self.received_bytes += len(chunk)
            return {
                "type": "http.request",
                "body": chunk,
                "more_body": index < len(self.chunks) - 1,
            }
        # The body is over: the next event is the disconnect, once the client leaves (or the
        # response is complete, as uvicorn reports it).
        waiters = [asyncio.ensure_future(self.done.wait()), asyncio.ensure_future(self.left.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if self.left.is_set():
            raise OSError("client disconnected")  # ASGI 2.4: send after disconnect
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.done.set()
        if self.leave_after_sent is not None and len(self.sent) >= self.leave_after_sent:
            self.left.set()

    @property
    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        return int(starts[0]["status"]) if starts else None


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ["127.0.0.1", 50000],
        "server": ["127.0.0.1", 8000],
        "state": {},
    }


async def run(method: str, path: str, headers: list[tuple[bytes, bytes]], client: Client) -> None:
    """One request through the validated app, bounded so a hang fails instead of blocking."""
    app = conformance.validate(hostile.app)
    await asyncio.wait_for(app(scope(method, path, headers), client.receive, client.send), 30)


def new_tasks(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Tasks started since ``before`` that are still alive (the test's own runner excluded)."""
    return asyncio.all_tasks() - before


async def settle() -> None:
    for _ in range(5):  # cancelled helpers finish unwinding within a few loop turns
        await asyncio.sleep(0)


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Uploads spool into a directory of this test's own, so leftovers are visible."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(directory))
    return directory


# --- bodies over the limit ------------------------------------------------------------------


def multipart(size: int) -> tuple[bytes, bytes]:
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n'
    return b"multipart/form-data; boundary=b", head + b"x" * size + b"\r\n--b--\r\n"


OVERSIZED = {
    "typed-json": ("/json", b"application/json", b'{"a":"' + b"x" * (1 << 20) + b'"}'),
    "request-body": ("/body", b"application/octet-stream", b"x" * (1 << 20)),
    "request-stream": ("/stream-in", b"application/octet-stream", b"x" * (1 << 20)),
    "urlencoded-form": ("/form", b"application/x-www-form-urlencoded", b"name=" + b"x" * (1 << 20)),
    "multipart-upload": ("/upload", *multipart(1 << 20)),
}


@pytest.mark.parametrize("route", list(OVERSIZED))
@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
@pytest.mark.anyio
async def test_an_oversized_body_stops_at_the_limit(
    route: str, declared: bool, temp_dir: Path
) -> None:
    before_tasks = asyncio.all_tasks()
    path, content_type, body = OVERSIZED[route]
    headers = [(b"content-type", content_type)]
    if declared:
        headers.append((b"content-length", str(len(body)).encode()))
    chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]
    client = Client(chunks)
    await run("POST", path, headers, client)
    assert client.status == 413
    if declared:
        assert client.receive_calls == 0  # refused on the header, before a single byte
    else:
        # Reading stopped with the chunk that crossed the limit: nothing beyond was pulled in.
        assert client.receive_calls <= LIMIT // CHUNK + 2
        assert client.received_bytes <= LIMIT + CHUNK
    await settle()
    assert new_tasks(before_tasks) == set()
    assert hostile.temp_files() == []


# --- slow bodies ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_slow_body_is_read_whole_while_other_requests_are_served() -> None:
    before_tasks = asyncio.all_tasks()
    body = b'{"k": "' + b"v" * 2000 + b'"}'
    slow = Client([body[i : i + 100] for i in range(0, len(body), 100)], delay=0.01)
    slow_request = asyncio.ensure_future(run("POST", "/json", [], slow))
    fast_statuses = []
    for _ in range(5):  # served while the slow body is still trickling in
        fast = Client([b'{"a": 1}'])
        await run("POST", "/json", [(b"content-type", b"application/json")], fast)
        fast_statuses.append(fast.status)
    assert not slow_request.done()
    await slow_request
    assert fast_statuses == [200] * 5
    assert slow.status == 200
    assert slow.receive_calls == len(slow.chunks)  # every chunk read, in order, none lost
    await settle()
    assert new_tasks(before_tasks) == set()


@pytest.mark.anyio
async def test_a_slow_upload_spooled_to_disk_leaves_no_temp_file(temp_dir: Path) -> None:
    before_tasks = asyncio.all_tasks()
    content_type, body = multipart(3 * hostile.SPOOL)
    client = Client([body[i : i + 512] for i in range(0, len(body), 512)], delay=0.001)
    before = len(hostile.open_fds())
    await run("POST", "/upload", [(b"content-type", content_type)], client)
    assert client.status == 200
    assert b'"size":12288' in b"".join(m.get("body", b"") for m in client.sent)
    await settle()
    assert hostile.temp_files() == []  # closed (and so deleted) once the response is sent
    assert len(hostile.open_fds()) == before
    assert new_tasks(before_tasks) == set()


# --- clients that leave ---------------------------------------------------------------------

LEAVE_MID_REQUEST = {
    "typed-json": ("/json", b"application/json", b'{"a":"' + b"x" * 30_000 + b'"}'),
    "request-body": ("/body", b"application/octet-stream", b"x" * 30_000),
    "request-stream": ("/stream-in", b"application/octet-stream", b"x" * 30_000),
    "urlencoded-form": ("/form", b"application/x-www-form-urlencoded", b"name=" + b"x" * 30_000),
    "multipart-upload-on-disk": ("/upload", *multipart(30_000)),
}


@pytest.mark.parametrize("route", list(LEAVE_MID_REQUEST))
@pytest.mark.anyio
async def test_a_client_leaving_mid_request_leaves_nothing_behind(
    route: str, temp_dir: Path
) -> None:
    before_tasks = asyncio.all_tasks()
    path, content_type, body = LEAVE_MID_REQUEST[route]
    chunks = [body[i : i + 1024] for i in range(0, len(body), 1024)]
    probe = hostile.PROBE
    setups, teardowns, read = probe.setups, probe.teardowns, probe.bodies_read
    fds = len(hostile.open_fds())
    client = Client(chunks, leave_after=len(chunks) // 2)  # half the body, then gone
    await run("POST", path, [(b"content-type", content_type)], client)
    assert client.sent == []  # nobody is left to answer
    assert probe.bodies_read == read  # the handler never saw a partial body
    assert probe.setups - setups == probe.teardowns - teardowns  # every teardown ran
    await settle()
    assert new_tasks(before_tasks) == set()
    assert hostile.temp_files() == []  # the half-written upload is closed and gone
    assert len(hostile.open_fds()) == fds


@pytest.mark.parametrize("path", ["/stream-out", "/sse"])
@pytest.mark.anyio
async def test_a_client_leaving_mid_stream_stops_the_stream(path: str) -> None:
    before_tasks = asyncio.all_tasks()
    probe = hostile.PROBE
    started, closed = probe.streams_started, probe.streams_closed
    setups, teardowns = probe.setups, probe.teardowns
    client = Client([], leave_after_sent=20)  # the start and 19 chunks, then gone
    await run("GET", path, [], client)
    assert client.status == 200
    assert probe.streams_started - started == 1
    assert probe.streams_closed - closed == 1  # the generator's finally ran (aclose)
    assert probe.setups - setups == (1 if path == "/stream-out" else 0)
    assert probe.teardowns - teardowns == probe.setups - setups  # the dependency torn down
    await settle()
    assert new_tasks(before_tasks) == set()


# --- the same over a real server and raw sockets ------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """uvicorn serving the hostile-clients app on a free port (temp files in a private dir)."""
    from bench.infra import process
    from bench.infra.servers.base import free_port

    temp = tmp_path_factory.mktemp("server-tmp")
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "hostile_clients_app:app", "--app-dir",
        str(APP_FILE.parent), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "2",
    ]  # fmt: skip
    child = process.spawn(command, env=process.child_env({"TMPDIR": str(temp)}))
    try:
        deadline = time.monotonic() + 30
        while not http_ready_stats(port):
            assert child.poll() is None and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.stop(child)
        assert child.poll() is not None


def http_ready_stats(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/stats", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stats(address: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"http://{address}/stats", timeout=10).json()
    return data


def settled(address: str, baseline: dict[str, Any], **expected: int) -> dict[str, Any]:
    """Server stats once the server has noticed the hostile client left (bounded wait: the
    server learns of a closed socket asynchronously); the caller asserts on the result."""
    deadline = time.monotonic() + 15
    while True:
        current = stats(address)
        done = (
            current["tasks"] <= baseline["tasks"]
            and current["fds"] <= baseline["fds"]
            and not current["temp_files"]
            and all(current[key] - baseline[key] >= value for key, value in expected.items())
        )
        if done or time.monotonic() > deadline:
            return current
        time.sleep(0.05)


def connect(address: str) -> socket.socket:
    host, port = address.split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_response_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.slow
def test_over_the_wire_an_oversized_body_is_refused_before_it_is_sent(server: str) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /body HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: 10485760\r\n\r\n" + b"x" * CHUNK
        )
        head = read_response_head(sock)  # answered with 10 MB still unsent
    assert head.startswith(b"HTTP/1.1 413 ")


@pytest.mark.slow
def test_over_the_wire_a_chunked_body_over_the_limit_stops_at_the_limit(server: str) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /stream-in HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n"
        )
        piece = b"%x\r\n" % CHUNK + b"x" * CHUNK + b"\r\n"
        for _ in range(LIMIT // CHUNK + 2):  # just over the limit, never the terminating chunk
            sock.sendall(piece)
        head = read_response_head(sock)
    assert head.startswith(b"HTTP/1.1 413 ")


@pytest.mark.slow
def test_over_the_wire_a_trickling_body_is_answered(server: str) -> None:
    body = b'{"k": "' + b"v" * 300 + b'"}'
    with connect(server) as sock:
        sock.sendall(
            b"POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        )
        for index in range(0, len(body), 16):
            sock.sendall(body[index : index + 16])
            time.sleep(0.01)
        head = read_response_head(sock)
    assert head.startswith(b"HTTP/1.1 200 ")


@pytest.mark.slow
def test_over_the_wire_clients_that_leave_leave_nothing_behind(server: str) -> None:
    baseline = stats(server)
    content_type, body = multipart(40_000)
    # Mid-request: an upload already spooled to disk, then the socket closes.
    with connect(server) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: " + content_type + b"\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body[: len(body) // 2]
        )
        time.sleep(0.2)  # let the server read (and spool) what was sent before leaving
    # Mid-stream: an endless response and an endless event stream, read a little, then closed.
    for path in (b"/stream-out", b"/sse"):
        with connect(server) as sock:
            sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response_head(sock).startswith(b"HTTP/1.1 200 ")
            sock.recv(4096)
    after = settled(server, baseline, streams_closed=2)
    assert after["streams_started"] - baseline["streams_started"] == 2
    assert after["streams_closed"] - baseline["streams_closed"] == 2  # both generators closed
    assert after["bodies_read"] == baseline["bodies_read"]  # the partial upload never handled
    assert after["setups"] - baseline["setups"] == after["teardowns"] - baseline["teardowns"]
    assert after["temp_files"] == []
    assert after["tasks"] <= baseline["tasks"]
    assert after["fds"] <= baseline["fds"]
