"""A strict HTTP/1.1 client on a plain socket: bytes out, bytes in, nothing normalised.

Requests are written exactly as given (malformed ones included). Responses are parsed by the
letter of RFC 9112: the status line, field lines without obs-fold or whitespace before the
colon, and the message body framed by the rules of §6.3 (no content for HEAD/1xx/204/304,
chunked when Transfer-Encoding ends in chunked, else Content-Length, else until close). A
response that breaks those rules raises :class:`FramingError` with the offending bytes,
instead of being quietly repaired as a browser or httpx would.
"""

from __future__ import annotations

import re
import select
import socket
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
CRLF = b"\r\n"
_STATUS_LINE = re.compile(rb"^HTTP/(\d)\.(\d) (\d{3}) ([\t \x21-\x7e\x80-\xff]*)$")
_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_CHUNK_SIZE = re.compile(rb"^([0-9A-Fa-f]+)(;[^\r\n]*)?$")
MAX_LINE = 64 * 1024


class FramingError(Exception):
    """The peer sent bytes that are not a valid HTTP/1.1 response."""


class PeerClosed(Exception):
    """The connection ended before a complete response arrived."""

    def __init__(self, message: str, received: bytes) -> None:
        super().__init__(message)
        self.received = received


@dataclass
class Response:
    """One parsed response, with the exact bytes it was parsed from."""

    version: str
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    framing: str
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    interim: list[Response] = field(default_factory=list)
    raw: bytes = b""

    def header(self, name: str) -> bytes | None:
        """First value of a field, by case-insensitive name."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[bytes]:
        """Every value of a field, in order, by case-insensitive name."""
        wanted = name.lower().encode()
        return [value for key, value in self.headers if key.lower() == wanted]


def build_request(
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    *,
    version: str = "HTTP/1.1",
    host: str | None = "conformance.test",
    content_length: bool = True,
) -> bytes:
    """A well-formed request; ``headers`` go out verbatim, in order, after Host."""
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{name}: {value}" for name, value in headers or []]
    if body and content_length and not any(n.lower() == "content-length" for n, _ in headers or []):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One TCP connection to the server under test."""

    def __init__(
        self,
        port: int,
        *,
        host: str = HOST,
        timeout: float = 5.0,
        sock: socket.socket | None = None,
    ) -> None:
        if sock is None:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.timeout = timeout
        self.buffer = b""
        self.taken = bytearray()  # every byte parsed so far, for Response.raw
        self.eof = False

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self.sock.close()

    def send(self, data: bytes) -> None:
        """Write raw bytes."""
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        """Read more bytes into the buffer; False at EOF."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete response before the deadline")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    def _line(self, deadline: float) -> bytes:
        while CRLF not in self.buffer:
            if len(self.buffer) > MAX_LINE:
                raise FramingError(f"line longer than {MAX_LINE} bytes")
            if not self._fill(deadline):
                raise PeerClosed("connection closed mid-line", self.buffer)
        line, _, self.buffer = self.buffer.partition(CRLF)
        self.taken += line + CRLF
        return line

    def read_exact(self, size: int, deadline: float) -> bytes:
        """Exactly ``size`` bytes (PeerClosed if the connection ends first)."""
        while len(self.buffer) < size:
            if not self._fill(deadline):
                raise PeerClosed(
                    f"connection closed after {len(self.buffer)}/{size} bytes", self.buffer
                )
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        self.taken += data
        return data

    def read_response(self, method: str = "GET", timeout: float | None = None) -> Response:
        """Parse the next final response (interim 1xx responses are attached to it)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        interim: list[Response] = []
        while True:
            response = self._read_one(method, deadline)
            if 100 <= response.status < 200 and response.status != 101:
                interim.append(response)
                continue
            response.interim = interim
            return response

    def _read_one(self, method: str, deadline: float) -> Response:
        mark = len(self.taken)
        if not self.buffer and not self._fill(deadline):
            raise PeerClosed("connection closed before a response", b"")
        status_line = self._line(deadline)
        match = _STATUS_LINE.match(status_line)
        if match is None:
            raise FramingError(f"malformed status line {status_line!r}")
        version = f"{int(match[1])}.{int(match[2])}"
        status = int(match[3])
        headers = self._fields(deadline)
        body, framing, trailers = self._body(method, status, headers, deadline)
        raw = bytes(self.taken[mark:])
        return Response(version, status, match[4], headers, body, framing, trailers, raw=raw)

    def _fields(self, deadline: float) -> list[tuple[bytes, bytes]]:
        fields: list[tuple[bytes, bytes]] = []
        while True:
            line = self._line(deadline)
            if not line:
                return fields
            if line[:1] in (b" ", b"\t"):
                raise FramingError(f"obs-fold continuation line {line!r}")
            name, colon, value = line.partition(b":")
            if not colon or not _TOKEN.match(name):
                raise FramingError(f"malformed field line {line!r}")
            value = value.strip(b" \t")
            if b"\r" in value or b"\n" in value or b"\x00" in value:
                raise FramingError(f"CR/LF/NUL in field value {line!r}")
            fields.append((name, value))

    def _body(
        self, method: str, status: int, headers: list[tuple[bytes, bytes]], deadline: float
    ) -> tuple[bytes, str, list[tuple[bytes, bytes]]]:
        lengths = [v for k, v in headers if k.lower() == b"content-length"]
        codings = [v for k, v in headers if k.lower() == b"transfer-encoding"]
        if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
            if codings and (status < 200 or status == 204):
                raise FramingError(f"Transfer-Encoding on a {status} response")
            return b"", "none", []
        if codings:
            if lengths:
                raise FramingError("both Content-Length and Transfer-Encoding (RFC 9112 §6.1)")
            last = b",".join(codings).split(b",")[-1].strip().lower()
            if last != b"chunked":
                return self._until_close(deadline), "close", []
            if len(b",".join(codings).lower().split(b"chunked")) > 2:
                raise FramingError(f"chunked applied more than once: {codings!r}")
            return self._chunked(deadline)
        if lengths:
            values = {value.strip() for value in b",".join(lengths).split(b",")}
            if len(values) != 1 or not next(iter(values)).isdigit():
                raise FramingError(f"invalid Content-Length {lengths!r}")
            return self.read_exact(int(next(iter(values))), deadline), "content-length", []
        return self._until_close(deadline), "close", []

    def _chunked(self, deadline: float) -> tuple[bytes, str, list[tuple[bytes, bytes]]]:
        parts: list[bytes] = []
        while True:
            line = self._line(deadline)
            match = _CHUNK_SIZE.match(line)
            if match is None:
                raise FramingError(f"malformed chunk-size line {line!r}")
            size = int(match[1], 16)
            if size == 0:
                return b"".join(parts), "chunked", self._fields(deadline)
            parts.append(self.read_exact(size, deadline))
            if self.read_exact(2, deadline) != CRLF:
                raise FramingError("chunk data not followed by CRLF")

    def _until_close(self, deadline: float) -> bytes:
        while self._fill(deadline):
            pass
        data, self.buffer = self.buffer, b""
        self.taken += data
        return data

    def wait_closed(self, timeout: float = 2.0) -> bool:
        """True if the peer closes the connection (EOF) within ``timeout`` with no more bytes."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except TimeoutError:
            return False
        return True

    def read_available(self, timeout: float = 1.0) -> bytes:
        """Whatever arrives within ``timeout`` (until EOF or the timeout)."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except TimeoutError:
            pass
        data, self.buffer = self.buffer, b""
        return data


