"""CPU of the server, the Locust master and each Locust worker while a run lasts.

The lab's :class:`bench.lab.monitor.Monitor` samples the server, the generator (here the master
and every local worker together) and accounts for what both CPU sets did; a distributed Locust
run has one process per worker (each its own process group, as on separate hosts), and whether
*a worker* is saturated is the question, so this also follows each worker on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psutil

from bench.infra.cpu import cpu_seconds
from bench.infra.results import Resources
from bench.lab.monitor import Monitor


class LocustSampler(Monitor):
    """The lab's monitor over the Locust master + workers, with each worker's CPU kept too."""

    def __init__(
        self,
        server_processes: Callable[[], list[psutil.Process]],
        master_pid: int,
        worker_pids: Sequence[int],
        server_cpus: Sequence[int],
        generator_cpus: Sequence[int],
        interval: float = 0.5,
    ) -> None:
        self.master = _process(master_pid)
        self.workers = [_process(pid) for pid in worker_pids]
        super().__init__(
            server_processes, self._locust, server_cpus, generator_cpus, interval=interval
        )
        self.worker_seconds: list[list[float]] = []

    def _locust(self) -> list[psutil.Process]:
        """Master and workers while all of them run (empty once one has exited)."""
        processes = [self.master, *self.workers]
        if any(proc is None or not proc.is_running() for proc in processes):
            return []
        return [proc for proc in processes if proc is not None]

    def _sample(self) -> bool:
        workers = [cpu_seconds([worker]) if worker else 0.0 for worker in self.workers]
        taken = super()._sample()
        if taken:
            self.worker_seconds.append(workers)
        return taken

    def stop_all(self) -> tuple[Resources, list[float]]:
        """Stop; the resources summary and each worker's mean CPU (percent of one CPU)."""
        return self.stop(), self.worker_means()

    def worker_means(self) -> list[float]:
        """Each worker's CPU use between the first and the last complete sample."""
        if len(self._samples) < 2:
            return [0.0 for _ in self.workers]
        wall = self._samples[-1].time - self._samples[0].time
        first, last = self.worker_seconds[0], self.worker_seconds[-1]
        return [round(100.0 * (b - a) / wall, 1) for a, b in zip(first, last, strict=True)]


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None
