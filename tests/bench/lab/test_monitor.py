"""Resource sampling: CPU from CPU-time deltas, peaks, CPU-set busy share; a live sample."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from bench.lab.monitor import Monitor, Sample, summarise


def sample(t: float, server: float, gen: float, rss: float, busy: float) -> Sample:
    # One-CPU sets: ``total`` advances with wall time (100 "ticks" per second).
    return Sample(t, server, gen, rss, busy, t * 100, busy / 2, t * 100)


def test_cpu_percent_comes_from_cpu_time_deltas() -> None:
    samples = [
        sample(0.0, 0.0, 0.0, 30.0, 0.0),
        sample(1.0, 0.9, 0.5, 31.0, 95.0),
        sample(2.0, 1.6, 1.0, 35.0, 190.0),
    ]
    resources = summarise(samples, 1.0)
    assert resources.server_cpu_mean == 80.0
    assert resources.server_cpu_max == 90.0
    assert resources.generator_cpu_mean == 50.0
    assert resources.server_rss_max_mib == 35.0
    assert resources.server_cpuset_busy == 95.0
    assert resources.generator_cpuset_busy == 47.5
    assert resources.samples == 3


def test_too_few_samples_give_zero_cpu_not_an_error() -> None:
    resources = summarise([sample(0.0, 0.0, 0.0, 12.0, 0.0)], 0.25)
    assert (resources.server_cpu_mean, resources.server_rss_max_mib) == (0.0, 12.0)


BURNER = "import time\nwhile time.process_time() < 0.5: pass"  # 0.5 s of CPU, however slow


@pytest.mark.timeout(60)
def test_monitor_measures_a_busy_process() -> None:
    burner = subprocess.Popen([sys.executable, "-c", BURNER])
    try:
        me = psutil.Process()
        monitor = Monitor(lambda: [me], burner.pid, [0], [0], interval=0.05).start()
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
