"""The micro benchmark, one pytest-benchmark test per (case, framework).

Run through ``python -m bench.micro``; not part of the test suite (``tests/bench/micro`` tests
the machinery). Each test checks the first response in full, calibrates how many calls make a
round of about ``VELOCIX_MICRO_ROUND_SECONDS``, then times ``VELOCIX_MICRO_ROUNDS`` rounds of
checked calls on one reused event loop.

Paired baseline: before each round of a framework, the test also times one round of the raw
ASGI baseline (in pytest-benchmark's untimed ``setup``), so each framework round has a raw round
measured a few milliseconds earlier on the same loop. ``extra_info["paired_ratios"]`` holds the
per-round ratios; they are what the table reports, because a slow moment of a shared machine
slows both rounds of a pair alike.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench import frameworks
from bench.frameworks import BASELINE
from bench.micro.cases import CASES, MicroCase, case_ids
from bench.micro.driver import Lifespans, MicroServer

ROUNDS = int(os.environ.get("VELOCIX_MICRO_ROUNDS", "15"))
ROUND_SECONDS = float(os.environ.get("VELOCIX_MICRO_ROUND_SECONDS", "0.02"))
WARMUP_ROUNDS = 2
TIMERS: dict[str, Callable[[], float]] = {
    "time.process_time": time.process_time,
    "time.perf_counter": time.perf_counter,
}
# The same clock pytest-benchmark uses for the framework's rounds (``--benchmark-timer``).
TIMER = TIMERS[os.environ.get("VELOCIX_MICRO_TIMER", "time.perf_counter")]


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for the whole run."""
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


@pytest.fixture(scope="module")
def lifespans(loop: asyncio.AbstractEventLoop) -> Iterator[Lifespans]:
    """The lifespans of the apps that need one, each started once on the run's loop."""
    started = Lifespans(loop)
    yield started
    started.close()


def calls_per_round(server: MicroServer, seconds: float) -> int:
    """How many calls take about ``seconds`` (at least 20, at most 100,000)."""
    probe = 20
    started = time.perf_counter()
    server.run_batch(probe)
    per_call = max((time.perf_counter() - started) / probe, 1e-9)
    return max(probe, min(100_000, math.ceil(seconds / per_call)))


@pytest.mark.parametrize("framework", frameworks.names())
@pytest.mark.parametrize("case", CASES, ids=case_ids())
def test_micro(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    lifespans: Lifespans,
    case: MicroCase,
    framework: str,
) -> None:
    reason = frameworks.get(framework).not_applicable(case.requires)
    if reason is not None:  # shown as "n/a" in the table, with the spec's reason
        pytest.skip(f"not applicable: {reason}")
    try:
        app = frameworks.load(framework, case.target)
    except ImportError as exc:  # a competitor not installed: reported, the rest go on
        pytest.skip(f"{framework} not available: {exc}")
    if frameworks.get(framework).needs_lifespan:
        lifespans.start(app)
    server = MicroServer(app, case, loop)
    server.prime()
    count = calls_per_round(server, ROUND_SECONDS)
    benchmark.group = case.name
    benchmark.extra_info.update(
        {"case": case.name, "framework": framework, "calls_per_round": count}
    )
    if framework == BASELINE:
        benchmark.pedantic(
            server.run_batch, args=(count,), rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS
        )
        return
    baseline = MicroServer(frameworks.load(BASELINE, case.target), case, loop)
    baseline.prime()
    baseline_count = calls_per_round(baseline, ROUND_SECONDS)
    baseline_per_call: list[float] = []

    def baseline_round() -> tuple[tuple[int], dict[str, Any]]:
        started = TIMER()
        baseline.run_batch(baseline_count)
        baseline_per_call.append((TIMER() - started) / baseline_count)
        return (count,), {}

    benchmark.pedantic(
        server.run_batch, setup=baseline_round, rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS
    )
    rounds = benchmark.stats.stats.data  # the framework's timed rounds, in order
    pairs = zip(rounds, baseline_per_call[-len(rounds) :], strict=True)
    ratios = [duration / count / base for duration, base in pairs if base > 0]
    benchmark.extra_info["paired_ratios"] = ratios
    benchmark.extra_info["paired_ratio"] = statistics.median(ratios) if ratios else None
