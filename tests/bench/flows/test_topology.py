"""Master and worker command lines, CPU assignment, and the spawned users in the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.flows import topology
from bench.flows.topology import Plan


def plan(workers: int = 2, generator: tuple[int, ...] = (1,)) -> Plan:
    master_cpus, worker_cpus = topology.assign_cpus(generator, workers)
    return Plan(
        locustfile=topology.JOURNEYS,
        host="http://127.0.0.1:8000",
        users=20,
        spawn_rate=5.0,
        run_time_s=20.0,
        workers=workers,
        master_port=5557,
        master_cpus=master_cpus,
        worker_cpus=worker_cpus,
        csv_prefix=Path("/tmp/run/locust/flows"),
        extra=("--world-seed", "7"),
    )


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_workers_get_one_cpu_each_round_robin_and_the_master_the_whole_set() -> None:
    master, workers = topology.assign_cpus([3, 1, 2], 4)
    assert master == (1, 2, 3)
    assert workers == ((1,), (2,), (3,), (1,))


@pytest.mark.parametrize(("cpus", "workers"), [((), 1), ((1,), 0)])
def test_impossible_assignments_are_refused(cpus: tuple[int, ...], workers: int) -> None:
    with pytest.raises(ValueError, match=r"empty|at least one"):
        topology.assign_cpus(cpus, workers)


def test_master_command_is_headless_bounded_distributed_and_writes_csv() -> None:
    command = topology.master_command(plan(), "/usr/bin/python3")
    assert "--master" in command and "--headless" in command
    assert option(command, "--expect-workers") == "2"
    assert option(command, "--master-bind-port") == "5557"
    assert option(command, "--master-bind-host") == "127.0.0.1"
    assert option(command, "--run-time") == "20s"
    assert option(command, "--users") == "20" and option(command, "--spawn-rate") == "5"
    assert option(command, "--csv") == "/tmp/run/locust/flows"
    assert "--csv-full-history" in command
    assert option(command, "-f") == str(topology.JOURNEYS)
    assert command[-2:] == ["--world-seed", "7"]  # locustfile options: master only


def test_worker_command_connects_to_the_master_over_tcp() -> None:
    command = topology.worker_command(plan(), 1, "/usr/bin/python3", master_host="10.0.0.5")
    assert "--worker" in command and "--headless" not in command
    assert option(command, "--master-host") == "10.0.0.5"
    assert option(command, "--master-port") == "5557"
    assert option(command, "-f") == str(topology.JOURNEYS)
    assert "--world-seed" not in command  # the master sends it with the spawn message


def test_the_deadline_covers_waiting_ramping_running_and_stopping() -> None:
    assert plan().deadline_s > topology.EXPECT_WORKERS_WAIT_S + 20.0 / 5.0 + 20.0


def test_run_time_is_whole_seconds_and_at_least_one() -> None:
    assert topology.run_time_option(20.4) == "20s"
    assert topology.run_time_option(0.2) == "1s"


def test_spawned_users_come_from_the_last_report_in_the_log() -> None:
    log = (
        '... All users spawned: {"CatalogUser": 3} (3 total users)\n'
        '... All users spawned: {"CatalogUser": 6, "ChatUser": 1} (7 total users)\n'
    )
    assert topology.spawned_users(log) == {"CatalogUser": 6, "ChatUser": 1}
    assert topology.spawned_users("no such line") == {}
