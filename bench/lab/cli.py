"""The load lab's commands (:mod:`bench.lab.cli` dispatches ``python -m bench <command>`` here):

python -m bench list
python -m bench run [--profile smoke|quick|field|full] [--apps raw,velocix]
                    [--servers uvicorn] [--scenarios plaintext,json] [--duration 2]
                    [--warmup 1] [--runs 3] [--concurrency 16,64,256] [--dry-run] ...
python -m bench run --resume RUN    # finish an interrupted run (stored records kept)
python -m bench show [RUN] [--against OTHER]   # table of a stored run; repeatability
python -m bench gauge [--seconds 10] [--cpus 0]   # how steady is this machine's speed?
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bench import frameworks
from bench.infra import environment, gauge, options
from bench.infra.options import UsageError, default_cpus, raise_interrupt, split_ints, split_names
from bench.infra.process import ROOT, parse_cpus
from bench.infra.results import (
    Config,
    Record,
    RunInfo,
    RunStore,
    iter_records,
    new_run_id,
    read_info,
    resolve_run,
    utc_now,
)
from bench.infra.servers import registry as server_registry
from bench.lab import plan, profiles
from bench.lab.drivers import DRIVERS
from bench.lab.evidence import contention_banner
from bench.lab.runner import Runner
from bench.lab.scenarios import registry as scenario_registry
from bench.lab.summary import machine_change, machine_speed, summarize
from bench.lab.table import print_summary, repeatability_table

DEFAULT_REPORTS = ROOT / "reports"
GAUGE_S = gauge.STEP_SECONDS
STEADY_CV = 0.03
"""``python -m bench gauge`` calls the machine steady when its speed's CV is below this."""


def build_config(args: argparse.Namespace) -> Config:
    """The run configuration: the profile's defaults overridden by the options given."""
    profile = profiles.PROFILES[args.profile]
    all_apps, all_servers = frameworks.names(), list(server_registry())
    # Server variants kept for conformance (uvicorn-h11, daphne...) run only when named.
    full_servers = [name for name, spec in server_registry().items() if spec.in_full_matrix]
    all_scenarios = list(scenario_registry())
    chosen_apps = split_names(args.apps, all_apps, "app") or list(profile.apps or all_apps)
    chosen_servers = split_names(args.servers, all_servers, "server") or list(
        profile.servers or full_servers
    )
    chosen_scenarios = split_names(args.scenarios, all_scenarios, "scenario") or list(
        profile.scenarios or all_scenarios
    )
    server_cpus, generator_cpus = default_cpus()
    try:
        if args.server_cpus:
            server_cpus = parse_cpus(args.server_cpus)
        if args.generator_cpus:
            generator_cpus = parse_cpus(args.generator_cpus)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for name, value, low in (("--duration", args.duration, 1), ("--runs", args.runs, 1)):
        if value is not None and value < low:
            raise UsageError(f"{name} must be at least {low}, got {value}")
    for name, value in (
        ("--warmup", args.warmup),
        ("--primer", args.primer),
        ("--gauge-s", args.gauge_s),
        ("--remeasure", args.remeasure),
    ):
        if value is not None and value < 0:
            raise UsageError(f"{name} must be 0 or more, got {value}")
    if args.workers:
        workers = split_ints(args.workers, "--workers")
    elif profile.scaling:
        workers = profiles.worker_levels(len(server_cpus))
    else:
        workers = [1]
    concurrency = (
        split_ints(args.concurrency, "--concurrency")
        if args.concurrency
        else list(profile.concurrency)
    )
    return Config(
        profile=profile.name,
        apps=chosen_apps,
        servers=chosen_servers,
        scenarios=chosen_scenarios,
        concurrency=concurrency,
        duration_s=float(args.duration if args.duration is not None else profile.duration),
        warmup_s=float(args.warmup if args.warmup is not None else profile.warmup),
        primer_s=float(args.primer if args.primer is not None else profile.primer),
        runs=args.runs if args.runs is not None else profile.runs,
        server_cpus=server_cpus,
        generator_cpus=generator_cpus,
        driver=_resolve_driver(args.driver),
        seed=args.seed if args.seed is not None else random.randrange(2**31),
        pool_size=args.pool_size,
        check_samples=args.check_samples,
        database="postgresql" if _pg_dsn() else "sqlite",
        timeout_s=args.timeout,
        gauge_s=float(args.gauge_s if args.gauge_s is not None else GAUGE_S),
        workers=workers[0],
        worker_levels=workers if len(workers) > 1 else [],
        remeasure=args.remeasure if args.remeasure is not None else 0,
    )


def _resolve_driver(preference: str) -> str:
    """The HTTP driver that will actually run (recorded in the configuration)."""
    from bench.lab.drivers import DriverError, http_driver

    try:
        return http_driver(preference).name
    except DriverError as exc:
        raise UsageError(str(exc)) from None


