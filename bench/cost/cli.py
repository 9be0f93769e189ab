"""``python -m bench cost``: count each cell's instructions per request under callgrind.

    python -m bench cost --profile smoke --gate          # CI: fail on +3% over the baseline
    python -m bench cost --profile smoke --update-baseline   # refresh bench/cost/baseline.json
    python -m bench cost [--profile quick|field|smoke] [--apps raw,velocix] [--servers uvicorn]
                         [--scenarios plaintext,json] [--requests 1000] [--warmup 200]
                         [--seed 1] [--server-cpus 0] [--timeout 120] [--output reports]

The selection is parsed as ``python -m bench run`` parses it (names checked against the
registries); only HTTP scenarios can be counted. Exit status: 0 when every cell was
measured, 1 when a cell failed, 2 on bad options or when valgrind is missing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec
from rich.console import Console

from bench import frameworks
from bench.cost import callgrind, gate, plan
from bench.cost.records import RUN_SUFFIX, CostRecord
from bench.cost.runner import CostRunner, cost_store
from bench.cost.show import show
from bench.infra import environment, options
from bench.infra.options import UsageError, default_cpus, raise_interrupt, split_names
from bench.infra.process import ROOT, parse_cpus
from bench.infra.results import Config, RunInfo, new_run_id, utc_now
from bench.infra.servers import registry as server_registry
from bench.lab.scenarios import registry as scenario_registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m bench cost``."""
    parser.add_argument("--profile", choices=list(plan.PROFILES), default="quick")
    parser.add_argument("--apps", help="comma-separated app names (default: the profile's)")
    parser.add_argument("--servers", help="comma-separated server names")
    parser.add_argument("--scenarios", help="comma-separated HTTP scenario names")
    parser.add_argument(
        "--requests", type=int, default=plan.DEFAULT_REQUESTS, help="measured requests per cell"
    )
    parser.add_argument(
        "--warmup", type=int, default=plan.DEFAULT_WARMUP, help="uncounted requests before them"
    )
    parser.add_argument(
        "--seed", type=int, default=plan.DEFAULT_SEED, help="seed of the request pools"
    )
    parser.add_argument("--pool-size", type=int, default=plan.DEFAULT_POOL_SIZE)
    parser.add_argument("--server-cpus", help="CPU list for servers (default: first CPU)")
    parser.add_argument(
        "--timeout", type=float, default=plan.DEFAULT_TIMEOUT_S, help="server start timeout (s)"
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--gate",
        action="store_true",
        help=f"fail (exit 1) when {gate.GATED_APP}'s Ir/request ratio to raw grew more than "
        f"{gate.THRESHOLD:.0%} over the committed baseline in any cell",
    )
    what.add_argument(
        "--update-baseline",
        action="store_true",
        help="write bench/cost/baseline.json from this run (take it with --profile smoke)",
    )
    parser.add_argument(
        "--baseline", default=str(gate.BASELINE_FILE), help="the baseline file --gate reads"
    )


def build_config(args: argparse.Namespace) -> plan.CostConfig:
    """The cost configuration: the profile's selection overridden by the options given."""
    profile = plan.PROFILES[args.profile]
    chosen_apps = split_names(args.apps, frameworks.names(), "app") or list(
        profile.apps or frameworks.names()
    )
    chosen_servers = split_names(args.servers, list(server_registry()), "server") or list(
        profile.servers
    )
    chosen = split_names(args.scenarios, list(scenario_registry()), "scenario")
    scenarios = tuple(chosen or profile.scenarios)
    http = plan.http_scenarios(scenarios)
    if chosen and len(http) != len(scenarios):
        other = sorted(set(scenarios) - set(http))
        raise UsageError(f"only HTTP scenarios have a per-request cost: drop {', '.join(other)}")
    for name, value, low in (
        ("--requests", args.requests, 1),
        ("--warmup", args.warmup, 0),
        ("--pool-size", args.pool_size, 1),
    ):
        if value < low:
            raise UsageError(f"{name} must be at least {low}, got {value}")
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    cpus = default_cpus()[0]
    if args.server_cpus:
        try:
            cpus = parse_cpus(args.server_cpus)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return plan.CostConfig(
        profile=profile.name,
        apps=tuple(chosen_apps),
        servers=tuple(chosen_servers),
        scenarios=http,
        requests=args.requests,
        warmup=args.warmup,
        seed=args.seed,
        pool_size=args.pool_size,
        server_cpus=tuple(cpus),
        timeout_s=args.timeout,
    )


