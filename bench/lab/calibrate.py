"""``python -m bench calibrate``: measure the lab's resolving power on this machine, today.

    python -m bench calibrate [--profile quick] [--servers uvicorn] [--scenarios json]
                              [--slowdowns 5,10,20] [--repeats 3] [--runs N] [--duration S]
                              [--cost RUN] [--output reports]

1. The raw app's instructions per request on each cell of the profile: measured under
   callgrind (a cost run, kept in ``reports/runs/``), or read from ``--cost RUN``.
2. The price of the extra work: one iteration of :func:`bench.lab.calibration_app.spin` and the
   wrapper around it, counted under callgrind (``python -m bench.lab.calibration_app``).
3. For each slowdown (5%, 10%, 20%), the loop iterations adding that share of raw's instructions per
   cell, in a load file the slowed apps read.
4. One lab run (``reports/runs/<id>-calibration``) through the profile's protocol: ``raw``,
   ``raw-again`` and each ``raw-slow<p>`` interleaved, ``repeats`` x the profile's runs.
5. The analysis (:mod:`bench.lab.calibration`): per cell, the A/A false-positive rate and the
   detection rate of each slowdown for req/s and for the paired ratio, and the smallest
   slowdown detected reliably. Stored as ``reports/calibration/<run id>.json`` and printed.

Exit status: 0 when calibrated, 1 when a cell failed, 2 on bad options or without valgrind.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import frameworks
from bench.cost import callgrind
from bench.cost import plan as cost_plan
from bench.cost.records import RUN_SUFFIX, CostRecord, load
from bench.cost.runner import CostRunner, cost_store
from bench.infra import environment, options
from bench.infra.options import UsageError, default_cpus, raise_interrupt, split_ints, split_names
from bench.infra.process import ROOT, child_env, parse_cpus
from bench.infra.results import (
    Config,
    FrameworkInfo,
    RunInfo,
    RunStore,
    new_run_id,
    resolve_run,
    utc_now,
)
from bench.lab import calibration, profiles
from bench.lab.calibration import AGAIN, BASELINE, Calibration, Load, slow_app
from bench.lab.calibration_app import LOAD_ENV, SCENARIO_PATHS
from bench.lab.cli import GAUGE_S, RichProgress
from bench.lab.drivers import http_driver
from bench.lab.runner import Runner
from bench.lab.summary import summarize

DEFAULT_REPORTS = ROOT / "reports"
LOOP_CALLS = 2000
LOOP_ITERATIONS = 500


def parser() -> argparse.ArgumentParser:
    """Options of ``python -m bench calibrate``."""
    cli = argparse.ArgumentParser(
        prog="python -m bench calibrate",
        description="Measure the smallest slowdown the lab detects on this machine (A/A/B).",
    )
    cli.add_argument("--profile", choices=list(profiles.PROFILES), default="quick")
    cli.add_argument("--servers", help="comma-separated servers (default: the profile's)")
    cli.add_argument("--scenarios", help="comma-separated HTTP scenarios (default: profile's)")
    cli.add_argument(
        "--slowdowns", default="5,10,20", help="extra cost in percent (default 5,10,20)"
    )
    cli.add_argument("--runs", type=int, help="runs per group (default: the profile's)")
    cli.add_argument("--duration", type=int, help="seconds per run (default: the profile's)")
    cli.add_argument("--repeats", type=int, default=3, help="groups of the profile's runs")
    cli.add_argument("--cost", metavar="RUN", help="a cost run holding raw's Ir/request")
    cli.add_argument("--server-cpus", help="CPU list for servers (default: first half)")
    cli.add_argument("--generator-cpus", help="CPU list for the load generator (default: rest)")
    cli.add_argument("--seed", type=int, default=1, help="seed of the randomised inputs")
    cli.add_argument("--output", default=str(DEFAULT_REPORTS), help="reports directory")
    return cli


def runs_per_group(args: argparse.Namespace) -> int:
    """Runs per group: ``--runs``, else the profile's (what one run of the protocol has)."""
    runs: int = args.runs or profiles.PROFILES[args.profile].runs
    if runs < 2:
        raise UsageError(f"--runs must be at least 2 (a spread to test), got {runs}")
    return runs