def _pg_dsn() -> str | None:
    import os

    from bench.infra.db import PG_DSN_ENV

    return os.environ.get(PG_DSN_ENV) or None


class RichProgress:
    """Live progress with ETA; the unit of work is a second of planned load."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None

    def begin(self, total_seconds: float) -> None:
        self.bar.start()
        self.task = self.bar.add_task("starting", total=max(total_seconds, 1))

    def step(self, description: str) -> None:
        if self.task is not None:
            self.bar.update(self.task, description=description)

    def advance(self, seconds: float) -> None:
        if self.task is not None:
            self.bar.advance(self.task, seconds)

    def note(self, message: str) -> None:
        self.console.print(f"[bold yellow]{message}[/]")

    def close(self) -> None:
        self.bar.stop()


# Options that would change a stored run's plan: --resume keeps the run's own configuration.
RESUME_FIXED = (
    "apps", "servers", "scenarios", "duration", "warmup", "primer", "runs", "concurrency",
    "server_cpus", "generator_cpus", "seed", "gauge_s", "workers", "remeasure",
)  # fmt: skip


def open_resumed(args: argparse.Namespace) -> tuple[RunStore, RunInfo, list[Record]]:
    """The interrupted run named by ``--resume``, ready to continue: its stored records (a torn
    last line dropped, so new lines start clean) and its run.json marked running again."""
    given = [
        f"--{name.replace('_', '-')}" for name in RESUME_FIXED if getattr(args, name) is not None
    ]
    if given:
        raise UsageError(f"--resume keeps the run's own configuration: drop {', '.join(given)}")
    store = RunStore(resolve_run(args.resume, Path(args.output)))
    _drop_torn_line(store.results_path)
    info = store.info()
    records = store.records()
    info.status = "running"
    info.finished_at = None
    info.notes.append(
        f"resumed at {utc_now()} ({' '.join(args.argv)}): {len(records)} record(s) kept"
    )
    return store, info, records


def _drop_torn_line(path: Path) -> None:
    """Cut a partial last line left by a crash mid-append (readers skip it; appends must not
    glue the next record onto it)."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


def print_plan(config: Config, console: Console) -> None:
    """What a run would measure (``bench run --dry-run``): cells per framework, the cells that
    are not applicable and why, and the planned load time."""
    blocks = plan.plan(config)
    cells = {step.cell_id for block in blocks for step in block.steps if step.phase == "run"}
    console.print(
        f"profile {config.profile}: {len(config.apps)} frameworks x {len(config.servers)} "
        f"servers x {len(config.scenarios)} scenarios x {len(config.concurrency)} concurrency "
        f"level(s) x workers {','.join(map(str, config.worker_counts()))} = {len(cells)} "
        f"measured cells, {config.runs} run(s) of {config.duration_s:g} s; server CPUs "
        f"{config.server_cpus}, generator CPUs {config.generator_cpus}"
    )
    for app in config.apps:
        mine = sorted(cell for cell in cells if cell.split("/")[1] == app)
        console.print(f"  {app:11} {len(mine)} cells")
    for block in blocks:
        needs = scenario_registry()[block.scenario].requires
        for app in block.apps:
            reason = frameworks.get(app).not_applicable(needs)
            if reason is not None:
                console.print(f"  n/a {block.server}/{app}/{block.scenario}: {reason}")
    seconds = plan.planned_seconds(blocks, config.gauge_s)
    console.print(
        f"planned load {seconds:.0f} s (+ server start-up and correctness checks per cell)"
    )


def command_run(args: argparse.Namespace, console: Console) -> int:
    if args.dry_run:
        if args.resume:
            raise UsageError("--dry-run plans a new run; it cannot be combined with --resume")
        print_plan(build_config(args), console)
        return 0
    resume: list[Record] = []
    if args.resume:
        store, info, resume = open_resumed(args)
        config, env = info.config, environment.collect()
    else:
        config = build_config(args)
        env = environment.collect()
        info = RunInfo(
            run_id=new_run_id(env.git.short),
            created_at=utc_now(),
            argv=[sys.executable, "-m", "bench", *args.argv],
            config=config,
            env=env,
            frameworks=frameworks.run_frameworks(config.apps),
            baseline=frameworks.BASELINE,
        )
        store = RunStore.create(Path(args.output), info)
    console.print(f"run [bold]{info.run_id}[/] -> {store.directory}")
    progress = RichProgress(console)
    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    started = time.monotonic()
    interrupted = False
    try:
        Runner(config, store, info, env, progress, resume=resume).run()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
        signal.signal(signal.SIGTERM, previous)
    records = store.records()
    print_summary(
        summarize(records, info.baseline),
        store.info(),
        console,
        machine_speed(records),
        contention_banner(records),
    )
    console.print(f"wall time {time.monotonic() - started:.0f}s; results in {store.results_path}")
    if interrupted:
        console.print("[bold red]interrupted[/]: finished measurements are stored")
        return 130
    if args.fail_on_failure and any(record.kind == "failure" for record in records):
        console.print("[bold red]some cells failed[/] (see the table)")
        return 1
    return 0


