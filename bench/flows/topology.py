"""A distributed Locust run's shape: one master, K workers, their CPUs and command lines.

The master and every worker are separate processes connected over TCP (Locust's ZeroMQ
transport on ``--master-bind-port``), so the loopback run here is the same topology as
workers on other hosts: only ``--master-host`` changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.infra import process

LOCUSTFILES = Path(__file__).resolve().parent
JOURNEYS = LOCUSTFILES / "journeys.py"
CEILING = LOCUSTFILES / "ceiling.py"

MASTER_HOST = "127.0.0.1"
EXPECT_WORKERS_WAIT_S = 30
"""How long the master waits for its workers to connect before giving up."""
STOP_TIMEOUT_S = 3
"""Seconds Locust lets users finish their current task once the run time is over."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What one distributed Locust run does."""

    locustfile: Path
    host: str
    users: int
    spawn_rate: float
    run_time_s: float
    workers: int
    master_port: int
    master_cpus: tuple[int, ...]
    worker_cpus: tuple[tuple[int, ...], ...]
    csv_prefix: Path
    extra: tuple[str, ...] = ()
    """Options of the locustfile itself (``--world-seed``, ``--think-min``…), master only:
    Locust sends them to the workers."""
    remote_workers: int = 0
    """Workers started by hand on other hosts, on top of the ``workers`` started here."""
    bind_host: str = MASTER_HOST
    """Where the master listens: ``0.0.0.0`` (or an interface) for workers on other hosts."""
    wait_workers_s: float = EXPECT_WORKERS_WAIT_S

    @property
    def spawn_s(self) -> float:
        """Seconds until every user is started."""
        return self.users / self.spawn_rate

    @property
    def total_workers(self) -> int:
        """Every worker the master waits for, here and on other hosts."""
        return self.workers + self.remote_workers

    @property
    def deadline_s(self) -> float:
        """The longest the master may take: worker wait, ramp-up, run, stop, shutdown."""
        return self.wait_workers_s + self.spawn_s + self.run_time_s + STOP_TIMEOUT_S + 30.0


def assign_cpus(
    generator_cpus: Sequence[int], workers: int
) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """The master on the whole generator set; worker ``i`` on one CPU, round robin.

    The master only aggregates statistics, so it shares the set; each worker gets one CPU of
    its own while there are enough, so no two workers compete for a core needlessly.
    """
    if not generator_cpus:
        raise ValueError("the generator CPU set is empty")
    if workers < 1:
        raise ValueError(f"at least one worker is needed, got {workers}")
    cpus = tuple(sorted(set(generator_cpus)))
    return cpus, tuple((cpus[index % len(cpus)],) for index in range(workers))


def run_time_option(seconds: float) -> str:
    """Locust's ``--run-time`` value (whole seconds, at least 1)."""
    return f"{max(round(seconds), 1)}s"


def locust(python: str) -> list[str]:
    """Locust run with the lab's interpreter, so the versions are the recorded ones."""
    return [python, "-m", "locust"]


def master_command(plan: Plan, python: str) -> list[str]:
    """The master: headless, waits for K workers, bounded run time, CSV statistics."""
    return [
        *process.pin_prefix(plan.master_cpus),
        *locust(python), "-f", str(plan.locustfile),
        "--master",
        "--master-bind-host", plan.bind_host,
        "--master-bind-port", str(plan.master_port),
        "--expect-workers", str(plan.total_workers),
        "--expect-workers-max-wait", f"{plan.wait_workers_s:g}",
        "--headless", "--only-summary",
        "--host", plan.host,
        "--users", str(plan.users),
        "--spawn-rate", f"{plan.spawn_rate:g}",
        "--run-time", run_time_option(plan.run_time_s),
        "--stop-timeout", str(STOP_TIMEOUT_S),
        "--csv", str(plan.csv_prefix), "--csv-full-history",
        "--exit-code-on-error", "0",
        "--loglevel", "INFO",
        *plan.extra,
    ]  # fmt: skip


def worker_command(
    plan: Plan, index: int, python: str, master_host: str = MASTER_HOST
) -> list[str]:
    """Worker ``index``: the same locustfile, pinned to its CPU, connected to the master."""
    return [
        *process.pin_prefix(plan.worker_cpus[index]),
        *locust(python), "-f", str(plan.locustfile),
        "--worker",
        "--master-host", master_host,
        "--master-port", str(plan.master_port),
        "--loglevel", "INFO",
    ]  # fmt: skip


SPAWNED = re.compile(r"All users spawned: (\{.*?\})")


def spawned_users(master_log: str) -> dict[str, int]:
    """User classes and counts from the master's last ``All users spawned: {...}`` line."""
    found = SPAWNED.findall(master_log)
    if not found:
        return {}
    try:
        counts = json.loads(found[-1])
    except ValueError:
        return {}
    return {str(name): int(count) for name, count in counts.items()}


def remote_worker_command(plan: Plan, master_host: str) -> str:
    """What to run on another host (from a checkout at the same commit, same versions)."""
    return (
        f"python -m locust -f {plan.locustfile.relative_to(LOCUSTFILES.parent.parent)} "
        f"--worker --master-host {master_host} --master-port {plan.master_port}"
    )
