"""Fuzzing Velocix through its ASGI interface: profiles, the shared target and the count.

Profiles (hypothesis settings profiles, chosen with ``--hypothesis-profile``):

- none given (``nox -s tests``): hypothesis' default, 100 examples per test;
- ``velocix-ci`` (``.ci/run``): 500 examples per test, a few thousand requests, about a minute;
- ``velocix-fuzz`` (``nox -s fuzz``): 13,000 examples per test; with the variants each example
  also sends (the body cut differently, HEAD for GET), well over 100,000 requests.

The number of requests really sent through the app is counted by the driver (every example
sends at least one; some send several) and printed at the end of the session.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))  # the fuzz_* helper modules next to this file

from fuzz_app import STREAMING_PATHS, Probe, build_app
from fuzz_driver import COUNTER, Exchange, RawRequest, exchange, judge

_COMMON = {
    "deadline": None,  # the machine is shared and noisy: speed is not what is tested here
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("velocix-ci", max_examples=500, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("velocix-fuzz", max_examples=13_000, **_COMMON)  # type: ignore[arg-type]


def variants(request: RawRequest) -> list[tuple[str, RawRequest]]:
    """Requests that must get the same status as ``request``: the body cut differently into
    ``http.request`` messages, and HEAD for a GET."""
    found = []
    body = request.body
    if len(request.body_chunks) > 1:
        found.append(("body in one message", dataclasses.replace(request, body_chunks=(body,))))
    elif len(body) > 1:
        half = len(body) // 2
        split = (body[:half], b"", body[half:])
        found.append(("body split in halves", dataclasses.replace(request, body_chunks=split)))
    if request.method == "GET":
        found.append(("HEAD instead of GET", dataclasses.replace(request, method="HEAD")))
    return found


class FuzzTarget:
    """The fuzzed app on one event loop; :meth:`send` runs a request and returns problems."""

    def __init__(self, root: Path) -> None:
        self.probe = Probe()
        self.app = build_app(root / "static", self.probe)
        self.runner = asyncio.Runner()

    def close(self) -> None:
        self.runner.close()

    async def _exchange(self, request: RawRequest) -> tuple[Exchange, int]:
        result = await exchange(self.app, request)
        for _ in range(3):  # let cancelled helper tasks finish unwinding
            await asyncio.sleep(0)
        leftover = len(asyncio.all_tasks() - {asyncio.current_task()})
        return result, leftover

    def send(self, request: RawRequest) -> tuple[Exchange, list[str]]:
        """Run ``request``; the problems are the fuzz property's verdict (empty: fine)."""
        result, leftover = self.runner.run(self._exchange(request))
        problems = judge(result, streaming_paths=STREAMING_PATHS, leftover_tasks=leftover)
        if not self.probe.balanced():
            problems.append(
                f"generator dependencies: {self.probe.setups} set up, "
                f"{self.probe.teardowns} torn down"
            )
            self.probe.teardowns = self.probe.setups
        return result, problems

    def check(self, request: RawRequest, *, with_variants: bool = True) -> Exchange:
        """Run ``request`` (and its :func:`variants`); fail the test with a readable report if
        the property breaks or a variant gets another status."""
        result, problems = self.send(request)
        if problems:
            pytest.fail("\n".join([result.describe(), *problems]), pytrace=False)
        for label, variant in variants(request) if with_variants else ():
            other, problems = self.send(variant)
            if other.status != result.status and not _both_rejections(other, result):
                problems.append(f"{label}: status {other.status}, not {result.status}")
            if problems:
                report = [f"variant of {result.describe()}", other.describe(), *problems]
                pytest.fail("\n".join(report), pytrace=False)
        return result


def _both_rejections(one: Exchange, other: Exchange) -> bool:
    """A body over the limit may be refused as too large (413) or, when it streams in, for an
    earlier fault the parser meets first: either answer is right, whatever the chunking."""
    statuses = {one.status, other.status}
    return 413 in statuses and all(400 <= status < 500 for status in statuses)


@pytest.fixture(scope="session")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The one fuzzed application (built once: building it per example would dominate)."""
    target = FuzzTarget(tmp_path_factory.mktemp("fuzz"))
    yield target
    target.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many generated requests really went through the app."""
    if not COUNTER.requests:
        return
    elapsed = time.monotonic() - COUNTER.started
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(COUNTER.by_status.items()))
    profile = settings.get_current_profile_name()
    terminalreporter.write_sep("-", "velocix fuzz")
    terminalreporter.write_line(
        f"fuzz: {COUNTER.requests} generated requests sent through the app in {elapsed:.0f}s "
        f"(hypothesis profile {profile!r})"
    )
    terminalreporter.write_line(f"fuzz: responses by status: {statuses}")
