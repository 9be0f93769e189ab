"""Resource sampling: CPU from CPU-time deltas, peaks, the CPU accounting, the sampler's own
cost; a live sample of a busy process."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from bench.infra.cpu import CpuTimes, Reading
from bench.lab.monitor import Monitor, Sample, summarise, tree


def busy(seconds: float, idle: float) -> CpuTimes:
    return CpuTimes(seconds, 0.0, 0.0, idle, 0.0, 0.0, 0.0, 0.0)


def sample(t: float, server: float, gen: float, rss: float, server_busy: float) -> Sample:
    # One-CPU sets, CPU 0 for the server, CPU 1 for the generator.
    cpus = {0: busy(server_busy, t - server_busy), 1: busy(gen, t - gen)}
    return Sample(Reading(t, cpus, server, gen, 0.0, {}), rss)


def test_cpu_percent_comes_from_cpu_time_deltas() -> None:
    samples = [
        sample(0.0, 0.0, 0.0, 30.0, 0.0),
        sample(1.0, 0.9, 0.5, 31.0, 0.95),
        sample(2.0, 1.6, 1.0, 35.0, 1.9),
    ]
    resources = summarise(samples, 1.0, [0], [1], sampler_cpu=0.4)
    assert resources.server_cpu_mean == 80.0
    assert resources.server_cpu_max == 90.0
    assert resources.generator_cpu_mean == 50.0
    assert resources.server_rss_max_mib == 35.0
    assert resources.server_cpuset_busy == 95.0
    assert resources.samples == 3 and resources.sampler_cpu == 0.4
    assert resources.cpu is not None
    assert resources.cpu.server_set.foreign == 15.0  # 95% busy, the server 80%
    assert resources.cpu.generator_set.foreign == 0.0


def test_too_few_samples_give_zero_cpu_not_an_error() -> None:
    resources = summarise([sample(0.0, 0.0, 0.0, 12.0, 0.0)], 0.25, [0], [1])
    assert (resources.server_cpu_mean, resources.server_rss_max_mib) == (0.0, 12.0)
    assert resources.cpu is None


BURNER = "import time\nwhile time.process_time() < 0.5: pass"  # 0.5 s of CPU, however slow


@pytest.mark.timeout(60)
def test_monitor_measures_a_busy_process_and_its_own_cost() -> None:
    burner = subprocess.Popen([sys.executable, "-c", BURNER])
    try:
        me = psutil.Process()
        monitor = Monitor(lambda: [me], lambda: tree(burner.pid), [0], [0], interval=0.05)
        monitor.start()
        burner.wait(timeout=50)
        resources = monitor.stop()
    finally:
        burner.kill()
        burner.wait()
    assert resources.samples >= 2
    # The burner did nothing but spin: its CPU share is positive on any machine, and the
    # peak interval is at least the mean.
    assert resources.generator_cpu_mean > 0.0
    assert resources.generator_cpu_max >= resources.generator_cpu_mean
    assert resources.server_rss_max_mib > 1.0
    assert resources.cpu is not None and resources.cpu.server_set.cpus == [0]
    assert resources.cpu.server_set.generator > 0.0  # one CPU for both: the sets are one
    # The sampler measured its own CPU time: sampling every 50 ms costs far below a CPU.
    assert resources.sampler_cpu is not None and 0.0 < resources.sampler_cpu < 50.0
