"""Raw-socket WebSocket pieces for what a client library refuses to do: invalid handshakes
and deliberately malformed frames (RFC 6455). The happy paths use the ``websockets`` client.
"""

from __future__ import annotations

import base64
import os
import struct
import time
from dataclasses import dataclass

from conformance.wire import http1

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def handshake_request(
    path: str,
    *,
    version: str = "13",
    headers: list[tuple[str, str]] | None = None,
    key: str | None = None,
) -> bytes:
    """An upgrade request (valid unless ``version``/``headers`` make it otherwise)."""
    fields = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key or base64.b64encode(os.urandom(16)).decode()),
        ("Sec-WebSocket-Version", version),
        *(headers or []),
    ]
    return http1.build_request("GET", path, fields)


def frame(
    opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bool = True, rsv: int = 0
) -> bytes:
    """One frame; ``mask=False`` or ``rsv`` bits make it invalid from a client."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first, (0x80 if mask else 0) | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, (0x80 if mask else 0) | 126, length)
    else:
        header = struct.pack("!BBQ", first, (0x80 if mask else 0) | 127, length)
    if not mask:
        return header + payload
    key = os.urandom(4)
    masked = bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))
    return header + key + masked


def close_payload(code: int | None, reason: str = "") -> bytes:
    """The payload of a close frame (empty when ``code`` is None)."""
    return b"" if code is None else struct.pack("!H", code) + reason.encode()


@dataclass
class Frame:
    """A frame read from the server."""

    opcode: int
    payload: bytes
    fin: bool

    @property
    def close_code(self) -> int | None:
        """The status code of a close frame."""
        if self.opcode != OP_CLOSE or len(self.payload) < 2:
            return None
        code: int = struct.unpack("!H", self.payload[:2])[0]
        return code


def read_frame(conn: http1.Connection, timeout: float = 3.0) -> Frame | None:
    """The next server frame, or None if the connection ended first."""
    deadline = time.monotonic() + timeout
    try:
        head = conn.read_exact(2, deadline)
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", conn.read_exact(2, deadline))[0]
        elif length == 127:
            length = struct.unpack("!Q", conn.read_exact(8, deadline))[0]
        if head[1] & 0x80:  # servers must not mask; read the key anyway to stay in sync
            conn.read_exact(4, deadline)
        payload = conn.read_exact(length, deadline)
    except (http1.PeerClosed, TimeoutError, OSError):
        return None
    return Frame(head[0] & 0x0F, payload, bool(head[0] & 0x80))


def open_raw(port: int, path: str, timeout: float = 5.0) -> tuple[http1.Connection, http1.Response]:
    """A raw connection after a valid handshake (the caller closes it)."""
    conn = http1.Connection(port, timeout=timeout)
    conn.send(handshake_request(path))
    response = conn.read_response("GET")
    return conn, response
