"""The machine-speed gauge: how fast this CPU runs a fixed piece of pure-Python work, now.

On a virtual machine the vCPU's speed changes from second to second for reasons the guest
cannot see (no steal time, thread CPU time equal to wall time), and interpreter-bound servers
follow it: two consecutive runs of the lab can differ by tens of percent with nothing wrong in
the lab. The gauge measures the machine so a reader can tell "the machine was slower" from
"the framework got slower". It does not correct anything: its work resembles a Python server's
but it is a poor proxy for servers written in Rust (granian), so figures are recorded, flagged
and shown beside the throughput, never divided by it.

The unit of work (:func:`unit`) is fixed and versioned: it builds an ASGI-like scope for a
request, routes it, turns its headers into a dict, formats a small JSON-like body and a
response head — dict, str and bytes operations, small allocations and function calls, no I/O.
Changing it in any way changes what a unit costs, so :data:`GAUGE_VERSION` must then be
bumped; readings of different versions are never compared (:func:`check_comparable`).

:func:`measure` pins the *calling thread* to the given CPUs (``os.sched_setaffinity(0, ...)``
affects only the calling thread on Linux), runs units for a while in short windows, restores
the previous affinity and returns a :class:`GaugeReading`: the median rate over the windows
and its spread.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec
import numpy as np

GAUGE_VERSION = 1
"""Bump whenever :func:`unit` (or anything it calls) changes: a unit must mean the same work."""

STEP_SECONDS = 0.2
"""Default seconds of gauge before each measured step (``Config.gauge_s``)."""
SLOW_SHARE = 0.10
"""A reading more than this fraction below the reference median is ``machine_slow``."""
MIN_REFERENCE = 2
"""Fewest earlier readings a slow verdict needs: a median of fewer says nothing."""

REQUESTS_PER_UNIT = 16
"""Simulated requests per unit: about 100 µs of work on a 2020s x86 core."""

_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"wrk/4.1.0"),
    (b"accept", b"application/json"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"x-request-id", b"3f2a9c0e-5b1d-4e8f-9a7c-2d6b1e0f4a93"),
)
_NAMES = ("widget", "gadget", "sprocket", "flange", "grommet", "bracket", "spindle")


class GaugeVersionError(ValueError):
    """Two readings of different gauge versions: their units are different work."""


class GaugeReading(msgspec.Struct, kw_only=True, frozen=True):
    """One gauge measurement: units of work per second on the gauged CPUs.

    ``units_per_s`` is the median of the per-window rates, ``p10``/``p90`` their 10th and
    90th percentiles, ``cv`` their coefficient of variation (sample stdev / mean; 0 with one
    window). ``cpu_share`` is the thread's CPU time over wall time: well below 1 means
    something else ran on the CPU (contention), near 1 with a low rate means the CPU itself
    was slow.
    """

    version: int
    seconds: float
    """Wall time the gauge actually ran."""
    units_per_s: float
    p10: float
    p90: float
    cv: float
    windows: int
    pinned: bool
    """False when the thread could not be pinned to ``cpus`` (it ran wherever it was allowed)."""
    cpus: list[int] = []
    cpu_share: float | None = None


@dataclass(frozen=True, slots=True)
class Samples:
    """The raw per-window rates of one gauge run (what :func:`reading` summarises)."""

    rates: tuple[float, ...]
    seconds: float
    pinned: bool
    cpus: tuple[int, ...]
    cpu_share: float


# -- the unit of work --------------------------------------------------------------------------


def _scope(index: int) -> dict[str, object]:
    # What a server builds per request: a fresh dict with a fresh header list.
    return {
        "type": "http",
        "method": "GET",
        "path": f"/items/{index * 7919 % 10_007}",
        "query_string": b"q=" + str(index).encode() + b"&limit=10",
        "headers": [(name, value) for name, value in _HEADERS],
    }


def _route(path: str) -> tuple[str, dict[str, str]]:
    _, collection, identifier = path.split("/")
    return collection, {"item_id": identifier}


def _query(raw: bytes) -> dict[str, str]:
    query: dict[str, str] = {}
    for part in raw.decode("latin-1").split("&"):
        key, _, value = part.partition("=")
        query[key] = value
    return query


def _body(collection: str, item_id: int, query: dict[str, str], agent: str) -> bytes:
    name = _NAMES[item_id % len(_NAMES)]
    fields = (
        f'"id":{item_id}',
        f'"name":"{name}"',
        f'"collection":"{collection}"',
        f'"limit":{int(query["limit"])}',
        f'"agent":"{agent}"',
    )
    return ("{" + ",".join(fields) + "}").encode()


def _handle(scope: dict[str, object]) -> bytes:
    path, raw_query, raw_headers = scope["path"], scope["query_string"], scope["headers"]
    assert isinstance(path, str) and isinstance(raw_query, bytes)
    assert isinstance(raw_headers, list)
    collection, params = _route(path)
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw_headers}
    body = _body(collection, int(params["item_id"]), _query(raw_query), headers["user-agent"])
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    return head + body


def unit() -> int:
    """One unit of gauge work; returns a checksum (the same every call: deterministic)."""
    total = 0
    for index in range(REQUESTS_PER_UNIT):
        total += len(_handle(_scope(index)))
    return total


# -- measuring ---------------------------------------------------------------------------------


def _pin(cpus: Sequence[int]) -> set[int] | None:
    """Pin the calling thread to ``cpus``; the previous affinity, or None when impossible."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return None
    try:
        previous = os.sched_getaffinity(0)
        if not set(cpus) <= previous:
            return None  # a CPU this process may not use: run unpinned rather than elsewhere
        os.sched_setaffinity(0, cpus)
    except (OSError, ValueError):
        return None
    return previous


