"""What the pinned CPUs did: the foreign-load arithmetic on synthetic ``/proc/stat`` readings,
and one real reading."""

from __future__ import annotations

import pytest

from bench.infra import cpu
from bench.infra.cpu import CpuTimes, Reading


def times(
    user: float = 0.0,
    system: float = 0.0,
    idle: float = 0.0,
    softirq: float = 0.0,
    irq: float = 0.0,
    steal: float = 0.0,
) -> CpuTimes:
    return CpuTimes(
        user=user, nice=0.0, system=system, idle=idle, iowait=0.0, irq=irq, softirq=softirq,
        steal=steal,
    )  # fmt: skip


def reading(
    at: float,
    cpus: dict[int, CpuTimes],
    server: float = 0.0,
    generator: float = 0.0,
    runner: float = 0.0,
    kernel: dict[int, float] | None = None,
) -> Reading:
    return Reading(at, cpus, server, generator, runner, kernel or {})


START = reading(100.0, {0: times(idle=1000.0), 1: times(idle=1000.0)}, 50.0, 10.0, 5.0, {0: 1.0})


def test_a_quiet_saturated_run_has_no_foreign_load() -> None:
    # 2 s: the server keeps CPU 0 busy, 0.5 s of it in softirq (loopback sends) that its
    # own stime includes; wrk uses 0.8 s of CPU 1, the runner 0.01 s.
    end = reading(
        102.0,
        {0: times(user=1.2, system=0.3, softirq=0.5, idle=1000.0),
         1: times(user=0.4, system=0.25, softirq=0.16, idle=1001.19)},
        server=52.0, generator=10.8, runner=5.01, kernel={0: 1.0},
    )  # fmt: skip
    account = cpu.account(START, end, [0], [1])
    server, generator = account.server_set, account.generator_set
    assert (server.busy, server.irq, server.server, server.foreign) == (100.0, 25.0, 100.0, 0.0)
    assert (generator.generator, generator.runner, generator.foreign) == (40.0, 0.5, 0.0)
    assert generator.busy == pytest.approx(40.5)
    assert account.wall_s == 2.0


def test_leaving_softirq_out_of_busy_would_hide_a_hog() -> None:
    # The case: the server gets 62% of CPU 0, a third of it in softirq; a hog takes
    # the rest. Without irq/softirq, "busy" (46%) is below the server's own time (62%), so a
    # busy-minus-server rule sees nothing; counted in, 38 points of foreign load appear.
    end = reading(
        102.0,
        {0: times(user=0.72, system=0.2, softirq=1.08, idle=1000.0), 1: times(idle=1002.0)},
        server=51.24, generator=10.0, runner=5.0, kernel={0: 1.0},
    )  # fmt: skip
    share = cpu.account(START, end, [0], [1]).server_set
    old_rule_busy = share.busy - share.irq
    assert old_rule_busy == 46.0 < share.server  # the gap foreign work hid in
    assert share.server == 62.0 and share.foreign == 38.0


def test_steal_counts_as_foreign_and_kernel_threads_as_the_measurement() -> None:
    end = reading(
        102.0,
        {0: times(user=1.4, system=0.2, softirq=0.2, steal=0.2, idle=1000.0),
         1: times(idle=1002.0)},
        server=51.5, kernel={0: 1.3},
    )  # fmt: skip
    share = cpu.account(START, end, [0], [1]).server_set
    assert share.kernel == 15.0 and share.steal == 10.0
    assert share.foreign == pytest.approx(100.0 - 75.0 - 15.0)  # busy 90 + steal 10 - own 90 - 0


def test_foreign_load_is_never_negative() -> None:
    # Sampled ticks can put the CPU's busy time a little under the processes' precise time.
    end = reading(
        102.0, {0: times(user=1.9, idle=1000.1), 1: times(idle=1002.0)},
        server=52.05, generator=10.0, runner=5.0, kernel={0: 1.0},
    )  # fmt: skip
    assert cpu.account(START, end, [0], [1]).server_set.foreign == 0.0


def test_sets_that_overlap_are_accounted_as_one() -> None:
    end = reading(
        102.0, {0: times(user=2.0, idle=1000.0), 1: times(user=1.0, idle=1001.0)},
        server=51.5, generator=11.0, runner=5.0,
    )  # fmt: skip
    account = cpu.account(START, end, [0, 1], [1])
    assert account.server_set == account.generator_set
    assert account.server_set.cpus == [0, 1]
    assert account.server_set.foreign == pytest.approx(100.0 * (3.0 - 2.5) / 4.0)


def test_missing_cpus_are_left_out() -> None:
    end = reading(102.0, {0: times(user=2.0, idle=1000.0), 1: times(idle=1002.0)}, server=52.0)
    share = cpu.account(START, end, [0, 7], [1]).server_set
    assert share.cpus == [0] and share.server == 100.0


def test_a_real_reading_of_this_machine() -> None:
    first = cpu.reading([0], [], [], cpu.kernel_threads([0]))
    assert 0 in first.cpus and first.cpus[0].total > 0
    assert first.runner > 0.0  # this test process has run
    second = cpu.reading([0], [], [], cpu.kernel_threads([0]))
    assert second.cpus[0].total >= first.cpus[0].total