def lab_config(config: plan.CostConfig) -> Config:
    """The run.json configuration of a cost run (profile ``cost-<name>``; no load fields)."""
    return Config(
        profile=f"cost-{config.profile}",
        apps=list(config.apps),
        servers=list(config.servers),
        scenarios=list(config.scenarios),
        concurrency=[1],
        duration_s=0.0,
        warmup_s=0.0,
        primer_s=0.0,
        runs=1,
        server_cpus=list(config.server_cpus),
        generator_cpus=[],
        driver=callgrind.CONTROL,
        seed=config.seed,
        pool_size=config.pool_size,
        check_samples=0,
        database="sqlite",
        timeout_s=config.timeout_s,
        gauge_s=0.0,
    )


def _line(record: CostRecord) -> str:
    if record.ir_per_request is None:
        return f"[red]FAILED[/] {record.cell_id}: {record.reason}"
    return (
        f"{record.cell_id}: {record.ir_per_request:,.0f} Ir/request "
        f"({len(record.processes)} process{'es' if len(record.processes) > 1 else ''})"
    )


def command_cost(args: argparse.Namespace, console: Console) -> int:
    """Measure the selection into a new cost run; print its table."""
    config = build_config(args)
    try:
        valgrind = callgrind.version()
    except callgrind.CallgrindError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    env = environment.collect()
    info = RunInfo(
        run_id=new_run_id(env.git.short) + RUN_SUFFIX,
        created_at=utc_now(),
        argv=[sys.executable, "-m", "bench", *args.argv],
        config=lab_config(config),
        env=env,
        frameworks=frameworks.run_frameworks(list(config.apps)),
        baseline=frameworks.BASELINE,
        notes=[
            f"cost run ({valgrind}): {config.requests} requests after {config.warmup} warm-up "
            "per cell, one keep-alive connection, sequential; figures in cost.jsonl"
        ],
    )
    store = cost_store(Path(args.output), info)
    console.print(f"cost run [bold]{info.run_id}[/] -> {store.directory}")
    started = time.monotonic()
    runner = CostRunner(
        config,
        store,
        info,
        env,
        valgrind,
        report=lambda record: console.print(_line(record), highlight=False),
        announce=lambda text: console.print(f"[dim]{text}[/]", highlight=False),
    )
    # SIGTERM (CI cancelling, nox) must stop the valgrind process groups as Ctrl-C does.
    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        done = runner.run()
    except KeyboardInterrupt:
        console.print("[bold red]interrupted[/]: finished cells are stored")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    show(store.directory, console)
    console.print(f"wall time {time.monotonic() - started:.0f}s; records in {store.directory}")
    failed = any(record.kind == "failure" for record in done)
    if args.update_baseline:
        return update_baseline(store.directory, done, store.info(), failed, console)
    if args.gate:
        return run_gate(store.directory, done, store.info(), Path(args.baseline), console)
    return 1 if failed else 0


def run_gate(
    run_dir: Path, done: Sequence[CostRecord], info: RunInfo, path: Path, console: Console
) -> int:
    """Check the run against the committed baseline; print why it passed, failed or skipped."""
    try:
        baseline = gate.read_baseline(path)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UsageError(f"unreadable cost baseline {path}: {exc}") from None
    result = gate.check(run_dir, done, info, baseline)
    style = {"pass": "green", "fail": "bold red", "skipped": "bold yellow"}[result.status]
    for line in result.lines:
        console.print(
            line, style=style if not line.startswith(" ") else None, highlight=False, markup=False
        )
    failed = any(record.kind == "failure" for record in done)
    return 1 if failed else result.exit_code


def update_baseline(
    run_dir: Path, done: Sequence[CostRecord], info: RunInfo, failed: bool, console: Console
) -> int:
    """Write bench/cost/baseline.json from this run (refused when a cell failed)."""
    if failed:
        console.print("[bold red]not updating the baseline[/]: a cell failed", highlight=False)
        return 1
    try:
        baseline = gate.make_baseline(run_dir, done, info, frameworks.BASELINE)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    gate.write_baseline(baseline)
    console.print(
        f"wrote {gate.BASELINE_FILE} ({len(baseline.cells)} cells, Python {baseline.python}, "
        f"{baseline.valgrind}): commit it with the change that moved it",
        highlight=False,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    """Options of ``python -m bench cost``."""
    cost = argparse.ArgumentParser(
        prog="python -m bench cost",
        description="Instructions per request of each cell under valgrind/callgrind.",
    )
    add_arguments(cost)
    cost.add_argument("--output", default=str(ROOT / "reports"), help="reports directory")
    return cost


def main(argv: Sequence[str]) -> int:
    """``python -m bench cost`` (argv without the command name)."""
    args = parser().parse_args(list(argv))
    args.argv = ["cost", *argv]  # what run.json records
    console = options.console()
    try:
        return command_cost(args, console)
    except (UsageError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return options.USAGE_EXIT
