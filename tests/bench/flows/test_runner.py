"""End to end on loopback: a real server, Locust's ceiling, then one master and two worker
processes connected over TCP; the stored records, the topology, and no process left."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from bench.flows import cases, cli
from bench.flows.locust_csv import AGGREGATED
from bench.flows.report import section_html
from bench.flows.runner import Loadtest, Options, Outcome, find_ceiling
from bench.infra import process
from bench.infra.db import SQLITE_ENV, create_world
from bench.infra.results import Record, iter_records, read_info
from bench.infra.servers import registry
from bench.infra.servers.base import RunningServer

pytestmark = pytest.mark.slow


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
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    reports = tmp_path_factory.mktemp("reports")
    server_cpus, generator_cpus = cli.default_cpus()
    options = Options(
        app="raw", server="granian", users=10, spawn_rate=10.0, run_time_s=5.0, workers=2,
        think_min_s=0.05, think_max_s=0.2, server_cpus=tuple(server_cpus),
        generator_cpus=tuple(generator_cpus), seed=21, reports=reports,
        ceiling="measure", ceiling_time_s=3.0, ceiling_users=8,
    )  # fmt: skip
    result = Loadtest(options, ["test"], lambda line: None).run()
    assert leftovers(str(result.store.directory)) == []
    return result


def stored(outcome: Outcome) -> list[Record]:
    return list(iter_records(outcome.store.results_path))


def flow(outcome: Outcome, name: str) -> Record:
    (record,) = [
        r for r in stored(outcome) if r.phase == "run" and r.locust and r.locust.name == name
    ]
    return record


def test_the_run_completes_and_stores_what_it_printed(outcome: Outcome) -> None:
    assert outcome.status == "complete"
    assert stored(outcome) == outcome.records
    info = read_info(outcome.store.directory)
    assert info.status == "complete" and info.finished_at
    assert info.config.driver == "locust" and info.config.profile == "loadtest"
    assert "locust master flows-granian-raw" in info.commands
    assert {key for key in info.commands if key.startswith("locust worker")} >= {
        "locust worker0 flows-granian-raw",
        "locust worker1 flows-granian-raw",
    }


def test_workers_really_connected_to_the_master_over_tcp(outcome: Outcome) -> None:
    logs = outcome.store.directory / "locust"
    master = (logs / "flows-granian-raw-master.log").read_text()
    assert "2 workers connected" in master
    for index in (0, 1):
        worker = (logs / f"flows-granian-raw-worker{index}.log").read_text()
        assert "Got quit message from master" in worker


def test_one_record_per_request_name_with_exact_checks_passing(outcome: Outcome) -> None:
    names = {r.locust.name for r in stored(outcome) if r.phase == "run" and r.locust}
    assert names >= {cases.BROWSE, cases.READ_ROW, cases.READ_USER, cases.CREATE_ITEM, AGGREGATED}
    aggregate = flow(outcome, AGGREGATED)
    assert aggregate.kind == "measurement" and aggregate.source == "locust"
    assert aggregate.requests and aggregate.ok_requests == aggregate.requests  # raw is correct
    assert aggregate.rps and aggregate.rps > 0
    assert aggregate.latency is not None and aggregate.latency.p50 <= aggregate.latency.p99
    assert aggregate.locust is not None and aggregate.locust.failures == 0


def test_the_topology_is_recorded(outcome: Outcome) -> None:
    stats = flow(outcome, AGGREGATED).locust
    assert stats is not None
    topology = stats.topology
    assert (topology.workers, topology.users, topology.run_time_s) == (2, 10, 5.0)
    assert topology.master_host == "127.0.0.1" and topology.master_port > 0
    assert len(topology.worker_cpus) == 2
    assert topology.locustfile == "bench/flows/journeys.py"
    assert topology.locust_version == "2.47.0"
    assert any(name.startswith("CatalogUser=") for name in topology.user_classes)
    assert "--worker" in topology.worker_command
    assert len(stats.worker_cpu_mean) == 2


def test_rps_over_time_is_stored(outcome: Outcome) -> None:
    stats = flow(outcome, AGGREGATED).locust
    assert stats is not None and len(stats.history) >= 3
    assert max(point.rps for point in stats.history) > 0
    assert any(point.p95 is not None for point in stats.history)


def test_the_ceiling_is_measured_and_stated_next_to_the_result(outcome: Outcome) -> None:
    (calibration,) = [r for r in stored(outcome) if r.phase == "calibration"]
    assert calibration.scenario == "locust_ceiling" and calibration.app == "raw"
    assert calibration.locust is not None and calibration.locust.topology.workers == 1
    assert calibration.locust.failures == 0
    ceiling = calibration.locust.rps_per_worker
    assert ceiling > 0
    assert outcome.ceiling is not None and outcome.ceiling.rps_per_worker == ceiling
    for record in stored(outcome):
        if record.phase == "run":
            assert record.locust is not None
            assert record.locust.ceiling_rps_per_worker == ceiling
            assert "of Locust's ceiling" in (record.reason or "")


def test_a_later_run_can_reuse_the_stored_ceiling(outcome: Outcome) -> None:
    env = stored(outcome)[0].env
    found = find_ceiling(outcome.store.directory.parent.parent, env)
    assert found is not None and found == outcome.ceiling
    assert find_ceiling(Path("/nonexistent"), env) is None


def test_the_report_section_renders_the_stored_run(outcome: Outcome) -> None:
    html = section_html(stored(outcome))
    assert html is not None
    assert html.count("<svg") == 2  # the ceiling's and the journeys' time series
    assert "of Locust&#39;s ceiling of" in html


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Outcome, str]]:
    """A run whose master waits for one worker started by hand (as on another host) and
    loads a server it did not start (``--target``); yields the outcome and the command."""
    reports = tmp_path_factory.mktemp("remote")
    world = reports / "world.sqlite3"
    create_world(world, seed=33)
    server = RunningServer(
        registry()["uvicorn"], "bench.frameworks.raw.app:app", cpus=[],
        env={SQLITE_ENV: str(world)},
        log=reports / "target.log",
    )  # fmt: skip
    started: list[subprocess.Popen[bytes]] = []
    printed: list[str] = []

    def say(line: str) -> None:
        if "--worker" in line:  # the command to run on the other host
            command = line.splitlines()[-1].strip().replace("<this host's address>", "127.0.0.1")
            printed.append(command)
            argv = [sys.executable, *shlex.split(command)[1:]]
            started.append(process.spawn(argv, log=reports / "remote-worker.log",
                                         env=process.child_env()))  # fmt: skip

    server_cpus, generator_cpus = cli.default_cpus()
    options = Options(
        app="raw", server="uvicorn", users=4, spawn_rate=4.0, run_time_s=4.0, workers=1,
        think_min_s=0.05, think_max_s=0.2, server_cpus=tuple(server_cpus),
        generator_cpus=tuple(generator_cpus), seed=33, reports=reports, ceiling="off",
        target=server.url, remote_workers=1, wait_workers_s=30.0,
    )  # fmt: skip
    server.start(30.0)
    try:
        outcome = Loadtest(options, ["test"], say).run()
        yield outcome, printed[0] if printed else ""
    finally:
        for child in started:
            process.stop(child)
        server.stop()
    assert leftovers(str(reports)) == []


def test_a_worker_started_elsewhere_joins_the_master(remote: tuple[Outcome, str]) -> None:
    outcome, command = remote
    assert command.startswith("python -m locust -f bench/flows/journeys.py --worker")
    assert outcome.status == "complete"
    (aggregate,) = [r for r in outcome.records if r.locust and r.locust.name == AGGREGATED]
    assert aggregate.locust is not None
    topo = aggregate.locust.topology
    assert (topo.workers, topo.remote_workers, len(topo.worker_cpus)) == (2, 1, 1)
    assert aggregate.server_command == []  # the target was not started by the run
    assert aggregate.locust.failures == 0 and aggregate.requests
    master = (outcome.store.directory / "locust" / "flows-uvicorn-raw-master.log").read_text()
    assert "2 workers connected" in master
