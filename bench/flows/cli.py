"""``python -m bench.flows`` (also ``python -m bench loadtest``, ``nox -s loadtest --``).

    python -m bench.flows [--app velocix] [--server granian] [--users 20] [--spawn-rate 5]
                          [--time 20s] [--workers 2] [--think 0.5,2]
                          [--ceiling measure|reuse|off] [--ceiling-only]
                          [--server-cpus 0] [--generator-cpus 1] [--output reports]
                          [--remote-workers R --target URL --master-bind 0.0.0.0 --master-port 5557]

Runs the journeys of :mod:`bench.flows.journeys` with one Locust master and ``--workers``
worker processes, stores the records in a new run of the lab's store and prints, for each
request name, the answers, failures, rates and percentiles, with Locust's ceiling per worker
next to the run's own rate per worker. Exit status: 0 when the run produced figures (failed
requests are figures), 1 when it could not (server did not start, wrong answers before load,
Locust failed), 2 for bad options, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench import frameworks
from bench.flows.locust_csv import AGGREGATED
from bench.flows.records import SOURCE
from bench.flows.runner import Loadtest, Options, Outcome
from bench.flows.topology import MASTER_HOST
from bench.infra import options as cli_options
from bench.infra.options import UsageError, default_cpus, raise_interrupt
from bench.infra.process import ROOT, parse_cpus
from bench.infra.results import FLAG_GENERATOR_BOUND, Record
from bench.infra.servers import registry as servers

DEFAULT_REPORTS = ROOT / "reports"
LOCUST_PORT = 5557
"""Locust's own default master port: what a firewall rule for remote workers opens."""
ANY_INTERFACE = "0.0.0.0"
DURATION = re.compile(r"^(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$")


def seconds(text: str) -> float:
    """``20``, ``20s``, ``1m`` or ``1m30s`` as seconds (at least 1)."""
    match = DURATION.match(text.strip())
    if not text.strip() or match is None or not (match["m"] or match["s"]):
        raise UsageError(f"a duration is like 20, 20s, 1m or 1m30s, got {text!r}")
    value = float(match["m"] or 0) * 60 + float(match["s"] or 0)
    if value < 1:
        raise UsageError(f"a duration must be at least 1s, got {text!r}")
    return value