def sample(
    cpus: Sequence[int],
    seconds: float,
    window: float = 0.05,
    work: Callable[[], object] = unit,
) -> Samples:
    """Run ``work`` for at least ``seconds`` pinned to ``cpus``; the rate of each window.

    The previous affinity of the calling thread is restored in ``finally``, also when
    ``work`` raises.
    """
    if not seconds > 0 or not window > 0:
        raise ValueError(f"seconds and window must be positive, got {seconds} and {window}")
    previous = _pin(cpus)
    try:
        rates: list[float] = []
        clock = time.perf_counter
        cpu_start, start = time.thread_time(), clock()
        window_start, count = start, 0
        while True:
            work()
            count += 1
            now = clock()
            if now - window_start >= window:
                rates.append(count / (now - window_start))
                window_start, count = now, 0
                if now - start >= seconds:
                    break
        elapsed = now - start
        share = (time.thread_time() - cpu_start) / elapsed
    finally:
        if previous is not None:
            os.sched_setaffinity(0, previous)
    return Samples(tuple(rates), elapsed, previous is not None, tuple(cpus), min(share, 1.0))


def reading(samples: Samples) -> GaugeReading:
    """Summarise per-window rates into a :class:`GaugeReading` of this gauge version."""
    rates = np.asarray(samples.rates, dtype=np.float64)
    if rates.size == 0:
        raise ValueError("a gauge reading needs at least one window")
    p10, median, p90 = (float(x) for x in np.percentile(rates, [10, 50, 90]))
    cv = statistics.stdev(samples.rates) / statistics.fmean(samples.rates) if rates.size > 1 else 0
    return GaugeReading(
        version=GAUGE_VERSION,
        seconds=round(samples.seconds, 3),
        units_per_s=round(median, 1),
        p10=round(p10, 1),
        p90=round(p90, 1),
        cv=round(cv, 4),
        windows=int(rates.size),
        pinned=samples.pinned,
        cpus=list(samples.cpus),
        cpu_share=round(samples.cpu_share, 3),
    )


def measure(
    cpus: Sequence[int],
    seconds: float,
    window: float = 0.05,
    work: Callable[[], object] = unit,
) -> GaugeReading:
    """Gauge the CPUs ``cpus`` for ``seconds`` (the calling thread is pinned meanwhile)."""
    return reading(sample(cpus, seconds, window, work))


# -- judging -----------------------------------------------------------------------------------


def check_comparable(a: int, b: int) -> None:
    """Raise :class:`GaugeVersionError` unless two gauge versions measure the same work."""
    if a != b:
        raise GaugeVersionError(
            f"gauge version {a} vs {b}: different units of work, speeds are not comparable"
        )


def speed_ratio(a: GaugeReading, b: GaugeReading) -> float:
    """How fast the machine was at ``a`` relative to ``b`` (``1.1``: 10% faster)."""
    check_comparable(a.version, b.version)
    return a.units_per_s / b.units_per_s


def slower_than(speed: float, reference: Sequence[float]) -> bool:
    """True when ``speed`` is more than :data:`SLOW_SHARE` below the median of ``reference``
    (never with fewer than :data:`MIN_REFERENCE` reference readings)."""
    if len(reference) < MIN_REFERENCE:
        return False
    return speed < (1 - SLOW_SHARE) * statistics.median(reference)
