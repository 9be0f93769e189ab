"""CPU of the server, the Locust master and each Locust worker while a run lasts.

The lab's :class:`bench.lab.monitor.Monitor` follows one generator process tree; a distributed
Locust run has one process per worker (each its own process group, as on separate hosts),
and whether *a worker* is saturated is the question, so this samples each worker on its own
and summarises the totals with :func:`bench.lab.monitor.summarise` into the same
:class:`~bench.infra.results.Resources` every lab record carries.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence

import psutil

from bench.infra.results import Resources
from bench.lab.monitor import Sample, summarise


def cpu_seconds(process: psutil.Process) -> float | None:
    """User + system CPU time of one process (None once it has exited)."""
    try:
        times = process.cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


def busy_and_total(cpus: Sequence[int]) -> tuple[float, float]:
    """Busy and total CPU seconds of a CPU set since boot (all processes)."""
    per_cpu = psutil.cpu_times(percpu=True)
    busy = total = 0.0
    for cpu in cpus:
        if cpu < len(per_cpu):
            times = per_cpu[cpu]
            spent = sum(times)
            busy += spent - times.idle - getattr(times, "iowait", 0.0)
            total += spent
    return busy, total


class LocustSampler:
    """Samples in a background thread from :meth:`start` until :meth:`stop`."""

    def __init__(
        self,
        server_processes: Callable[[], list[psutil.Process]],
        master_pid: int,
        worker_pids: Sequence[int],
        server_cpus: Sequence[int],
        generator_cpus: Sequence[int],
        interval: float = 0.5,
    ) -> None:
        self.server_processes = server_processes
        self.master = _process(master_pid)
        self.workers = [_process(pid) for pid in worker_pids]
        self.server_cpus = list(server_cpus)
        self.generator_cpus = list(generator_cpus)
        self.interval = interval
        self.samples: list[Sample] = []
        self.worker_seconds: list[list[float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="locust-sampler", daemon=True)

    def start(self) -> LocustSampler:
        """Take a first sample and keep sampling in the background."""
        self.sample()
        self._thread.start()
        return self

    def sample(self) -> None:
        """Record one sample, unless a Locust process has already exited."""
        workers = [cpu_seconds(worker) if worker else None for worker in self.workers]
        master = cpu_seconds(self.master) if self.master else None
        if master is None or any(seconds is None for seconds in workers):
            return  # the run is ending: the last complete sample stands
        readings = [seconds or 0.0 for seconds in workers]
        server = self.server_processes()
        server_busy, server_total = busy_and_total(self.server_cpus)
        generator_busy, generator_total = busy_and_total(self.generator_cpus)
        self.samples.append(
            Sample(
                time.monotonic(),
                sum(filter(None, (cpu_seconds(proc) for proc in server))),
                master + sum(readings),
                _rss_mib(server),
                server_busy,
                server_total,
                generator_busy,
                generator_total,
            )
        )
        self.worker_seconds.append(readings)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> tuple[Resources, list[float]]:
        """Stop; the resources summary and each worker's mean CPU (percent of one CPU)."""
        self._stop.set()
        self._thread.join(timeout=5)
        return summarise(self.samples, self.interval), self.worker_means()

    def worker_means(self) -> list[float]:
        """Each worker's CPU use between the first and the last complete sample."""
        if len(self.samples) < 2:
            return [0.0 for _ in self.workers]
        wall = self.samples[-1].time - self.samples[0].time
        first, last = self.worker_seconds[0], self.worker_seconds[-1]
        return [round(100.0 * (b - a) / wall, 1) for a, b in zip(first, last, strict=True)]


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _rss_mib(processes: Sequence[psutil.Process]) -> float:
    total = 0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total / 2**20