def think_range(text: str) -> tuple[float, float]:
    """``0.5,2`` (min,max seconds) or one value for a constant pause."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(f"--think is MIN,MAX seconds, e.g. 0.5,2; got {text!r}") from None
    low, high = (values[0], values[0]) if len(values) == 1 else (values[0], values[-1])
    if len(values) > 2 or low < 0 or high < low:
        raise UsageError(f"--think is MIN,MAX seconds with 0 <= MIN <= MAX, got {text!r}")
    return low, high


def positive(name: str, value: float, low: float = 1) -> None:
    """Refuse ``value`` below ``low`` with a message naming the option."""
    if value < low:
        raise UsageError(f"{name} must be at least {low:g}, got {value:g}")


def options_of(args: argparse.Namespace) -> Options:
    """Validated :class:`Options` from parsed arguments."""
    if args.app not in frameworks.names():
        raise UsageError(f"unknown app {args.app!r}; known: {', '.join(frameworks.names())}")
    if args.server not in servers():
        raise UsageError(f"unknown server {args.server!r}; known: {', '.join(servers())}")
    positive("--users", args.users)
    positive("--workers", args.workers)
    positive("--spawn-rate", args.spawn_rate, 0.1)
    positive("--ceiling-users", args.ceiling_users)
    server_cpus, generator_cpus = default_cpus()
    try:
        server_cpus = parse_cpus(args.server_cpus) if args.server_cpus else server_cpus
        generator_cpus = parse_cpus(args.generator_cpus) if args.generator_cpus else generator_cpus
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    think_min, think_max = think_range(args.think)
    remote = args.remote_workers
    if remote < 0:
        raise UsageError(f"--remote-workers must be 0 or more, got {remote}")
    if args.target is not None and not args.target.startswith(("http://", "https://")):
        raise UsageError(f"--target must be an http:// or https:// URL, got {args.target!r}")
    port = args.master_port if args.master_port is not None else (
        LOCUST_PORT if remote else None
    )  # fmt: skip
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"--master-port must be a TCP port, got {port}")
    return Options(
        app=args.app,
        server=args.server,
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time_s=seconds(args.time),
        workers=args.workers,
        think_min_s=think_min,
        think_max_s=think_max,
        server_cpus=tuple(server_cpus),
        generator_cpus=tuple(generator_cpus),
        seed=args.seed if args.seed is not None else random.randrange(2**31),
        reports=Path(args.output),
        ceiling=args.ceiling,
        ceiling_only=args.ceiling_only,
        ceiling_time_s=seconds(args.ceiling_time),
        ceiling_users=args.ceiling_users,
        start_timeout_s=args.timeout,
        target=args.target,
        remote_workers=remote,
        master_bind=args.master_bind or (ANY_INTERFACE if remote else MASTER_HOST),
        master_port=port,
        wait_workers_s=seconds(args.wait_workers or ("5m" if remote else "30s")),
    )


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m bench.flows``."""
    cli = argparse.ArgumentParser(
        prog="python -m bench.flows",
        description="User-flow load with Locust: one master and K worker processes.",
    )
    cli.add_argument(
        "--app", default="velocix", help="framework of bench/frameworks (default velocix)"
    )
    cli.add_argument("--server", default="granian", help="server of bench/servers")
    cli.add_argument("--users", type=int, default=20, help="simulated users (default 20)")
    cli.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second")
    cli.add_argument("--time", default="20s", help="run time: 20, 20s, 1m (default 20s)")
    cli.add_argument("--workers", type=int, default=2, help="Locust worker processes")
    cli.add_argument("--think", default="0.5,2", help="think time MIN,MAX seconds")
    cli.add_argument(
        "--ceiling",
        choices=["measure", "reuse", "off"],
        default="measure",
        help="Locust's ceiling per worker: measure it first (default), reuse the newest "
        "stored one for this CPU and Locust version, or skip it",
    )
    cli.add_argument("--ceiling-only", action="store_true", help="only measure the ceiling")
    cli.add_argument("--ceiling-time", default="10s", help="ceiling run time (default 10s)")
    cli.add_argument("--ceiling-users", type=int, default=32, help="ceiling users (default 32)")
    cli.add_argument("--server-cpus", help="CPU list of the server (default: first CPU)")
    cli.add_argument("--generator-cpus", help="CPU list of Locust (default: the others)")
    cli.add_argument("--seed", type=int, help="seed of the world table and the checks")
    cli.add_argument("--timeout", type=float, default=30.0, help="server start timeout (s)")
    cli.add_argument("--output", default=str(DEFAULT_REPORTS), help="reports directory")
    hosts = cli.add_argument_group("workers on other hosts (see the README)")
    hosts.add_argument(
        "--remote-workers", type=int, default=0,
        help="workers started by hand on other hosts, on top of --workers (default 0)",
    )  # fmt: skip
    hosts.add_argument(
        "--target", help="URL of an already running server the remote workers can reach "
        "(its world table built with the same --seed); default: start --app on --server here",
    )  # fmt: skip
    hosts.add_argument("--master-bind", help="master's listening address (0.0.0.0 if remote)")
    hosts.add_argument("--master-port", type=int, help="master's port (5557 if remote)")
    hosts.add_argument("--wait-workers", help="how long to wait for workers (30s; 5m if remote)")
    return cli


# -- terminal output --------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def per_worker(record: Record) -> str:
    """``"24 of 1,291 (2%)"``: the run's rate per worker next to Locust's ceiling."""
    stats = record.locust
    if stats is None:
        return ""
    if record.phase == "calibration":
        whole = stats.rps_per_worker_cpu
        at_cpu = f" (~{whole:,.0f} at a whole CPU)" if whole else ""
        return f"{stats.rps_per_worker:,.0f} = the ceiling{at_cpu}"
    ceiling = stats.ceiling_rps_per_worker
    if not ceiling:
        return f"{stats.rps_per_worker:,.0f} of ? (not measured)"
    share = 100.0 * stats.rps_per_worker / ceiling
    return f"{stats.rps_per_worker:,.0f} of {ceiling:,.0f} ({share:.0f}%)"