def command_show(args: argparse.Namespace, console: Console) -> int:
    run_dir = resolve_run(args.run, Path(args.output))
    from bench.cost import records as cost_records

    if cost_records.is_cost_run(run_dir):  # instruction counts (bench.cost), not throughput
        from bench.cost.show import show

        against_dir = resolve_run(args.against, Path(args.output)) if args.against else None
        return show(run_dir, console, against_dir)
    records = list(iter_records(run_dir / "results.jsonl"))
    info = read_info(run_dir)
    cells = summarize(records, info.baseline)
    machine = machine_speed(records)
    print_summary(cells, info, console, machine, contention_banner(records))
    against = getattr(args, "against", None)
    if against:
        other_dir = resolve_run(against, Path(args.output))
        other = list(iter_records(other_dir / "results.jsonl"))
        table, worst = repeatability_table(cells, summarize(other, read_info(other_dir).baseline))
        console.print(table)
        verdict = "no cell in both runs" if worst is None else f"worst cell differs by {worst:.1%}"
        console.print(f"{run_dir.name} vs {other_dir.name}: {verdict}")
        change = machine_change(machine, machine_speed(other))
        console.print(change.line("this", "other"), highlight=False)
        sentence = change.verdict()
        if sentence:
            console.print(f"[bold yellow]{sentence}[/]", highlight=False)
    return 0


def command_gauge(args: argparse.Namespace, console: Console) -> int:
    """Gauge the machine's speed for a while: per-window speed, CV and a verdict (exit 0)."""
    if not args.seconds > 0:
        raise UsageError(f"--seconds must be positive, got {args.seconds}")
    try:
        cpus = parse_cpus(args.cpus)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # Per-second windows, but never fewer than 5 (a CV of one or two windows says nothing).
    window = min(1.0, args.seconds / 5)
    console.print(
        f"machine-speed gauge v{gauge.GAUGE_VERSION}: {args.seconds:g} s of fixed pure-Python "
        f"work on CPUs {cpus}, in windows of {window:g} s"
    )
    samples = gauge.sample(cpus, args.seconds, window)
    reading = gauge.reading(samples)
    if not samples.pinned:
        console.print(f"[yellow]could not pin to CPUs {cpus}: ran unpinned[/]")
    for index, rate in enumerate(samples.rates, start=1):
        relative = rate / reading.units_per_s
        console.print(f"  window {index:3d}  {rate:10,.0f} units/s  {relative:5.2f}x median")
    console.print(
        f"median {reading.units_per_s:,.0f} units/s, p10 {reading.p10:,.0f}, "
        f"p90 {reading.p90:,.0f}, CV {reading.cv:.1%}, thread CPU share "
        f"{samples.cpu_share:.0%}",
        highlight=False,
    )
    console.print(gauge_verdict(reading), highlight=False)
    return 0


def gauge_verdict(reading: gauge.GaugeReading) -> str:
    """``steady`` below 3% CV; otherwise how far figures will wander (half the p10-p90 band)."""
    if reading.cv < STEADY_CV:
        return f"steady: CV below {STEADY_CV:.0%} ({reading.cv:.1%})"
    band = (reading.p90 - reading.p10) / 2 / reading.units_per_s
    return (
        f"unsteady: CV {reading.cv:.1%}: figures from this machine will vary by about "
        f"±{band:.0%} run to run (half the p10-p90 band of its speed)"
    )


def command_list(args: argparse.Namespace, console: Console) -> int:
    console.print("[bold]frameworks[/] (bench/frameworks/<name>/):")
    for spec in frameworks.specs().values():
        cannot = "; ".join(f"no {what}" for what in spec.unsupported)
        console.print(
            f"  {spec.name:11} {spec.display:12} {spec.summary}"
            + (f" [dim]({cannot})[/]" if cannot else "")
        )
    console.print("[bold]servers[/]:")
    for spec in server_registry().values():
        console.print(f"  {spec.name:16} {spec.summary}")
    console.print("[bold]scenarios[/]:")
    for scenario in scenario_registry().values():
        console.print(f"  {scenario.name:15} {scenario.summary}")
    console.print("[bold]profiles[/]:")
    for profile in profiles.PROFILES.values():
        console.print(f"  {profile.name:6} {profile.summary}")
    console.print("[bold]drivers[/]:")
    for driver in DRIVERS.values():
        state = "available" if driver.available() else "MISSING"
        console.print(f"  {driver.name:10} {driver.protocol:5} {state}")
    return 0