def exchange(port: int, raw: bytes, *, method: str = "GET", timeout: float = 5.0) -> Response:
    """Send ``raw`` on a fresh connection and parse one response."""
    with Connection(port, timeout=timeout) as conn:
        conn.send(raw)
        return conn.read_response(method)


def exchange_sending(
    port: int, raw: bytes, *, method: str = "GET", timeout: float = 8.0
) -> Response:
    """Like :func:`exchange`, for requests too large to send before the server answers.

    The request is written while reading, so a server that answers early (414, 431) and
    closes is heard, instead of the client failing on a broken pipe with the answer unread.
    """
    conn = Connection(port, timeout=timeout)
    try:
        conn.sock.setblocking(False)
        deadline = time.monotonic() + timeout
        view, sent, writable = memoryview(raw), 0, True
        while time.monotonic() < deadline and not conn.eof:
            wanted = [conn.sock] if writable and sent < len(raw) else []
            if not wanted and conn.buffer:
                break  # all sent (or no longer writable) and an answer has begun
            readable, ready, _ = select.select([conn.sock], wanted, [], 0.05)
            if readable:
                try:
                    data = conn.sock.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    data = b""
                conn.buffer += data
                conn.eof = not data
            if ready:
                try:
                    sent += conn.sock.send(view[sent : sent + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    writable = False
        conn.sock.setblocking(True)
        return conn.read_response(method, max(deadline - time.monotonic(), 0.1))
    finally:
        conn.close()
