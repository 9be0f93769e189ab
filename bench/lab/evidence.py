"""When a measured figure is evidence of the server's capacity, and when it is not.

Three rules, applied by the runner to every measured run (as record flags) and read back by
``show``, ``compare`` and the report, which never call a gain or a regression on a cell whose
runs break one of them on either side:

- ``generator_bound``: the load generator used :data:`GENERATOR_BOUND_PCT` or more of its CPU
  set (or the driver says it cannot keep up): the figure may measure the generator.
- ``contended``: foreign load (other processes, the hypervisor's steal; see
  :mod:`bench.infra.cpu`) took :data:`CONTENDED_PCT` or more of the server's or the
  generator's CPU set: the server shared its CPU, or the generator was slowed.
- ``unsaturated``: not contended, the generator had headroom, yet the server used less than
  :data:`SATURATED_PCT` of the CPUs it can use (its CPU set, at most one CPU per worker
  process): it was not pushed to capacity (too few connections, or waiting on something), so
  the figure is a rate at that load, not a capacity.

The thresholds come from measurements on this 2-vCPU VM (README, "When the lab refuses a
verdict"): over the 96 runs of a quick profile on a quiet machine the foreign share was at
most 1.7% of the server's CPU and 4.4% of the generator's, and the server used 97.1% or more
of its CPU in every run; a CPU hog pinned to the server's CPU takes 40-50% of it. 10% is twice
the worst quiet reading and a fifth of a hog; 85% leaves the same margin below saturation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.infra.cpu import CpuAccount
from bench.infra.results import (
    FLAG_CONTENDED,
    FLAG_GENERATOR_BOUND,
    FLAG_UNSATURATED,
    Record,
    Resources,
)

GENERATOR_BOUND_PCT = 90.0
"""Generator CPU at or above this share of its CPU set: the figure may measure the generator."""
CONTENDED_PCT = 10.0
"""Foreign load at or above this share of either CPU set: the run is contended."""
SATURATED_PCT = 85.0
"""A server below this share of the CPUs it can use (not contended, generator with headroom)
was not saturated."""
REFUSING_FLAGS = (FLAG_GENERATOR_BOUND, FLAG_CONTENDED, FLAG_UNSATURATED)
"""Flags that make a run no evidence of capacity: no verdict is called on their cells."""


def _cpus(cpus: Sequence[int]) -> str:
    return f"CPU {cpus[0]}" if len(cpus) == 1 else f"CPUs {','.join(map(str, cpus))}"


def server_share(account: CpuAccount, workers: int) -> float:
    """The server's CPU time as a percent of what it can use: its set, at most one CPU per
    worker process."""
    usable = max(1, min(len(account.server_set.cpus), workers))
    return account.server_set.server * len(account.server_set.cpus) / usable


def evidence_flags(
    resources: Resources,
    generator_cpus: Sequence[int],
    *,
    workers: int = 1,
    generator_bound: bool = False,
) -> list[str]:
    """The refusing flags one measured run earns (in :data:`REFUSING_FLAGS` order)."""
    flags = []
    capacity = GENERATOR_BOUND_PCT * max(1, len(generator_cpus))
    bound = generator_bound or resources.generator_cpu_mean >= capacity
    if bound:
        flags.append(FLAG_GENERATOR_BOUND)
    account = resources.cpu
    if account is None:
        return flags
    contended = max(account.server_set.foreign, account.generator_set.foreign) >= CONTENDED_PCT
    if contended:
        flags.append(FLAG_CONTENDED)
    if not contended and not bound and server_share(account, workers) < SATURATED_PCT:
        flags.append(FLAG_UNSATURATED)
    return flags


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a run is no evidence of capacity: ``what`` (e.g. ``foreign load on CPU 0
    (server)``) and its size in percent, when it has one."""

    what: str
    percent: float | None = None


def problems(record: Record, workers: int = 1) -> list[Problem]:
    """Why a run is no evidence of capacity (empty: it is evidence)."""
    found = []
    resources = record.resources
    account = resources.cpu if resources is not None else None
    if FLAG_GENERATOR_BOUND in record.flags:
        share = resources.generator_cpu_mean if resources is not None else None
        found.append(Problem("generator near its CPU limit", share))
    if FLAG_CONTENDED in record.flags and account is not None:
        for name, share in (("server", account.server_set), ("generator", account.generator_set)):
            if share.foreign >= CONTENDED_PCT:
                found.append(
                    Problem(f"foreign load on {_cpus(share.cpus)} ({name})", share.foreign)
                )
    elif FLAG_CONTENDED in record.flags:
        found.append(Problem("foreign load"))
    if FLAG_UNSATURATED in record.flags:
        share = server_share(account, workers) if account is not None else None
        found.append(Problem("server not saturated: it used of its CPU", share))
    return found


def summarise_problems(runs: Sequence[Record], workers: int = 1) -> tuple[str, ...]:
    """Each problem of some runs once: the worst size seen and how many runs had it
    ("45% foreign load on CPU 0 (server): up to 66% (6 of 6 runs)")."""
    worst: dict[str, float | None] = {}
    count: dict[str, int] = {}
    for record in runs:
        for problem in problems(record, workers):
            count[problem.what] = count.get(problem.what, 0) + 1
            previous = worst.get(problem.what)
            if problem.percent is not None and (previous is None or problem.percent > previous):
                worst[problem.what] = problem.percent
            else:
                worst.setdefault(problem.what, previous)
    lines = []
    for what, times in count.items():
        size = worst.get(what)
        if what.startswith("server not saturated"):
            figure = f" (at most {size:.0f}%)" if size is not None else ""
            lines.append(f"server not saturated{figure} ({times} of {len(runs)} runs)")
        else:
            figure = f" up to {size:.0f}%" if size is not None else ""
            lines.append(f"{what}:{figure} ({times} of {len(runs)} runs)")
    return tuple(lines)


def reasons(record: Record, workers: int = 1) -> list[str]:
    """Why one run is no evidence of capacity, in words (empty: it is evidence)."""
    return [
        f"{problem.what}: {problem.percent:.0f}%" if problem.percent is not None else problem.what
        for problem in problems(record, workers)
    ]


def refused(record: Record) -> bool:
    """True when the run carries a flag that makes it no evidence of capacity."""
    return any(flag in REFUSING_FLAGS for flag in record.flags)


MOSTLY = 0.5
"""A run whose share of contended measured runs exceeds this says so at the top."""


def contention_banner(records: Sequence[Record]) -> str | None:
    """The sentence the terminal table and the report put at the top when most measured runs
    of a run were contended (``None`` otherwise)."""
    runs = [r for r in records if r.phase == "run" and r.kind == "measurement"]
    contended = [r for r in runs if FLAG_CONTENDED in r.flags]
    if not runs or len(contended) / len(runs) <= MOSTLY:
        return None
    worst = max(
        (
            max(r.resources.cpu.server_set.foreign, r.resources.cpu.generator_set.foreign)
            for r in contended
            if r.resources is not None and r.resources.cpu is not None
        ),
        default=None,
    )
    peak = f" (up to {worst:.0f}% of a CPU set)" if worst is not None else ""
    return (
        f"MOSTLY CONTENDED: {len(contended)} of {len(runs)} measured runs shared their CPUs with "
        f"foreign load{peak}. These figures are not the servers' capacity and no comparison "
        "calls a verdict on them: re-run on a quiet machine (or with --remeasure N)."
    )
