"""The journeys against a deliberately wrong app over a real server: a wrong answer is a
counted failure with its reason, a right one is not; the runner's gate refuses the app."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from bench.flows import cases, topology
from bench.flows.locust_csv import LocustOutput, read_output
from bench.flows.runner import precheck
from bench.infra import process
from bench.infra.db import SQLITE_ENV, create_world
from bench.infra.servers import registry
from bench.infra.servers.base import RunningServer
from bench.lab.scenarios.base import Context

pytestmark = pytest.mark.slow

SEED = 5
WRONG_APP = "tests.bench.flows.wrong_app:app"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wrong-app")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[RunningServer]:
    world = workdir / "world.sqlite3"
    create_world(world, seed=SEED)
    running = RunningServer(
        registry()["uvicorn"], WRONG_APP, cpus=[], env={SQLITE_ENV: str(world)},
        log=workdir / "server.log",
    )  # fmt: skip
    running.start(30.0)
    try:
        yield running
    finally:
        running.stop()
    assert leftovers(str(workdir)) == []


def leftovers(marker: str) -> list[str]:
    """Live processes mentioning ``marker`` (the test's directory) in their command line or
    environment: Locust's processes name it in ``--csv``, servers in ``BENCH_SQLITE``."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if proc.pid == psutil.Process().pid:
            continue
        try:
            environment = " ".join(proc.environ().values())
        except psutil.Error:
            environment = ""
        cmdline = " ".join(proc.info["cmdline"] or [])
        if marker in cmdline or marker in environment:
            found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def output(server: RunningServer, workdir: Path) -> LocustOutput:
    """Four seconds of the journeys, one local Locust process, almost no think time."""
    prefix = workdir / "journeys"
    command = [
        *topology.locust(sys.executable), "-f", str(topology.JOURNEYS), "--headless",
        "--host", server.url, "--users", "10", "--spawn-rate", "10", "--run-time", "4s",
        "--stop-timeout", "2", "--csv", str(prefix), "--only-summary",
        "--exit-code-on-error", "0", "--world-seed", str(SEED),
        "--think-min", "0", "--think-max", "0.05",
    ]  # fmt: skip
    locust = process.spawn(command, log=workdir / "locust.log", env=process.child_env())
    try:
        assert locust.wait(timeout=60) == 0, process.tail(workdir / "locust.log")
    except subprocess.TimeoutExpired:
        pytest.fail("Locust overran its run time")
    finally:
        process.stop(locust)
    assert leftovers(str(prefix)) == []
    return read_output(prefix)


def entry(output: LocustOutput, name: str) -> tuple[int, int]:
    (row,) = [row for row in output.entries if row.name == name]
    assert row.requests > 0, name
    return row.requests, row.failures


@pytest.mark.parametrize(
    "name", [cases.READ_ROW, cases.BROWSE, cases.CREATE_ITEM, cases.WS_MESSAGE]
)
def test_every_wrong_answer_is_a_failure(output: LocustOutput, name: str) -> None:
    requests, failures = entry(output, name)
    assert failures == requests


def test_right_answers_are_not_failures(output: LocustOutput) -> None:
    assert entry(output, cases.READ_USER)[1] == 0
    assert entry(output, cases.WS_CONNECT)[1] == 0


def test_only_correct_answers_are_ok_and_reasons_are_kept(output: LocustOutput) -> None:
    aggregate = output.aggregated
    assert (
        aggregate.ok_requests
        == entry(output, cases.READ_USER)[0] + entry(output, cases.WS_CONNECT)[0]
    )
    errors = " | ".join(failure.error for failure in output.failures)
    assert "$.randomNumber: N != expected N" in errors  # the db row's value, not "failed"
    assert "$: N items != expected N" in errors  # the listing one record short
    assert "status 503" in errors
    assert "frame" in errors  # text echoed as binary
    assert output.exceptions == ()  # failures, not crashes of the locustfile
    # Per-request values are masked: one failure entry per kind of wrong answer, not per row.
    assert len(output.failures) <= 6


def test_the_gate_refuses_the_wrong_app_before_any_load(server: RunningServer) -> None:
    problems = " | ".join(precheck(server.url, Context(create_world_rows()), SEED))
    assert "/db/" in problems and "/records" in problems and "/items" in problems
    assert "frame" in problems


def create_world_rows() -> dict[int, int]:
    return dict(cases.context(SEED).world)
