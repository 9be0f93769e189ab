"""Sample CPU and memory of the server and the load generator while a measurement runs, and
account for what their CPUs did (:mod:`bench.infra.cpu`).

A background thread, pinned to the generator's CPUs (so its own cost lands on a set whose
accounting names it), reads the counters every ``interval`` seconds (0.5 s; the process trees
are looked up once and reused while their processes live, which keeps the sampling well under
1% of a CPU): CPU time of the server's
process tree, of the generator's, of this runner process and of the CPUs' ``ksoftirqd``
threads, the per-CPU ``/proc/stat`` lines, and the server's RSS. CPU use is derived from CPU
time deltas, so a short measurement is still exact on average; the first and last samples give
the run's :class:`~bench.infra.cpu.CpuAccount` (server, generator, runner, kernel and foreign
shares of both CPU sets). The thread measures its own CPU time too (``sampler_cpu``), so the
runner's sampling cost is a figure in every record, not a claim.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil

from bench.infra import cpu
from bench.infra.results import Resources

Processes = Callable[[], list[psutil.Process]]


@dataclass(frozen=True, slots=True)
class Sample:
    """Cumulative counters at one instant (CPU in seconds, RSS in MiB)."""

    reading: cpu.Reading
    server_rss_mib: float

    @property
    def time(self) -> float:
        """When the counters were read (monotonic seconds)."""
        return self.reading.time


def _rss_mib(processes: Sequence[psutil.Process]) -> float:
    total = 0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total / 2**20


def tree(pid: int) -> list[psutil.Process]:
    """A process and its descendants (empty once it has exited)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


class Monitor:
    """Samples resources in a thread from :meth:`start` to :meth:`stop`."""

    def __init__(
        self,
        server_processes: Processes,
        generator_processes: Processes,
        server_cpus: Sequence[int],
        generator_cpus: Sequence[int],
        interval: float = 0.5,
    ) -> None:
        self.server_processes = server_processes
        self.generator_processes = generator_processes
        # Process trees are found once (a /proc scan each) and reused while all of them live.
        self._server: list[psutil.Process] = []
        self._generator: list[psutil.Process] = []
        self.server_cpus = list(server_cpus)
        self.generator_cpus = list(generator_cpus)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-monitor", daemon=True)
        self._samples: list[Sample] = []
        self._kernel = cpu.kernel_threads({*self.server_cpus, *self.generator_cpus})
        self._me = psutil.Process()
        self._sampler_seconds = 0.0
        self._sampler_wall = 0.0

    def start(self) -> Monitor:
        """Take the first sample and start sampling in the background."""
        self._sample()
        self._thread.start()
        return self

    def _sample(self) -> bool:
        """Append one sample; False once the generator has exited (its time is gone)."""
        if not self._generator or not all(proc.is_running() for proc in self._generator):
            self._generator = self.generator_processes()
        generator = self._generator
        if not generator and self._samples:
            return False
        if not self._server or not all(proc.is_running() for proc in self._server):
            self._server = self.server_processes()
        server = self._server
        reading = cpu.reading(
            {*self.server_cpus, *self.generator_cpus}, server, generator, self._kernel, self._me
        )
        self._samples.append(Sample(reading, _rss_mib(server)))
        return True

    def _run(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # an unpinnable set: sample unpinned
            os.sched_setaffinity(0, self.generator_cpus)  # this thread only
        started, started_cpu = time.monotonic(), time.thread_time()
        while not self._stop.wait(self.interval):
            if not self._sample():
                break
        self._sampler_seconds = time.thread_time() - started_cpu
        self._sampler_wall = time.monotonic() - started

    def stop(self) -> Resources:
        """Stop sampling and summarise (CPU in percent of one CPU)."""
        self._stop.set()
        self._thread.join(timeout=5)
        return summarise(
            self._samples,
            self.interval,
            self.server_cpus,
            self.generator_cpus,
            sampler_cpu=_percent(self._sampler_seconds, self._sampler_wall),
        )


def _percent(delta_cpu: float, delta_wall: float) -> float:
    return 100.0 * delta_cpu / delta_wall if delta_wall > 0 else 0.0


def summarise(
    samples: Sequence[Sample],
    interval: float,
    server_cpus: Sequence[int],
    generator_cpus: Sequence[int],
    sampler_cpu: float | None = None,
) -> Resources:
    """Mean and peak CPU use, peak RSS and the CPU accounting from cumulative samples."""
    if len(samples) < 2:
        rss = samples[0].server_rss_mib if samples else 0.0
        return Resources(
            server_cpu_mean=0.0, server_cpu_max=0.0, server_rss_max_mib=rss,
            generator_cpu_mean=0.0, generator_cpu_max=0.0, server_cpuset_busy=0.0,
            generator_cpuset_busy=0.0, samples=len(samples), interval_s=interval,
        )  # fmt: skip
    first, last = samples[0].reading, samples[-1].reading
    wall = last.time - first.time
    steps = list(itertools.pairwise(samples))
    server_steps = [
        _percent(b.reading.server - a.reading.server, b.time - a.time) for a, b in steps
    ]
    gen_steps = [
        _percent(b.reading.generator - a.reading.generator, b.time - a.time) for a, b in steps
    ]
    account = cpu.account(first, last, server_cpus, generator_cpus)
    return Resources(
        server_cpu_mean=round(_percent(last.server - first.server, wall), 1),
        server_cpu_max=round(max(server_steps), 1),
        server_rss_max_mib=round(max(sample.server_rss_mib for sample in samples), 1),
        generator_cpu_mean=round(_percent(last.generator - first.generator, wall), 1),
        generator_cpu_max=round(max(gen_steps), 1),
        server_cpuset_busy=account.server_set.busy,
        generator_cpuset_busy=account.generator_set.busy,
        samples=len(samples),
        interval_s=interval,
        cpu=account,
        sampler_cpu=None if sampler_cpu is None else round(sampler_cpu, 2),
    )
