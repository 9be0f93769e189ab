"""The micro benchmark, one pytest-benchmark test per (case, framework).

Run through ``python -m bench.micro``; not part of the test suite (``tests/bench/micro`` tests
the machinery). Each test checks the first response in full, calibrates how many calls make a
round of about ``VELOCIX_MICRO_ROUND_SECONDS``, then times ``VELOCIX_MICRO_ROUNDS`` rounds of
checked calls on one reused event loop.

Paired baselines: before each round of a framework, the test also times one round of the raw
ASGI baseline and one of the minimal baseline (:mod:`bench.micro.minimal`, for the cases it
serves) in pytest-benchmark's untimed ``setup``, so each framework round has baseline rounds
measured a few milliseconds earlier on the same loop. ``extra_info["paired_ratios"]`` (raw) and
``["paired_ratios_minimal"]`` hold the per-round ratios; they are what the table reports,
because a slow moment of a shared machine slows all rounds of a pair alike.
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

from bench.micro import apps
from bench.micro.apps import BASELINE, MINIMAL
from bench.micro.cases import CASES, MicroCase
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


CELLS = [
    pytest.param(case, framework, id=f"{case.name}-{framework}")
    for case in CASES
    for framework in apps.names()
    if apps.serves(framework, case)  # a case a framework cannot serve is n/a in the table
]


@pytest.mark.parametrize(("case", "framework"), CELLS)
def test_micro(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    lifespans: Lifespans,
    case: MicroCase,
    framework: str,
) -> None:
    try:
        app = apps.load(framework, case)
    except ImportError as exc:  # a competitor not installed: reported, the rest go on
        pytest.skip(f"{framework} not available: {exc}")
    if apps.needs_lifespan(framework):
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
    names = [BASELINE]
    if framework != MINIMAL and apps.serves(MINIMAL, case):
        names.append(MINIMAL)
    baselines = [PairedBaseline(name, case, loop) for name in names]

    def baseline_round() -> tuple[tuple[int], dict[str, Any]]:
        for baseline in baselines:
            baseline.time_round()
        return (count,), {}

    benchmark.pedantic(
        server.run_batch, setup=baseline_round, rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS
    )
    rounds = benchmark.stats.stats.data  # the framework's timed rounds, in order
    for baseline in baselines:
        ratios = baseline.ratios(rounds, count)
        suffix = "" if baseline.name == BASELINE else "_minimal"
        benchmark.extra_info[f"paired_ratios{suffix}"] = ratios
        benchmark.extra_info[f"paired_ratio{suffix}"] = (
            statistics.median(ratios) if ratios else None
        )


class PairedBaseline:
    """A baseline app timed one round before each round of the framework under test."""

    def __init__(self, name: str, case: MicroCase, loop: asyncio.AbstractEventLoop) -> None:
        self.name = name
        self.server = MicroServer(apps.load(name, case), case, loop)
        self.server.prime()
        self.count = calls_per_round(self.server, ROUND_SECONDS)
        self.per_call: list[float] = []

    def time_round(self) -> None:
        started = TIMER()
        self.server.run_batch(self.count)
        self.per_call.append((TIMER() - started) / self.count)

    def ratios(self, rounds: list[float], count: int) -> list[float]:
        """The framework's per-call time over this baseline's, round by round."""
        pairs = zip(rounds, self.per_call[-len(rounds) :], strict=True)
        return [duration / count / base for duration, base in pairs if base > 0]
