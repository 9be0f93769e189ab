"""The environment panel: where, on what and how a run measured, from ``run.json`` and records.

Machine, Python, package and tool versions, the git commit with its dirty flag, the run
protocol (runs, durations, warm-up, concurrency, CPU pinning, driver) and every distinct
server command line the records carry — what a reader needs to judge or reproduce a figure.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from bench.report.load import LoadedRun

Rows = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Panel:
    """Label/value rows per topic, plus the command lines."""

    machine: Rows
    software: Rows
    packages: Rows
    tools: Rows
    git: Rows
    protocol: Rows
    commands: list[tuple[str, str]]
    """(what, exact command line) — from ``run.json`` and from every record."""
    notes: list[str]


def _cpus(cpus: list[int]) -> str:
    return ", ".join(map(str, cpus)) if cpus else "not pinned"


def build(run: LoadedRun) -> Panel:
    """The panel of one run."""
    info, env = run.info, run.info.env
    config = info.config
    machine = env.machine
    return Panel(
        machine=[
            ("CPU", machine.cpu_model),
            ("Logical CPUs", str(machine.logical_cpus)),
            ("Physical cores", str(machine.physical_cores or "unknown")),
            ("Memory", f"{machine.memory_total_mib:,} MiB"),
            ("Kernel", machine.kernel),
            ("OS", machine.os),
            ("Architecture", machine.architecture),
        ],
        software=[
            ("Python", f"{env.software.python} ({env.software.python_implementation})"),
        ],
        packages=sorted(env.software.packages.items()),
        tools=sorted(env.software.tools.items()),
        git=[
            ("Commit", env.git.commit),
            ("Working tree", "DIRTY (uncommitted changes)" if env.git.dirty else "clean"),
            ("Branch", env.git.branch or "detached"),
        ],
        protocol=[
            ("Profile", config.profile),
            ("Status", info.status),
            ("Started", info.created_at),
            ("Finished", info.finished_at or "not finished"),
            ("Runs per cell", f"{config.runs} (interleaved across apps; median, never best-of)"),
            ("Duration per run", f"{config.duration_s:g} s"),
            ("Warm-up (discarded)", f"{config.warmup_s:g} s"),
            ("Primer", f"{config.primer_s:g} s"),
            ("Concurrency", ", ".join(map(str, config.concurrency))),
            ("Server CPUs", _cpus(config.server_cpus)),
            ("Generator CPUs", _cpus(config.generator_cpus)),
            ("Load driver", config.driver),
            ("Database", config.database),
            ("Correctness samples per cell", str(config.check_samples)),
            ("Request pool size", str(config.pool_size)),
            ("Seed", str(config.seed)),
            ("Step timeout", f"{config.timeout_s:g} s"),
            ("Command", shlex.join(info.argv)),
        ],
        commands=_commands(run),
        notes=list(info.notes),
    )


def _commands(run: LoadedRun) -> list[tuple[str, str]]:
    found = {name: shlex.join(argv) for name, argv in sorted(run.info.commands.items()) if argv}
    for record in run.records:
        if record.server_command:
            what = f"{record.server} · {record.app} ({record.variant})"
            found.setdefault(what, shlex.join(record.server_command))
    drivers = {shlex.join(r.driver_command) for r in run.records if r.driver_command}
    commands = list(found.items())
    if drivers:
        # Driver command lines differ per cell only in target and pool; show one example.
        commands.append((f"driver, e.g. ({len(drivers)} distinct)", min(drivers)))
    return commands
