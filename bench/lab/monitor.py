"""Sample CPU and memory of the server and the load generator while a measurement runs.

A background thread reads psutil every ``interval`` seconds: CPU time of the server's
process tree and of the driver's, the server's RSS, and the busy time of both CPU sets (all
processes, so a neighbour stealing the server's CPU shows up). CPU use is derived from CPU
time deltas, so a short measurement is still exact on average.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import psutil

from bench.infra.results import Resources

GENERATOR_BOUND_PCT = 90.0
"""Generator CPU above this share of its CPU set: the measurement may measure the generator."""
NOISE_PCT = 15.0
"""Server CPU set busier than the server itself by this much: something else ran there."""


class Sample(NamedTuple):
    """Cumulative counters at one instant (CPU in seconds, RSS in MiB)."""

    time: float
    server_cpu: float
    generator_cpu: float
    server_rss_mib: float
    server_set_busy: float
    server_set_total: float
    generator_set_busy: float
    generator_set_total: float


def _cpu_seconds(processes: Sequence[psutil.Process]) -> float:
    total = 0.0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def _rss_mib(processes: Sequence[psutil.Process]) -> float:
    total = 0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total / 2**20


def _busy_and_total(cpus: Sequence[int]) -> tuple[float, float]:
    per_cpu = psutil.cpu_times(percpu=True)
    busy = total = 0.0
    for cpu in cpus:
        if cpu < len(per_cpu):
            times = per_cpu[cpu]
            cpu_total = sum(times)
            # Interrupt time is the kernel moving packets (loopback traffic of the measurement
            # itself), not a neighbour: only idle, iowait and interrupts count as not busy.
            idle = times.idle + sum(
                getattr(times, name, 0.0) for name in ("iowait", "irq", "softirq")
            )
            busy += cpu_total - idle
            total += cpu_total
    return busy, total


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


class Monitor:
    """Samples resources in a thread from :meth:`start` to :meth:`stop`."""

    def __init__(
        self,
        server_processes: Callable[[], list[psutil.Process]],
        generator_pid: int,
        server_cpus: Sequence[int],
        generator_cpus: Sequence[int],
        interval: float = 0.25,
    ) -> None:
        self.server_processes = server_processes
        self.generator_pid = generator_pid
        self.server_cpus = list(server_cpus)
        self.generator_cpus = list(generator_cpus)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-monitor", daemon=True)
        self._samples: list[Sample] = []

    def start(self) -> Monitor:
        """Take the first sample and start sampling in the background."""
        self._sample()
        self._thread.start()
        return self

    def _sample(self) -> None:
        now = time.monotonic()
        server = self.server_processes()
        generator = _tree(self.generator_pid)
        server_busy, server_total = _busy_and_total(self.server_cpus)
        gen_busy, gen_total = _busy_and_total(self.generator_cpus)
        if not generator and self._samples:
            return  # the driver has exited: its CPU time is no longer readable
        self._samples.append(
            Sample(
                now,
                _cpu_seconds(server),
                _cpu_seconds(generator),
                _rss_mib(server),
                server_busy,
                server_total,
                gen_busy,
                gen_total,
            )
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> Resources:
        """Stop sampling and summarise (CPU in percent of one CPU)."""
        self._stop.set()
        self._thread.join(timeout=5)
        return summarise(self._samples, self.interval)


def _percent(delta_cpu: float, delta_wall: float) -> float:
    return 100.0 * delta_cpu / delta_wall if delta_wall > 0 else 0.0


def summarise(samples: Sequence[Sample], interval: float) -> Resources:
    """Mean and peak CPU use, peak RSS and CPU-set busy share from cumulative samples."""
    if len(samples) < 2:
        rss = samples[0].server_rss_mib if samples else 0.0
        return Resources(
            server_cpu_mean=0.0, server_cpu_max=0.0, server_rss_max_mib=rss,
            generator_cpu_mean=0.0, generator_cpu_max=0.0, server_cpuset_busy=0.0,
            generator_cpuset_busy=0.0, samples=len(samples), interval_s=interval,
        )  # fmt: skip
    first, last = samples[0], samples[-1]
    wall = last.time - first.time
    steps = list(itertools.pairwise(samples))
    server_steps = [_percent(b.server_cpu - a.server_cpu, b.time - a.time) for a, b in steps]
    gen_steps = [_percent(b.generator_cpu - a.generator_cpu, b.time - a.time) for a, b in steps]
    return Resources(
        server_cpu_mean=round(_percent(last.server_cpu - first.server_cpu, wall), 1),
        server_cpu_max=round(max(server_steps), 1),
        server_rss_max_mib=round(max(sample.server_rss_mib for sample in samples), 1),
        generator_cpu_mean=round(_percent(last.generator_cpu - first.generator_cpu, wall), 1),
        generator_cpu_max=round(max(gen_steps), 1),
        server_cpuset_busy=_share(
            last.server_set_busy - first.server_set_busy,
            last.server_set_total - first.server_set_total,
        ),
        generator_cpuset_busy=_share(
            last.generator_set_busy - first.generator_set_busy,
            last.generator_set_total - first.generator_set_total,
        ),
        samples=len(samples),
        interval_s=interval,
    )


def _share(busy: float, total: float) -> float:
    return round(100.0 * busy / total, 1) if total > 0 else 0.0
