"""The environment panel: where, on what and how a run measured, from ``run.json`` and records.

Machine, Python, package and tool versions, the git commit with its dirty flag, the run
protocol (runs, durations, warm-up, concurrency, CPU pinning, driver) and every distinct
server command line the records carry — what a reader needs to judge or reproduce a figure —
and the machine-speed gauge (:mod:`bench.infra.gauge`): the machine's own speed at the start and end
of the run and before each measured run ("—" for runs recorded before the gauge existed).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from bench.infra.gauge import GaugeReading
from bench.lab.summary import MachineSpeed, machine_speed
from bench.report.load import LoadedRun
from bench.report.numbers import DASH

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
    gauge: Rows
    """The machine-speed gauge: whole-run readings and the per-run median and spread."""
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
            (
                "Machine-speed gauge before each run",
                f"{config.gauge_s:g} s on the server CPUs" if config.gauge_s > 0 else "off",
            ),
            ("Command", shlex.join(info.argv)),
        ],
        gauge=_gauge(run),
        commands=_commands(run),
        notes=list(info.notes),
    )


def _reading(reading: GaugeReading | None) -> str:
    if reading is None:
        return DASH
    pinned = "pinned" if reading.pinned else "NOT pinned"
    return (
        f"{reading.units_per_s:,.0f} units/s · CV {reading.cv:.1%} · p10-p90 "
        f"{reading.p10:,.0f} to {reading.p90:,.0f} · {reading.windows} windows · {pinned}"
    )


def _gauge(run: LoadedRun) -> Rows:
    info = run.info
    readings = info.gauge
    server, generator = _cpus(info.config.server_cpus), _cpus(info.config.generator_cpus)
    start, end = readings.get("start"), readings.get("end")
    per_run = machine_speed(r for r in run.records if r.source == "lab")
    version = next((r.version for r in readings.values()), per_run and per_run.version)
    rows = [
        ("Gauge", f"v{version}: units/s of fixed pure-Python work" if version else DASH),
        (f"Start (server CPUs {server})", _reading(start)),
        (f"Start (generator CPUs {generator})", _reading(readings.get("generator"))),
    ]
    if "resumed" in readings:
        rows.append((f"Resumed (server CPUs {server})", _reading(readings["resumed"])))
    rows.append((f"End (server CPUs {server})", _reading(end)))
    ratio = DASH
    if start is not None and end is not None and start.version == end.version:
        ratio = f"{end.units_per_s / start.units_per_s:.3f}"
    rows.append(("End ÷ start", ratio))
    rows.append(("Before each measured run", _per_run(per_run)))
    return rows


def _per_run(speed: MachineSpeed | None) -> str:
    if speed is None:
        return DASH
    if speed.readings == 1:
        return f"{speed.median:,.0f} units/s (one run: no spread)"
    return (
        f"median {speed.median:,.0f} units/s · spread {speed.spread:.0%} "
        f"(fastest ÷ slowest - 1) over {speed.readings} runs"
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
