"""Command line: ``python -m conformance {run,check,render,cases,rules}``.

* ``run`` -- the framework x server matrix (``--profile quick|full``), stored under
  ``reports/conformance/<run>/``, rendered as HTML, gated by ``expectations.toml``;
* ``check module:app [--server ...]`` -- the generic checks on anyone's ASGI app;
* ``render [RUN]`` -- re-render a stored run; ``cases`` / ``rules`` -- list what is checked.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from conformance import expectations, records
from conformance.cases.model import KINDS, Outcome

STYLE = {
    "pass": "green",
    "fail": "bold red",
    "skip": "dim",
    "not_applicable": "dim",
    "spec_ambiguous": "yellow",
}
console = Console(highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and dispatch; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except (expectations.ExpectationsError, FileNotFoundError, ValueError, KeyError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2
    return code


def _parser() -> argparse.ArgumentParser:
    from conformance.runner import PROFILES

    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(required=True, metavar="command")

    run = sub.add_parser("run", help="run the framework x server matrix and gate it")
    run.add_argument("--profile", choices=sorted(PROFILES), default="full")
    run.add_argument("--framework", action="append", help="only these frameworks (repeat)")
    run.add_argument("--server", action="append", help="only these servers (repeat)")
    run.add_argument("--case", action="append", help="only case ids matching (glob, repeat)")
    run.add_argument("--jobs", type=int, default=2, help="cells run at once (default 2)")
    run.add_argument("--reports", type=Path, default=records.REPORTS)
    run.add_argument("--no-crosscheck", action="store_true", help="skip the asgion cross-check")
    run.set_defaults(handler=cmd_run)

    check = sub.add_parser("check", help="check any ASGI app (module:attribute)")
    check.add_argument("app", help="the app to check, as module:attribute")
    check.add_argument(
        "--server", default="inprocess", help="inprocess (default), uvicorn, granian or hypercorn"
    )
    check.add_argument("--path", action="append", help="GET paths to exercise (default /)")
    check.add_argument("--case", action="append", help="only case ids matching (glob)")
    check.add_argument("--verbose", "-v", action="store_true", help="show passing checks too")
    check.set_defaults(handler=cmd_check)

    render = sub.add_parser("render", help="re-render a stored run as HTML")
    render.add_argument("run", nargs="?", default="latest")
    render.add_argument("--reports", type=Path, default=records.REPORTS)
    render.set_defaults(handler=cmd_render)

    sub.add_parser("cases", help="list the cases").set_defaults(handler=cmd_cases)
    sub.add_parser("rules", help="list the validator's rules").set_defaults(handler=cmd_rules)

    cell = sub.add_parser("_cell", help=argparse.SUPPRESS)
    cell.add_argument("--framework", required=True)
    cell.add_argument("--server", required=True)
    cell.add_argument("--out", type=Path, required=True)
    cell.add_argument("--case", action="append")
    cell.add_argument("--cpu", type=int, default=0)
    cell.set_defaults(handler=cmd_cell)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    """Run the matrix, store the records, render the HTML, apply the gate."""
    from conformance import render, runner

    profile = runner.PROFILES[args.profile]
    cells = runner.plan(profile, args.framework, args.server)
    deviations = expectations.load()
    run_dir = records.new_run_dir(args.reports)
    console.print(f"conformance: {len(cells)} cells, profile {profile.name} -> {run_dir}")
    started = time.time()

    def progress(record: dict[str, Any]) -> None:
        counts = {k: sum(r["kind"] == k for r in record["results"]) for k in KINDS}
        shown = " ".join(f"[{STYLE[k]}]{k}={v}[/]" for k, v in counts.items() if v)
        error = f" [red]({record['error']})[/]" if record.get("error") else ""
        console.print(
            f"  {record['framework']:>9} x {record['server']:<9} "
            f"{record.get('duration_s', 0):6.1f}s  {shown}{error}"
        )

    cell_records = runner.run_matrix(cells, args.case, run_dir, jobs=args.jobs, progress=progress)
    gate = expectations.evaluate(cell_records, deviations)
    for record in cell_records:
        records.write_json(
            run_dir
            / records.CELLS_DIR
            / f"{records.cell_name(record['framework'], record['server'])}.json",
            record,
        )
    info: dict[str, Any] = {
        "schema": records.RUN_SCHEMA,
        "run_id": run_dir.name,
        "profile": profile.name,
        "started": started,
        "environment": records.environment(),
        "cells": [records.cell_name(f, s) for f, s in cells],
        "case_filter": args.case,
        "deviations": [d.to_dict() for d in deviations],
        "gate": gate,
    }
    if not args.no_crosscheck and any(server == "inprocess" for _, server in cells):
        from conformance import crosscheck

        info["crosscheck"] = crosscheck.run([f for f, s in cells if s == "inprocess"])
    info["duration_s"] = round(time.time() - started, 1)
    records.write_json(run_dir / records.RUN_FILE, info)
    page = render.render_page(run_dir)
    records.point_latest(run_dir)
    _print_summary(cell_records, gate, info)
    console.print(f"HTML: {page}")
    return 0 if gate["passed"] else 1


def _print_summary(cells: list[dict[str, Any]], gate: dict[str, Any], info: dict[str, Any]) -> None:
    table = Table(title="conformance matrix")
    for column in ("framework", "server", *KINDS, "unexpected"):
        table.add_column(column, justify="right" if column in KINDS else "left")
    for cell in cells:
        counts = [str(sum(r["kind"] == k for r in cell["results"])) for k in KINDS]
        unexpected = sum(
            r.get("verdict") in ("unexpected-fail", "unexpected-pass") for r in cell["results"]
        )
        table.add_row(
            cell["framework"],
            cell["server"],
            *counts,
            f"[bold red]{unexpected}[/]" if unexpected else "0",
        )
    console.print(table)
    for item in gate["unexpected"]:
        console.print(
            f"[bold red]{item['verdict']}[/] {item['id']} {item['framework']} x "
            f"{item['server']}: {item['detail']}"
        )
    crosscheck = info.get("crosscheck")
    if crosscheck:
        console.print(
            f"asgion {crosscheck.get('asgion_version')} cross-check: {crosscheck.get('summary')}"
        )
        _print_disagreements(crosscheck.get("disagreements", []))
    verdict = "[green]passed[/]" if gate["passed"] else "[bold red]FAILED[/]"
    console.print(
        f"gate {verdict} in {info['duration_s']:.0f} s "
        f"({gate['counts'].get('expected-fail', 0)} known deviations)"
    )


def _print_disagreements(disagreements: list[dict[str, Any]]) -> None:
    """Each distinct disagreement once, with how often it occurred and why."""
    grouped: dict[str, list[str]] = {}
    for item in disagreements:
        for reason in item.get("reasons", [item["reason"]]):
            grouped.setdefault(reason, []).append(item["where"])
    for reason, places in sorted(grouped.items(), key=lambda kv: -len(kv[1])):
        console.print(f"  [dim]{len(places):3d}x[/] {reason} [dim](e.g. {places[0]})[/]")


def cmd_check(args: argparse.Namespace) -> int:
    """The generic checks on a user's app; non-zero exit on any failure."""
    from conformance import runner
    from conformance.cases.model import Context

    if ":" not in args.app:
        raise ValueError(f"app {args.app!r} must be given as module:attribute")
    sys.path.insert(0, os.getcwd())
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])
    )
    if args.server not in runner.server_names():
        raise ValueError(f"unknown server {args.server!r}; one of {runner.server_names()}")
    workdir = records.REPORTS / "check-logs"
    target = runner.open_target(args.server, args.app, workdir, (0,))
    ctx = Context(
        "custom",
        args.server,
        frozenset(),
        target,
        workdir,
        args.app,
        traffic=tuple(args.path or ["/"]),
        check_mode=True,
    )
    console.print(f"checking [bold]{args.app}[/] on [bold]{args.server}[/]")

    def show(case_id: str, outcome: Outcome) -> None:
        if outcome.kind == "not_applicable" and not args.verbose:
            return
        if outcome.kind == "pass" and not args.verbose:
            return
        console.print(
            f"  [{STYLE[outcome.kind]}]{outcome.kind:>14}[/] {case_id:5} {outcome.detail[:160]}"
        )

    try:
        results = runner.run_cases(ctx, runner.select(args.case), show)
    finally:
        ctx.close()
        target.close()
    counts = {k: sum(r["kind"] == k for r in results) for k in KINDS}
    console.print("  ".join(f"[{STYLE[k]}]{v} {k}[/]" for k, v in counts.items()))
    verdict = "[green]conforms[/]" if counts["fail"] == 0 else "[bold red]does not conform[/]"
    console.print(f"verdict: {verdict}")
    return 0 if counts["fail"] == 0 else 1


def cmd_render(args: argparse.Namespace) -> int:
    """Re-render the HTML of a stored run."""
    from conformance import render

    page = render.render_page(records.resolve(args.run, args.reports))
    console.print(f"HTML: {page}")
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    """List the cases."""
    from conformance.cases import all_cases

    table = Table(title=f"{len(all_cases())} conformance cases")
    for column in ("id", "where", "title", "spec"):
        table.add_column(column)
    for case in all_cases():
        table.add_row(case.id, case.where, case.title, case.spec)
    console.print(table)
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    """List the validator's rules."""
    from conformance.validator import RULES

    table = Table(title=f"{len(RULES)} validator rules")
    for column in ("rule", "item", "severity", "spec", "summary"):
        table.add_column(column)
    for rule in RULES.values():
        table.add_row(rule.id, str(rule.item), rule.severity, rule.spec, rule.summary)
    console.print(table)
    return 0


def cmd_cell(args: argparse.Namespace) -> int:
    """Internal: run one matrix cell in this (fresh) process."""
    from conformance.runner import cell_main

    return cell_main(args.framework, args.server, args.out, args.case, args.cpu)


if __name__ == "__main__":
    sys.exit(main())
