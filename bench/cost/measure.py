"""Measure one cell: warm up, zero the counters, send the requests, dump, count.

On a running :class:`~bench.cost.server.CallgrindServer`: ``warmup`` requests, then
``callgrind_control -z`` for every server process, then ``requests`` requests — one after
another over ONE keep-alive connection, each from the scenario's seeded request pool and
each checked exactly (:func:`bench.lab.scenarios.base.check`, as the lab's correctness gate does)
— then ``callgrind_control --dump`` for every process and the dumps' ``totals:`` summed. A
wrong answer fails the cell with its reason, never a figure.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.cost import callgrind
from bench.cost.records import ProcessCost, per_request
from bench.cost.server import CallgrindServer
from bench.lab.probe import fetch
from bench.lab.scenarios.base import Case, Context, HttpScenario, check, pool_rng

CLIENT_TIMEOUT_S = 60.0
"""Per request: a first request of a route under valgrind translates a lot of new code."""


class WrongAnswer(RuntimeError):
    """A response differed from the expected one; the message says which and how."""


@dataclass(frozen=True, slots=True)
class Counted:
    """What one cell measured."""

    instructions: int
    ir_per_request: float
    processes: list[ProcessCost]
    elapsed_s: float
    control_commands: list[list[str]]


def request_pool(scenario: HttpScenario, context: Context, seed: int, size: int) -> list[Case]:
    """The scenario's load pool, generated exactly as the lab's runner does for this seed."""
    return scenario.pool(pool_rng(seed, scenario.name), context, size)


def client(base_url: str) -> httpx.Client:
    """An HTTP client holding one keep-alive connection (requests go one after another)."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=None)
    return httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT_S, limits=limits)


def send(http: httpx.Client, cases: Sequence[Case], count: int, start: int) -> None:
    """Send ``count`` requests, cycling ``cases`` from index ``start``; raise
    :class:`WrongAnswer` at the first response that is not the expected one."""
    for number in range(count):
        case = cases[(start + number) % len(cases)]
        request = case.request
        try:
            reason = check(case, fetch(http, request))
        except httpx.HTTPError as exc:
            reason = f"request failed: {exc!r}"
        if reason:
            raise WrongAnswer(f"request {number + 1} {request.method} {request.path}: {reason}")


def measure(
    server: CallgrindServer,
    cases: Sequence[Case],
    *,
    requests: int,
    warmup: int,
    keep: Path,
    run_dir: Path,
) -> Counted:
    """Count the instructions ``server`` spends on ``requests`` requests after ``warmup``.

    The measured dumps are moved to ``keep`` (recorded relative to ``run_dir``).
    """
    if requests < 1:
        raise ValueError(f"requests must be positive, got {requests}")
    with client(server.url) as http:
        send(http, cases, warmup, 0)
        processes = server.counted()
        pids = sorted(processes)
        commands = callgrind.control(server.scratch, "-z", pids)
        started = time.monotonic()
        send(http, cases, requests, warmup)
        elapsed = time.monotonic() - started
        dumps, dumped = callgrind.dump(server.scratch, pids)
    keep.mkdir(parents=True, exist_ok=True)
    counted = []
    for pid in pids:
        target = keep / f"cg.{pid}.out"
        shutil.move(dumps[pid], target)
        counted.append(
            ProcessCost(
                pid=pid,
                command=processes[pid],
                instructions=callgrind.read_totals(target),
                dump=str(target.relative_to(run_dir)),
            )
        )
    total, each = per_request(counted, requests)
    return Counted(total, each, counted, elapsed, [*commands, *dumped])
