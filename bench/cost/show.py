"""``python -m bench show`` of a cost run: Ir/request per cell and, with ``--against``, the
per-cell differences with another cost run and the worst one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.cost import records, summary
from bench.infra.results import read_info

TOLERANCE = 0.02
"""Differences above this are shown in red: instruction counts of the same code repeat to
well under 1%, so 2% is a change in the code or its dependencies, not noise."""


def cost_table(cells: Sequence[summary.CostCell], title: str, baseline: str) -> Table:
    """Server, scenario, app, Ir/request, ratio to the baseline on the same server (or the
    failure)."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in ("server", "scenario", "app", "Ir/request", f"ratio to {baseline}", "note"):
        justify = "right" if column in ("Ir/request", f"ratio to {baseline}") else "left"
        table.add_column(column, justify=justify)
    for cell in cells:
        if cell.ir_per_request is None:
            table.add_row(
                cell.server, cell.scenario, cell.app, "-", "-",
                Text(f"FAILED: {cell.reason}", style="red"),
            )  # fmt: skip
            continue
        ratio = "1 (baseline)" if cell.is_baseline else (
            "-" if cell.ratio is None else f"{cell.ratio:.2f}"
        )  # fmt: skip
        note = f"{cell.processes} processes" if cell.processes > 1 else ""
        table.add_row(
            cell.server, cell.scenario, cell.app, f"{cell.ir_per_request:,.0f}", ratio, note
        )
    return table


def changes_table(found: Sequence[summary.CostChange], a_name: str, b_name: str) -> Table:
    """Per-cell Ir/request of two runs and the relative change B/A - 1."""
    table = Table(
        title=f"Ir/request: {b_name} (this) vs {a_name} (other)",
        title_justify="left",
        header_style="bold",
    )
    for column in ("cell", "this run", "other run", "difference"):
        table.add_column(column, justify="left" if column == "cell" else "right")
    for change in found:
        style = "red" if abs(change.change) > TOLERANCE else ""
        table.add_row(
            change.cell_id,
            f"{change.b:,.0f}",
            f"{change.a:,.0f}",
            Text(f"{change.change:+.2%}", style=style),
        )
    return table


def show(run_dir: Path, console: Console, against: Path | None = None) -> int:
    """Print a cost run (and its differences with ``against``); exit status 0."""
    info = read_info(run_dir)
    mine = records.load(run_dir)
    valgrind = next((r.valgrind for r in mine if r.valgrind), "valgrind")
    requests = next((f"{r.requests} requests after {r.warmup} warm-up" for r in mine), "")
    console.print(
        f"cost run [bold]{info.run_id}[/] ({info.status}): user-space instructions (Ir) of the "
        f"server process(es) per request, {valgrind}, one connection, sequential; {requests}",
        highlight=False,
    )
    title = "Per-request cost (instruction counts)"
    console.print(cost_table(summary.cells(mine, info), title, info.baseline))
    if against is None:
        return 0
    other = records.load(against)
    found = summary.changes(other, mine, info)
    console.print(changes_table(found, against.name, run_dir.name))
    biggest = summary.worst(found)
    verdict = (
        "no cell in both runs"
        if biggest is None
        else f"worst cell {biggest.cell_id} differs by {biggest.change:+.2%}"
    )
    console.print(f"{run_dir.name} vs {against.name}: {verdict}", highlight=False)
    return 0
