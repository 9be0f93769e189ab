"""The WebSocket load client: N connections echoing a message pool for D seconds.

Run as its own (pinned) process by :mod:`bench.lab.drivers.ws`::

    python -m bench.lab.drivers.ws_client URL POOL OUT --connections 64 --duration 5

Built on the ``websockets`` library (asyncio, uvloop when installed); closed loop per
connection: send one message, wait for its echo, compare it (same frame type, same bytes),
record the round trip. Per-message compression is off, as on every server. One Python
process saturates long before a fast server does: the lab measures this client's ceiling
(raw app on granian) and flags results that reach it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import websockets
from websockets.asyncio.client import ClientConnection

Message = str | bytes


def load_pool(path: Path) -> list[Message]:
    """Messages from the pool file: ``{"text": ...}`` or ``{"base64": ...}`` per entry."""
    entries = json.loads(path.read_text())
    return [e["text"] if "text" in e else base64.b64decode(e["base64"]) for e in entries]


def dump_pool(messages: Sequence[Message]) -> str:
    """The pool file's JSON for ``messages``."""
    return json.dumps(
        [
            {"text": m} if isinstance(m, str) else {"base64": base64.b64encode(m).decode()}
            for m in messages
        ]
    )


class Tally:
    """Counters shared by every connection of the client (one event loop: no locking)."""

    def __init__(self) -> None:
        self.latencies_ns: list[int] = []
        self.ok = 0
        self.mismatch = 0
        self.bytes = 0
        self.errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}


async def echo_loop(
    connection: ClientConnection,
    pool: Sequence[Message],
    offset: int,
    deadline: float,
    tally: Tally,
) -> None:
    index = offset
    while time.monotonic() < deadline:
        message = pool[index % len(pool)]
        index += 1
        started = time.perf_counter_ns()
        try:
            await connection.send(message)
        except websockets.ConnectionClosed:
            tally.errors["write"] += 1
            return
        try:
            reply = await asyncio.wait_for(connection.recv(), timeout=8.0)
        except TimeoutError:
            tally.errors["timeout"] += 1
            return
        except websockets.ConnectionClosed:
            tally.errors["read"] += 1
            return
        tally.latencies_ns.append(time.perf_counter_ns() - started)
        tally.bytes += len(reply)
        if type(reply) is type(message) and reply == message:
            tally.ok += 1
        else:
            tally.mismatch += 1


async def connect(url: str, tally: Tally) -> ClientConnection | None:
    try:
        return await websockets.connect(
            url, compression=None, max_size=None, ping_interval=None, open_timeout=10
        )
    except (OSError, TimeoutError, websockets.WebSocketException):
        tally.errors["connect"] += 1
        return None


async def run(
    url: str, pool: Sequence[Message], connections: int, duration: float
) -> dict[str, Any]:
    """Open every connection, echo for ``duration`` seconds, close, summarise."""
    tally = Tally()
    opened = await asyncio.gather(*(connect(url, tally) for _ in range(connections)))
    live = [c for c in opened if c is not None]
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(
        *(echo_loop(c, pool, i * 7919, deadline, tally) for i, c in enumerate(live))
    )
    elapsed = time.monotonic() - started
    await asyncio.gather(*(c.close() for c in live), return_exceptions=True)
    return summary(tally, elapsed)


def summary(tally: Tally, elapsed: float) -> dict[str, Any]:
    """The JSON the driver parses (latencies in microseconds)."""
    latencies = np.asarray(tally.latencies_ns or [0], dtype=np.float64) / 1000
    p50, p75, p90, p99, p999 = np.percentile(latencies, [50, 75, 90, 99, 99.9])
    return {
        "duration_us": int(elapsed * 1e6),
        "messages": len(tally.latencies_ns),
        "ok": tally.ok,
        "mismatch": tally.mismatch,
        "bytes": tally.bytes,
        "errors": tally.errors,
        "latency_us": {
            "p50": p50, "p75": p75, "p90": p90, "p99": p99, "p999": p999,
            "mean": float(latencies.mean()), "max": float(latencies.max()),
        },
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("pool", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(run(args.url, load_pool(args.pool), args.connections, args.duration))
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