def lab_config(args: argparse.Namespace) -> Config:
    """The lab run of the calibration: the profile's protocol over the four (or more) apps."""
    profile = profiles.PROFILES[args.profile]
    servers = split_names(args.servers, list(profile.servers or ()), "server") or list(
        profile.servers or ()
    )
    chosen = split_names(args.scenarios, list(SCENARIO_PATHS), "scenario")
    scenarios = chosen or [s for s in profile.scenarios or () if s in SCENARIO_PATHS]
    if not servers or not scenarios:
        raise UsageError(f"profile {profile.name} has no server or no scenario to calibrate")
    slowdowns = split_ints(args.slowdowns, "--slowdowns")
    if args.repeats < 2:
        raise UsageError(f"--repeats must be at least 2 (groups to compare), got {args.repeats}")
    server_cpus, generator_cpus = default_cpus()
    try:
        server_cpus = parse_cpus(args.server_cpus) if args.server_cpus else server_cpus
        generator_cpus = parse_cpus(args.generator_cpus) if args.generator_cpus else generator_cpus
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    slowed = [slow_app(percent) for percent in slowdowns]
    raw = frameworks.import_string(BASELINE)
    targets = {f"{AGAIN}:app": raw}
    targets |= {f"{name}:app": f"bench.lab.calibration_app:{{server}}__{name}" for name in slowed}
    return Config(
        profile=f"{calibration.PROFILE_PREFIX}{profile.name}",
        apps=[BASELINE, AGAIN, *slowed],
        servers=servers,
        scenarios=scenarios,
        concurrency=[profile.concurrency[0]],
        duration_s=float(args.duration or profile.duration),
        warmup_s=float(profile.warmup),
        primer_s=float(profile.primer),
        runs=runs_per_group(args) * args.repeats,
        server_cpus=server_cpus,
        generator_cpus=generator_cpus,
        driver=http_driver("auto").name,
        seed=args.seed,
        pool_size=512,
        check_samples=12,
        database="sqlite",
        timeout_s=30.0,
        gauge_s=GAUGE_S,
        targets=targets,
    )


def raw_costs(
    args: argparse.Namespace, config: Config, console: Console
) -> dict[tuple[str, str], float]:
    """raw's Ir/request per (server, scenario): from ``--cost RUN``, else measured now."""
    reports = Path(args.output)
    if args.cost:
        found = load(resolve_run(args.cost, reports))
    else:
        found = measure_raw(config, reports, console)
    costs = {
        (r.server, r.scenario): r.ir_per_request
        for r in found
        if r.app == BASELINE and r.ir_per_request
    }
    missing = [
        f"{server}/{scenario}"
        for server in config.servers
        for scenario in config.scenarios
        if (server, scenario) not in costs
    ]
    if missing:
        raise UsageError(f"no instruction count of raw for {', '.join(missing)}")
    return costs


def measure_raw(config: Config, reports: Path, console: Console) -> list[CostRecord]:
    """A cost run of raw on the calibration's cells (kept like any cost run)."""
    valgrind = callgrind.version()
    cost = cost_plan.CostConfig(
        profile="calibration",
        apps=(BASELINE,),
        servers=tuple(config.servers),
        scenarios=tuple(config.scenarios),
        server_cpus=tuple(config.server_cpus),
    )
    env = environment.collect()
    info = RunInfo(
        run_id=new_run_id(env.git.short) + RUN_SUFFIX,
        created_at=utc_now(),
        argv=[sys.executable, "-m", "bench", "calibrate"],
        config=config,
        env=env,
        frameworks=frameworks.run_frameworks([BASELINE]),
        notes=["raw's instructions per request for a calibration run"],
    )
    store = cost_store(reports, info)
    console.print(f"raw's instructions per request under callgrind -> {store.directory}")
    return CostRunner(
        cost, store, info, env, valgrind,
        report=lambda record: console.print(f"  {record.cell_id}: {record.ir_per_request}"),
    ).run()  # fmt: skip


