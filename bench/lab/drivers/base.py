"""What a load driver is: (target, request pool, concurrency, duration) -> one raw sample.

A driver prepares its pool once per scenario (e.g. a Lua file for wrk), then each
measurement is a :class:`LoadJob`: a pinned child process the runner samples (CPU, RSS)
while it runs, and whose output :meth:`LoadJob.result` turns into a :class:`LoadResult`.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bench.infra import process
from bench.infra.results import Errors, Latency
from bench.lab.scenarios.base import Case, WsMessage


class DriverError(RuntimeError):
    """The driver could not measure (missing tool, crash, timeout, unreadable output)."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One measurement as the driver saw it. ``ok_requests`` got the expected response."""

    elapsed_s: float
    requests: int
    ok_requests: int
    bytes_read: int
    latency: Latency
    errors: Errors
    notes: tuple[str, ...] = ()

    @property
    def rps(self) -> float:
        """Correct responses per second: errors never count as throughput."""
        return self.ok_requests / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Pool:
    """A prepared request pool: the file the driver reads and what every response must be."""

    path: Path
    expect_status: int
    size: int


@dataclass
class LoadJob:
    """A running driver process; ``parse`` reads its output once it has exited."""

    command: list[str]
    process: subprocess.Popen[bytes]
    parse: Callable[[], LoadResult]
    timeout: float
    started: float = field(default_factory=time.monotonic)

    def wait(self) -> LoadResult:
        """Wait for the driver (killing its group on timeout) and parse its output."""
        try:
            code = self.process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            process.stop(self.process)
            raise DriverError(f"driver did not finish within {self.timeout:.0f}s") from None
        finally:
            process.stop(self.process, timeout=2.0)
        if code != 0:
            raise DriverError(f"{self.command[0]} exited with code {code}")
        return self.parse()


def latency_from_us(values: Mapping[str, Any]) -> Latency:
    """Latency percentiles reported in microseconds (wrk, the WebSocket client), in ms."""
    return Latency(**{key: float(values[key]) / 1000 for key in Latency.__struct_fields__})


def socket_errors(errors: Mapping[str, Any], *, status: int = 0, mismatch: int = 0) -> Errors:
    """Errors from a ``{"connect", "read", "write", "timeout"}`` mapping plus the given counts."""
    return Errors(
        status=status,
        mismatch=mismatch,
        connect=int(errors["connect"]),
        read=int(errors["read"]),
        write=int(errors["write"]),
        timeout=int(errors["timeout"]),
    )


def read_json_summary(path: Path, tool: str) -> Any:
    """The JSON a driver process wrote, or a DriverError saying which tool failed to write it."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DriverError(f"{tool} wrote no readable summary at {path}: {exc}") from None


class Driver(Protocol):
    """A load generator plugin."""

    name: str
    protocol: str
    generator_bound: bool
    """True when the driver cannot saturate a fast server from one core (Locust)."""

    def available(self) -> bool:
        """Whether the driver can run here."""
        ...

    def prepare(self, pool: Sequence[Case] | Sequence[WsMessage], expect: int, path: Path) -> Pool:
        """Write the request pool the driver cycles through."""
        ...

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
        """Start one measurement (pinned to ``cpus``); the caller waits on the job."""
        ...
