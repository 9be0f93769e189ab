"""What the pinned CPUs did while a measurement ran: the server's share, the generator's, the
lab runner's, the kernel's network threads', and the rest, which is foreign load.

The arithmetic, and why it holds (Linux with tick-based CPU accounting, as here:
``CONFIG_TICK_CPU_ACCOUNTING=y``, ``CONFIG_IRQ_TIME_ACCOUNTING`` unset):

- ``/proc/stat``'s per-CPU line splits every tick of a CPU into user, nice, system, irq,
  softirq, idle, iowait and steal. *Busy* is user + nice + system + irq + softirq: irq and
  softirq time *is* charged to whichever task was running when the tick came — the measured
  server's own ``stime`` when it sends on loopback and the kernel processes the packet in its
  context. Leaving irq and softirq out of "busy" (as the lab's first ``noisy`` flag did) makes a
  fully busy server CPU look 25-40% idle under network load, and the server's own time larger
  than its CPU's busy time: the gap in which foreign work hid.
- A process's CPU time (``/proc/<pid>/stat``, psutil) is its scheduler runtime split into user
  and system, so it includes the softirq work done in its context; a pinned process spends it
  all on its own CPU set.
- So on each CPU set, busy = the pinned processes' time + the kernel's per-CPU threads
  (``ksoftirqd/N``: softirq work deferred from the measurement's own traffic) + irq/softirq
  taken while the CPU was idle + everything else. *Foreign* is busy + steal minus the server,
  the generator, the lab runner and the kernel threads, floored at 0: other processes, and the
  hypervisor's steal. Idle-time interrupts are counted in it (they cannot be told apart); they
  are small when the server keeps its CPU busy, which is when a figure means capacity.

Shares are percent of the set's capacity (wall time x its CPUs). Ticks are sampled, so on a
2-second run a share is good to about ±1-2 points.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec
import psutil

KERNEL_THREAD_PREFIX = "ksoftirqd/"


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """One CPU's cumulative time in each state since boot (seconds, ``/proc/stat``)."""

    user: float
    nice: float
    system: float
    idle: float
    iowait: float
    irq: float
    softirq: float
    steal: float

    @property
    def busy(self) -> float:
        """Time spent running anything, interrupts included (steal excluded: not this VM)."""
        return self.user + self.nice + self.system + self.irq + self.softirq

    @property
    def total(self) -> float:
        """All of the CPU's time (guest time is already inside user and nice)."""
        return self.busy + self.idle + self.iowait + self.steal


def read_cpus(cpus: Iterable[int]) -> dict[int, CpuTimes]:
    """The cumulative times of ``cpus`` (CPUs this machine does not have are left out)."""
    per_cpu = psutil.cpu_times(percpu=True)
    found = {}
    for cpu in cpus:
        if 0 <= cpu < len(per_cpu):
            times = per_cpu[cpu]
            found[cpu] = CpuTimes(
                user=times.user,
                nice=times.nice,
                system=times.system,
                idle=times.idle,
                iowait=getattr(times, "iowait", 0.0),
                irq=getattr(times, "irq", 0.0),
                softirq=getattr(times, "softirq", 0.0),
                steal=getattr(times, "steal", 0.0),
            )
    return found


def cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    """User + system CPU seconds of ``processes`` (ones that exited count 0)."""
    total = 0.0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def kernel_threads(cpus: Iterable[int]) -> dict[int, psutil.Process]:
    """The ``ksoftirqd/N`` kernel thread of each of ``cpus`` (found once, by name)."""
    wanted = {f"{KERNEL_THREAD_PREFIX}{cpu}": cpu for cpu in cpus}
    found = {}
    for proc in psutil.process_iter(["name"]):
        cpu = wanted.get(proc.info.get("name") or "")
        if cpu is not None:
            found[cpu] = proc
    return found


@dataclass(frozen=True, slots=True)
class Reading:
    """Every cumulative counter the accounting needs, at one instant."""

    time: float
    cpus: dict[int, CpuTimes]
    server: float
    """CPU seconds of the server's process tree."""
    generator: float
    """CPU seconds of the load generator's process tree."""
    runner: float
    """CPU seconds of the lab runner's own process (its sampling thread included)."""
    kernel: dict[int, float]
    """CPU seconds of each CPU's ``ksoftirqd`` thread."""