def _counted(argv: Sequence[str]) -> int:
    """Total instructions of one Python process under callgrind."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "cg.out"
        done = subprocess.run(
            [callgrind.VALGRIND, "--tool=callgrind", f"--callgrind-out-file={out}",
             sys.executable, "-m", "bench.lab.calibration_app", *argv],
            capture_output=True, text=True, timeout=600, check=False,
            env=child_env({"PYTHONHASHSEED": "0"}),
        )  # fmt: skip
        if done.returncode != 0:
            raise callgrind.CallgrindError(f"pricing the loop failed: {done.stderr[-500:]}")
        return callgrind.read_totals(out)


def price_loop() -> tuple[float, float]:
    """(Ir per iteration of the loop, Ir of the wrapper per request), counted under callgrind."""
    bare = _counted(["0", str(LOOP_CALLS), "bare"])
    empty = _counted(["0", str(LOOP_CALLS)])
    spinning = _counted([str(LOOP_ITERATIONS), str(LOOP_CALLS)])
    per_iteration = (spinning - empty) / (LOOP_ITERATIONS * LOOP_CALLS)
    wrapper = max(0.0, (empty - bare) / LOOP_CALLS)
    return per_iteration, wrapper


def loads_for(
    config: Config,
    slowdowns: Sequence[int],
    costs: dict[tuple[str, str], float],
    per_iteration: float,
    wrapper: float,
) -> tuple[dict[str, dict[str, dict[str, int]]], dict[tuple[str, str], list[Load]]]:
    """The load file's content (server -> variant -> path prefix -> iterations) and each
    cell's loads."""
    table: dict[str, dict[str, dict[str, int]]] = {}
    by_cell: dict[tuple[str, str], list[Load]] = {}
    for server in config.servers:
        for percent in slowdowns:
            variant = table.setdefault(server, {}).setdefault(slow_app(percent), {})
            for scenario in config.scenarios:
                raw_ir = costs[(server, scenario)]
                wanted = percent / 100 * raw_ir - wrapper
                iterations = max(0, round(wanted / per_iteration))
                variant[SCENARIO_PATHS[scenario]] = iterations
                by_cell.setdefault((server, scenario), []).append(
                    Load(
                        percent=percent,
                        iterations=iterations,
                        extra_ir=round(wrapper + iterations * per_iteration, 1),
                        raw_ir=round(raw_ir, 1),
                    )
                )
    return table, by_cell


def result_table(result: Calibration) -> Table:
    """The calibration's per-cell figures."""
    table = Table(
        title=f"Resolving power: profile {result.profile}, {result.repeats} groups of "
        f"{result.runs} runs of {result.duration_s:g} s, alpha {result.alpha}, threshold "
        f"{result.threshold:.0%}, reliable = detected in {result.reliable:.0%} of comparisons",
        title_justify="left",
    )
    for column in ("cell", "A/A false positives req/s", "ratio"):
        table.add_column(column, justify="left" if column == "cell" else "right")
    for percent in result.slowdowns:
        table.add_column(f"+{percent}% detected req/s", justify="right")
        table.add_column("ratio", justify="right")
    table.add_column("resolves req/s", justify="right")
    table.add_column("resolves ratio", justify="right")
    for cell in result.cells:
        row = [
            cell.cell,
            f"{cell.rps_false_positives.hits}/{cell.rps_false_positives.trials}",
            f"{cell.ratio_false_positives.hits}/{cell.ratio_false_positives.trials}",
        ]
        for percent in result.slowdowns:
            rps, ratio = cell.rps_detected[str(percent)], cell.ratio_detected[str(percent)]
            row += [f"{rps.hits}/{rps.trials}", f"{ratio.hits}/{ratio.trials}"]
        biggest = max(result.slowdowns)
        row += [
            f">= {cell.rps_resolves}%" if cell.rps_resolves else f"> {biggest}%",
            f">= {cell.ratio_resolves}%" if cell.ratio_resolves else f"> {biggest}%",
        ]
        table.add_row(*row)
    return table


