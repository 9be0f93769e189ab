"""Command line: ``python -m conformance {check,run,render,cases,rules}`` (also installed as
``asgi-conformance``).

* ``check module:app [--server NAME]`` -- the suite on anyone's ASGI app: in-process, and
  under a real server with each failure blamed on the app, the server or both;
* ``run`` -- the framework x server matrix (``--profile quick|full``), stored under
  ``reports/conformance/<run>/``, rendered as HTML, gated by ``expectations.toml``;
* ``render [RUN]`` -- re-render a stored run; ``cases`` / ``rules`` -- list what is checked.

Exit codes: 0 conforms (``run``: the gate passed), 1 failures (``check``: the app's own,
plus the server's with ``--include-server``; ``run``: an unexpected result), 2 usage error
or a check that could not run (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from conformance import expectations, records
from conformance.cases.model import KINDS

STYLE = {
    "pass": "green",
    "fail": "bold red",
    "skip": "dim",
    "not_applicable": "dim",
    "spec_ambiguous": "yellow",
}
console = Console(highlight=False)
error_console = Console(stderr=True, highlight=False)
CHECK_HELP = """Check any ASGI app: in-process (the validator over generated traffic on its
routes) and, with --server, under a real server, each failure blamed on the app or the server
by running the same case on the raw baseline as a control.

exit codes: 0 conforms; 1 the app has failures (the server's too with --include-server);
2 usage error, or the check could not run (one line, no traceback)."""


class UsageError(Exception):
    """A usage error: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage block) and never exits the caller."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} -h)")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and dispatch; returns the process exit code."""
    from conformance.check import CheckError
    from conformance.routes import RoutesError

    try:
        args = _parser().parse_args(argv)
        code: int = args.handler(args)
    except (
        UsageError,
        CheckError,
        RoutesError,
        expectations.ExpectationsError,
        FileNotFoundError,
    ) as exc:
        error_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        error_console.print("interrupted", markup=False)
        return 2
    return code


def _parser() -> argparse.ArgumentParser:
    from conformance.runner import PROFILES

    parser = _Parser(
        prog=os.environ.get("CONFORMANCE_PROG", "python -m conformance"),
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(required=True, metavar="command", parser_class=_Parser)

    run = sub.add_parser("run", help="run the framework x server matrix and gate it")
    run.add_argument("--profile", choices=sorted(PROFILES), default="full")
    run.add_argument("--framework", action="append", help="only these frameworks (repeat)")
    run.add_argument("--server", action="append", help="only these servers (repeat)")
    run.add_argument("--case", action="append", help="only case ids matching (glob, repeat)")
    run.add_argument("--jobs", type=int, default=2, help="cells run at once (default 2)")
    run.add_argument("--reports", type=Path, default=records.REPORTS)
    run.add_argument("--no-crosscheck", action="store_true", help="skip the asgion cross-check")
    run.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    run.set_defaults(handler=cmd_run)

    check = sub.add_parser(
        "check",
        help="check any ASGI app (module:attribute)",
        description=CHECK_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("app", help="the app to check, as module:attribute (e.g. main:app)")
    check.add_argument(
        "--server",
        default="inprocess",
        help="also run it under this server: uvicorn, uvicorn-h11, granian, ... (default: "
        "in-process only)",
    )
    check.add_argument(
        "--path",
        action="append",
        metavar="[METHODS] PATH",
        help="a route to exercise: '/health' or 'POST /items' or 'GET,DELETE /items/1' "
        "(repeat; default: the app's OpenAPI document or route table, else /)",
    )
    check.add_argument("--ws", action="append", metavar="PATH", help="a WebSocket route (repeat)")
    check.add_argument("--routes", type=Path, metavar="FILE", help="routes from a TOML file")
    check.add_argument(
        "--ready-path",
        default="/",
        metavar="PATH",
        help="the server is ready once GET PATH gets any answer (default /)",
    )
    check.add_argument("--case", action="append", help="only case ids matching (glob, repeat)")
    check.add_argument("--skip", action="append", help="leave out case ids matching (glob)")
    check.add_argument(
        "--include-server",
        action="store_true",
        help="count the server's failures in the verdict and exit code too",
    )
    check.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    check.add_argument(
        "--logs", type=Path, metavar="DIR", help="keep server logs here (default: a temp dir)"
    )
    check.add_argument("--verbose", "-v", action="store_true", help="show every case")
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
    from bench import frameworks as field
    from conformance import render, runner

    _known("framework", args.framework, field.names())
    _known("server", args.server, runner.server_names())
    _cases_selected(args.case)
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
    if args.junit:
        from conformance import junit

        junit.write(args.junit, junit.from_matrix(cell_records))
        console.print(f"JUnit: {args.junit}")
    return 0 if gate["passed"] else 1


def _known(kind: str, given: Sequence[str] | None, names: Sequence[str]) -> None:
    unknown = [name for name in given or () if name not in names]
    if unknown:
        raise UsageError(f"unknown {kind} {unknown[0]!r}; known: {', '.join(names)}")


def _cases_selected(patterns: Sequence[str] | None, skip: Sequence[str] | None = None) -> list[Any]:
    """The cases the patterns select; a pattern matching nothing is a usage error."""
    from conformance.cases import all_cases
    from conformance.runner import select

    for pattern in [*(patterns or ()), *(skip or ())]:
        if not select([pattern]):
            ids = [case.id for case in all_cases()]
            raise UsageError(
                f"--case/--skip {pattern!r} matches no case (ids run from {ids[0]} to {ids[-1]}: "
                "python -m conformance cases)"
            )
    chosen = select(patterns)
    dropped = {case.id for case in select(skip)} if skip else set()
    return [case for case in chosen if case.id not in dropped]


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
    """The suite on a user's app; exit 1 on any failure the verdict counts."""
    import shutil
    import tempfile

    from conformance import check, junit, runner
    from conformance.routes import load_file, parse_path_option

    server = None if args.server == "inprocess" else args.server
    _known("server", [args.server], runner.server_names())
    plan = check.Plan(
        args.app,
        server,
        _cases_selected(args.case, args.skip),
        paths=[parse_path_option(p) for p in args.path or ()],
        websockets=[_ws_route(p) for p in args.ws or ()],
        routes_file=load_file(args.routes) if args.routes else None,
        ready_path=args.ready_path,
        include_server=args.include_server,
    )
    if plan.routes_file is not None and plan.routes_file.ready_path:
        plan.ready_path = plan.routes_file.ready_path
    logs = args.logs or Path(tempfile.mkdtemp(prefix="conformance-check-"))
    plan.workdir = logs
    console.print(f"checking [bold]{args.app}[/] {'on ' + server if server else 'in-process'}")
    try:
        report = check.run(plan, lambda record: _show(record, args.verbose))
    finally:
        if args.logs is None:
            shutil.rmtree(logs, ignore_errors=True)
    console.print(f"routes: {report.routes.describe()}", soft_wrap=True)
    if args.junit:
        junit.write(args.junit, [junit.from_check(report)])
        console.print(f"JUnit: {args.junit}")
    style = "green" if report.conforms else "bold red"
    console.print(f"[{style}]{report.summary()}[/]", soft_wrap=True)
    return 0 if report.conforms else 1


