"""The micro benchmark, one pytest-benchmark test per (case, framework).

Run through ``python -m bench.micro``; not part of the test suite (``tests/bench/micro`` tests
the machinery). Each test checks the first response in full, calibrates how many calls make a
round of about ``VELOCIX_MICRO_ROUND_SECONDS``, then times ``VELOCIX_MICRO_ROUNDS`` rounds of
checked calls on one reused event loop.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.micro.cases import CASES, MicroCase, case_ids
from bench.micro.driver import MicroServer
from bench.micro.frameworks import FRAMEWORKS, load_app

ROUNDS = int(os.environ.get("VELOCIX_MICRO_ROUNDS", "15"))
ROUND_SECONDS = float(os.environ.get("VELOCIX_MICRO_ROUND_SECONDS", "0.02"))


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for the whole run."""
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


def calls_per_round(server: MicroServer, seconds: float) -> int:
    """How many calls take about ``seconds`` (at least 20, at most 100,000)."""
    probe = 20
    started = time.perf_counter()
    server.run_batch(probe)
    per_call = max((time.perf_counter() - started) / probe, 1e-9)
    return max(probe, min(100_000, math.ceil(seconds / per_call)))


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
@pytest.mark.parametrize("case", CASES, ids=case_ids())
def test_micro(
    benchmark: Any, loop: asyncio.AbstractEventLoop, case: MicroCase, framework: str
) -> None:
    try:
        app = load_app(framework, case.target, case.module)
    except ImportError as exc:  # a competitor not installed: reported, the rest go on
        pytest.skip(f"{framework} not available: {exc}")
    server = MicroServer(app, case, loop)
    server.prime()
    count = calls_per_round(server, ROUND_SECONDS)
    benchmark.group = case.name
    benchmark.extra_info.update(
        {"case": case.name, "framework": framework, "calls_per_round": count}
    )
    benchmark.pedantic(server.run_batch, args=(count,), rounds=ROUNDS, warmup_rounds=2)