def command(args: argparse.Namespace, console: Console) -> int:
    """Calibrate; print and store the result."""
    config = lab_config(args)
    slowdowns = split_ints(args.slowdowns, "--slowdowns")
    try:
        costs = raw_costs(args, config, console)
        per_iteration, wrapper = price_loop()
    except callgrind.CallgrindError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return options.USAGE_EXIT
    console.print(
        f"the loop costs {per_iteration:.1f} Ir per iteration, its wrapper {wrapper:,.0f} Ir "
        "per request (callgrind)",
        highlight=False,
    )
    table, loads = loads_for(config, slowdowns, costs, per_iteration, wrapper)
    env = environment.collect()
    info = RunInfo(
        run_id=new_run_id(env.git.short) + "-calibration",
        created_at=utc_now(),
        argv=[sys.executable, "-m", "bench", *args.argv],
        config=config,
        env=env,
        frameworks=[
            *frameworks.run_frameworks([BASELINE]),
            *(FrameworkInfo(name=app, display=app) for app in config.apps[1:]),
        ],
        baseline=BASELINE,
    )
    store = RunStore.create(Path(args.output), info)
    load_file = store.path("calibration-load.json")
    load_file.write_text(json.dumps(table, indent=1))
    os.environ[LOAD_ENV] = str(load_file)  # the servers inherit it
    console.print(f"calibration run [bold]{info.run_id}[/] -> {store.directory}")
    progress = RichProgress(console)
    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    started = time.monotonic()
    try:
        Runner(config, store, info, env, progress).run()
    except KeyboardInterrupt:
        console.print("[bold red]interrupted[/]: no calibration stored")
        return 130
    finally:
        progress.close()
        signal.signal(signal.SIGTERM, previous)
    records = store.records()
    profile = profiles.PROFILES[args.profile]
    result = Calibration(
        run_id=info.run_id,
        created_at=utc_now(),
        profile=profile.name,
        duration_s=config.duration_s,
        warmup_s=config.warmup_s,
        runs=runs_per_group(args),
        repeats=args.repeats,
        concurrency=config.concurrency[0],
        server_cpus=config.server_cpus,
        generator_cpus=config.generator_cpus,
        alpha=calibration.ALPHA,
        threshold=calibration.THRESHOLD,
        reliable=calibration.RELIABLE,
        slowdowns=list(slowdowns),
        per_iteration_ir=round(per_iteration, 2),
        wrapper_ir=round(wrapper, 1),
        cells=[
            calibration.analyse_cell(
                records,
                server,
                scenario,
                config.concurrency[0],
                runs_per_group(args),
                slowdowns,
                loads.get((server, scenario), []),
            )
            for server in config.servers
            for scenario in config.scenarios
        ],
        env=env,
    )
    path = calibration.store(Path(args.output), result)
    console.print(result_table(result))
    for cell in summarize(records, BASELINE):
        if cell.refusals:
            console.print(f"[yellow]{cell.cell_id}: {'; '.join(cell.refusals)}[/]")
    console.print(
        f"wall time {time.monotonic() - started:.0f}s; calibration in {path} (compare and the "
        "report quote it for runs of this profile on this machine)",
        highlight=False,
    )
    return 1 if any(record.kind == "failure" for record in records) else 0


def main(argv: Sequence[str]) -> int:
    """``python -m bench calibrate`` (argv without the command name)."""
    args = parser().parse_args(list(argv))
    args.argv = ["calibrate", *argv]
    console = options.console()
    try:
        return command(args, console)
    except (UsageError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return options.USAGE_EXIT