def _ws_route(path: str) -> Any:
    from conformance.routes import RoutesError, WebSocketRoute

    if not path.startswith("/"):
        raise RoutesError(f"--ws {path!r}: the path must start with '/'")
    return WebSocketRoute(path)


def _show(record: dict[str, Any], verbose: bool) -> None:
    """One line per case worth showing (failures always; everything with -v)."""
    kind = record["kind"]
    if kind != "fail" and not (verbose or kind == "spec_ambiguous"):
        return
    blame = escape(f" [{record['blame']}]") if kind == "fail" else ""
    counted = "" if kind != "fail" or record.get("counted") else " (not counted)"
    detail = escape(record["detail"])
    line = f"  [{STYLE[kind]}]{kind:>14}[/]{blame}{counted} {record['id']:5} {detail}"
    console.print(line, soft_wrap=True, markup=True)
    if kind == "fail" and record.get("deviation"):
        deviation = record["deviation"]
        link = f" ({deviation['link']})" if deviation.get("link") else ""
        console.print(
            f"                   known deviation: {deviation['reason']}{link}",
            soft_wrap=True,
            style="dim",
            markup=False,
        )


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


def console_script() -> None:
    """Entry point of the ``asgi-conformance`` console script."""
    os.environ.setdefault("CONFORMANCE_PROG", "asgi-conformance")
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
