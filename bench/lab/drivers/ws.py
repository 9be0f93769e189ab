"""WebSocket echo load: :mod:`bench.lab.drivers.ws_client` in its own pinned process."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.infra import process
from bench.lab.drivers.base import (
    DriverError,
    LoadJob,
    LoadResult,
    Pool,
    latency_from_us,
    read_json_summary,
    socket_errors,
)
from bench.lab.drivers.ws_client import dump_pool
from bench.lab.scenarios.base import Case, WsMessage


def parse_summary(data: Mapping[str, Any]) -> LoadResult:
    """Turn the client's JSON summary into a :class:`LoadResult` (one message = one request)."""
    try:
        elapsed = int(data["duration_us"]) / 1e6
        result = LoadResult(
            elapsed_s=elapsed,
            requests=int(data["messages"]),
            ok_requests=int(data["ok"]),
            bytes_read=int(data["bytes"]),
            latency=latency_from_us(data["latency_us"]),
            errors=socket_errors(data["errors"], mismatch=int(data["mismatch"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DriverError(f"unreadable WebSocket client summary ({exc!r})") from None
    if elapsed <= 0:
        raise DriverError(f"WebSocket client reported a duration of {elapsed}s")
    return result


def read_summary(path: Path) -> LoadResult:
    """Parse the summary file written by the WebSocket client."""
    return parse_summary(read_json_summary(path, "the WebSocket client"))


class WsDriver:
    """Multi-connection WebSocket echo client (``websockets`` + uvloop, one process)."""

    name = "ws-client"
    protocol = "ws"
    generator_bound = False

    def available(self) -> bool:
        return True

    def prepare(self, pool: Sequence[Case] | Sequence[WsMessage], expect: int, path: Path) -> Pool:
        messages = [m.data for m in pool if isinstance(m, WsMessage)]
        if len(messages) != len(pool) or not messages:
            raise DriverError("the WebSocket driver needs a non-empty pool of messages")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_pool(messages))
        return Pool(path=path, expect_status=expect, size=len(messages))

    def start(
        self,
        url: str,
        pool: Pool,
        *,
        concurrency: int,
        duration: int,
        cpus: Sequence[int],
        workdir: Path,
    ) -> LoadJob:
        """``url`` is the endpoint's full http:// URL (path included); ws:// is derived."""
        out = workdir / f"ws-{uuid.uuid4().hex}.json"
        ws_url = url.replace("http://", "ws://", 1)
        command = [
            *process.pin_prefix(cpus),
            sys.executable, "-m", "bench.lab.drivers.ws_client", ws_url, str(pool.path), str(out),
            "--connections", str(concurrency), "--duration", str(duration),
        ]  # fmt: skip
        job = process.spawn(command, log=workdir / "ws-client.log", env=process.child_env())
        return LoadJob(command, job, lambda: read_summary(out), timeout=duration + 60.0)