class SetShare(msgspec.Struct, kw_only=True, frozen=True):
    """What one CPU set did during a measurement, in percent of its capacity (wall x CPUs)."""

    cpus: list[int]
    busy: float
    """user + nice + system + irq + softirq."""
    irq: float
    """irq + softirq (inside ``busy``)."""
    steal: float
    """Time the hypervisor ran something else on these vCPUs (outside ``busy``)."""
    server: float
    generator: float
    runner: float
    kernel: float
    """The CPUs' ``ksoftirqd`` threads: interrupt work deferred from the measurement's traffic."""
    foreign: float
    """busy + steal - (server + generator + runner + kernel), at least 0: other processes'
    work and the hypervisor's."""


class CpuAccount(msgspec.Struct, kw_only=True, frozen=True):
    """The accounting of both CPU sets of one measurement (``server_set is generator_set``
    in content when the two sets are the same CPUs)."""

    wall_s: float
    server_set: SetShare
    generator_set: SetShare


def _percent(seconds: float, capacity: float) -> float:
    return round(100.0 * seconds / capacity, 1) if capacity > 0 else 0.0


def _set_share(
    cpus: Sequence[int],
    first: Reading,
    last: Reading,
    owners: dict[str, float],
) -> SetShare:
    """The share of one set, ``owners`` holding the CPU seconds of the processes pinned to it
    (``server``, ``generator``, ``runner``)."""
    present = [cpu for cpu in cpus if cpu in first.cpus and cpu in last.cpus]
    wall = last.time - first.time
    capacity = wall * len(present)

    def delta(field: str) -> float:
        return sum(
            getattr(last.cpus[cpu], field) - getattr(first.cpus[cpu], field) for cpu in present
        )

    busy, irq = delta("busy"), delta("irq") + delta("softirq")
    steal = delta("steal")
    kernel = sum(
        max(0.0, last.kernel[cpu] - first.kernel[cpu])
        for cpu in present
        if cpu in first.kernel and cpu in last.kernel
    )
    own = sum(owners.values()) + kernel
    return SetShare(
        cpus=list(present),
        busy=_percent(busy, capacity),
        irq=_percent(irq, capacity),
        steal=_percent(steal, capacity),
        server=_percent(owners.get("server", 0.0), capacity),
        generator=_percent(owners.get("generator", 0.0), capacity),
        runner=_percent(owners.get("runner", 0.0), capacity),
        kernel=_percent(kernel, capacity),
        foreign=_percent(max(0.0, busy + steal - own), capacity),
    )


def account(
    first: Reading, last: Reading, server_cpus: Sequence[int], generator_cpus: Sequence[int]
) -> CpuAccount:
    """Split each set's time between its owners and foreign load.

    The server is pinned to ``server_cpus``, the generator and the runner's sampling thread to
    ``generator_cpus``; when the sets overlap, every owner counts on the server's set and the
    generator's set repeats it.
    """
    spent = {
        "server": max(0.0, last.server - first.server),
        "generator": max(0.0, last.generator - first.generator),
        "runner": max(0.0, last.runner - first.runner),
    }
    if set(server_cpus) & set(generator_cpus):
        everything = sorted({*server_cpus, *generator_cpus})
        shared = _set_share(everything, first, last, spent)
        return CpuAccount(
            wall_s=round(last.time - first.time, 3), server_set=shared, generator_set=shared
        )
    server_set = _set_share(server_cpus, first, last, {"server": spent["server"]})
    generator_set = _set_share(
        generator_cpus, first, last, {"generator": spent["generator"], "runner": spent["runner"]}
    )
    return CpuAccount(
        wall_s=round(last.time - first.time, 3), server_set=server_set, generator_set=generator_set
    )


def reading(
    cpus: Iterable[int],
    server: Iterable[psutil.Process],
    generator: Iterable[psutil.Process],
    kernel: dict[int, psutil.Process],
    runner: psutil.Process | None = None,
) -> Reading:
    """Read every counter now (the processes' CPU time, then the CPUs')."""
    me = runner or psutil.Process()
    return Reading(
        time=time.monotonic(),
        server=cpu_seconds(server),
        generator=cpu_seconds(generator),
        runner=cpu_seconds([me]),
        kernel={cpu: cpu_seconds([proc]) for cpu, proc in kernel.items()},
        cpus=read_cpus(cpus),
    )