def _common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--output", default=str(DEFAULT_REPORTS), help="reports directory")
    return parser


def run_parser() -> argparse.ArgumentParser:
    """Options of ``python -m bench run``."""
    run = argparse.ArgumentParser(
        prog="python -m bench run", description="Run a matrix and store its records."
    )
    run.add_argument("--profile", choices=list(profiles.PROFILES), default="quick")
    run.add_argument("--apps", help="comma-separated framework names (default: the profile's)")
    run.add_argument("--servers", help="comma-separated server names")
    run.add_argument("--scenarios", help="comma-separated scenario names")
    run.add_argument("--duration", type=int, help="seconds per measured run")
    run.add_argument("--warmup", type=int, help="seconds of discarded warm-up per cell (0: none)")
    run.add_argument("--primer", type=int, help="seconds of primer per server process (0: none)")
    run.add_argument("--runs", type=int, help="measured runs per cell (interleaved across apps)")
    run.add_argument("--concurrency", help="connection counts, e.g. 64 or 16,64,256 (a sweep)")
    run.add_argument("--server-cpus", help="CPU list for servers (default: first half)")
    run.add_argument("--generator-cpus", help="CPU list for the load generator (default: rest)")
    run.add_argument("--driver", choices=["auto", "wrk", "locust"], default="auto")
    run.add_argument("--seed", type=int, help="seed of the randomised inputs (default: random)")
    run.add_argument("--pool-size", type=int, default=512, help="requests in each load pool")
    run.add_argument("--check-samples", type=int, default=12, help="valid cases checked per cell")
    run.add_argument("--timeout", type=float, default=30.0, help="server start timeout (s)")
    run.add_argument(
        "--gauge-s",
        type=float,
        help=f"seconds of machine-speed gauge before each measured run (default {GAUGE_S:g}; "
        "0: no gauge)",
    )
    run.add_argument(
        "--workers",
        type=int,
        help="worker processes per server (default 1; give as many as "
        "--server-cpus has CPUs on a bigger host)",
    )
    run.add_argument(
        "--remeasure",
        type=int,
        metavar="N",
        help="measure a contended run again, up to N "
        "times; each rejected attempt is kept as a 'rejected' record (default 0)",
    )
    run.add_argument("--fail-on-failure", action="store_true", help="exit 1 if any cell failed")
    run.add_argument(
        "--dry-run", action="store_true", help="print what would be measured, measure nothing"
    )
    run.add_argument(
        "--resume",
        metavar="RUN",
        help="finish an interrupted run (id, prefix, path or 'latest') with its own "
        "configuration: stored records are kept and never redone",
    )
    return _common(run)


def show_parser() -> argparse.ArgumentParser:
    """Options of ``python -m bench show``."""
    show = argparse.ArgumentParser(
        prog="python -m bench show", description="Print the table of a stored run."
    )
    show.add_argument("run", nargs="?", default="latest")
    show.add_argument(
        "--against", metavar="RUN", help="also compare each cell's median with another run"
    )
    return _common(show)


def gauge_parser() -> argparse.ArgumentParser:
    """Options of ``python -m bench gauge``."""
    gauge_command = argparse.ArgumentParser(
        prog="python -m bench gauge",
        description="Measure how steady this machine's CPU speed is (exit 0 either way).",
    )
    gauge_command.add_argument("--seconds", type=float, default=10.0, help="how long (s)")
    gauge_command.add_argument("--cpus", default="0", help="CPU list to pin to (default 0)")
    return gauge_command


def list_parser() -> argparse.ArgumentParser:
    """``python -m bench list`` has no options."""
    return argparse.ArgumentParser(
        prog="python -m bench list",
        description="List the frameworks, servers, scenarios, profiles and load drivers.",
    )


Handler = Callable[[argparse.Namespace, Console], int]


def _entry(
    command: str, parser: argparse.ArgumentParser, handler: Handler, argv: Sequence[str]
) -> int:
    args = parser.parse_args(list(argv))
    args.argv = [command, *argv]  # what run.json records
    console = options.console()
    try:
        return handler(args, console)
    except (UsageError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return options.USAGE_EXIT


def run_main(argv: Sequence[str]) -> int:
    """``python -m bench run``."""
    return _entry("run", run_parser(), command_run, argv)


def show_main(argv: Sequence[str]) -> int:
    """``python -m bench show``."""
    return _entry("show", show_parser(), command_show, argv)


def gauge_main(argv: Sequence[str]) -> int:
    """``python -m bench gauge``."""
    return _entry("gauge", gauge_parser(), command_gauge, argv)


def list_main(argv: Sequence[str]) -> int:
    """``python -m bench list``."""
    return _entry("list", list_parser(), command_list, argv)