def request_table(records: Sequence[Record]) -> Table:
    """One row per request name of the Locust records, the aggregate last."""
    table = Table(title="Locust user flows (only correct answers count)", title_justify="left")
    for column in ("phase", "type", "name", "answers", "failures", "ok req/s"):
        table.add_column(column, justify="right" if column[0] in "aof" else "left")
    for column in ("p50 ms", "p95 ms", "p99 ms", "max ms", "req/s per worker vs ceiling"):
        table.add_column(column, justify="right")
    for record in records:
        stats = record.locust
        if stats is None or record.kind != "measurement":
            continue
        percentiles = stats.percentiles_ms
        style = "bold" if stats.name == AGGREGATED else None
        table.add_row(
            record.phase,
            stats.request_type,
            escape(stats.name),
            str(record.requests),
            str(stats.failures),
            f"{record.rps or 0:.1f}",
            _ms(percentiles.get("50%")),
            _ms(percentiles.get("95%")),
            _ms(percentiles.get("99%")),
            _ms(percentiles.get("100%")),
            per_worker(record) if stats.name == AGGREGATED else "",
            style=style,
        )
    return table


def print_outcome(outcome: Outcome, console: Console) -> None:
    """The table, the topology, the ceiling next to each result, failures and flags."""
    records = [record for record in outcome.records if record.source == SOURCE]
    console.print(request_table(records))
    for record in records:
        stats = record.locust
        if record.kind == "failure":
            console.print(
                f"[bold red]FAILED[/] {escape(record.record_id)}: {escape(record.reason or '')}"
            )
            continue
        if stats is None or stats.name != AGGREGATED:
            continue
        topo = stats.topology
        console.print(
            f"{record.cell_id} ({record.phase}): 1 master "
            f"{topo.master_host}:{topo.master_port} (CPUs {topo.master_cpus}) + "
            f"{topo.workers} worker(s) on CPUs {topo.worker_cpus}, {topo.users} users "
            f"+{topo.spawn_rate:g}/s, {topo.run_time_s:g}s, Locust {topo.locust_version}, "
            f"{topo.locustfile} {', '.join(topo.user_classes)}",
            markup=False,
        )
        console.print(f"  {escape(record.reason or '')}")
        if FLAG_GENERATOR_BOUND in record.flags and record.phase == "run":
            console.print("  [bold yellow]generator-bound[/]: add workers (or hosts)")
        if record.flags:
            console.print(f"  flags: {', '.join(record.flags)}")
        for message, count in list(stats.failure_messages.items())[:5]:
            console.print(f"  [red]{count} x[/] {escape(message)}")
    console.print(f"run [bold]{outcome.store.directory.name}[/] ({outcome.status}): "
                  f"{outcome.store.results_path}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.flows`` and ``python -m bench loadtest``."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    console = cli_options.console()
    try:
        options = options_of(parser().parse_args(arguments))
    except UsageError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    if options.generator_cpus == options.server_cpus and len(os.sched_getaffinity(0)) > 1:
        console.print("[yellow]server and Locust share CPUs: results will be flagged unpinned[/]")
    try:
        loadtest = Loadtest(
            options,
            [sys.executable, "-m", "bench.flows", *arguments],
            lambda line: console.print(line, markup=False),
        )
    except OSError as exc:
        console.print(f"[red]error:[/] cannot create the run in {options.reports}: {exc}")
        return 2
    console.print(f"run [bold]{loadtest.info.run_id}[/] -> {loadtest.store.directory}")
    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        outcome = loadtest.run()
    except KeyboardInterrupt:
        console.print("[bold red]interrupted[/]: every Locust and server process was stopped")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print_outcome(outcome, console)
    return 0 if outcome.status == "complete" else 1
