"""The order the report lists frameworks in, and which figures the headline may show.

Within one server every chart and table lists the frameworks fastest first by their ratio to
the baseline (the baseline itself is 1), so a reader finds a framework's rank at a glance with
ten frameworks as with three; a cell with no figure (failed, not run, not applicable) goes last,
in the run's framework order.

The headline (the overview chart) shows only figures that are evidence of a server's capacity:
a cell whose runs are refused (contended, unsaturated, generator-bound: :mod:`bench.lab.evidence`)
or carry another severe mark (the Locust fallback driver, the WebSocket driver's ceiling), or
whose baseline is such a cell, is left out, and :func:`headline` says which and why.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.lab.stats import Estimate
from bench.report.summary import BASELINE_NOTE, Cell, Summary


def speed(cell: Cell) -> float | None:
    """The cell's ratio to the baseline on its server (1 for the baseline itself); ``None``
    when it has none."""
    if cell.state != "ok":
        return None
    if cell.ratio is not None:
        return cell.ratio.value
    return 1.0 if cell.ratio_note == BASELINE_NOTE else None


def ranked(cells: Sequence[Cell], apps: Sequence[str]) -> list[Cell]:
    """``cells`` (one server's) fastest first: by ratio to the baseline, then — when there is
    no ratio (the baseline failed) — by throughput; cells with no figure last, in ``apps`` order.
    Ties keep the ``apps`` order (the baseline before a framework exactly as fast)."""
    rank = {app: index for index, app in enumerate(apps)}

    def key(cell: Cell) -> tuple[int, float, int]:
        order = rank.get(cell.app, len(rank))
        ratio = speed(cell)
        if ratio is not None:
            return (0, -ratio, order)
        if cell.state == "ok" and cell.rps is not None:
            return (1, -cell.rps.value, order)
        return (2, 0.0, order)

    return sorted(cells, key=key)


def by_server(summary: Summary, cells: Sequence[Cell]) -> list[tuple[str, list[Cell]]]:
    """``cells`` grouped by server (the run's server order), each group :func:`ranked`."""
    return [
        (server, ranked([c for c in cells if c.server == server], summary.apps))
        for server in summary.servers
        if any(c.server == server for c in cells)
    ]


def left_out(cell: Cell, baseline: Cell | None) -> str | None:
    """Why the headline leaves ``cell`` out (``None``: it shows it)."""
    if cell.refusals:
        return "no verdict: " + "; ".join(cell.refusals)
    if cell.severe:
        return ", ".join(mark.label for mark in cell.severe)
    if baseline is not None and baseline is not cell and (baseline.refusals or baseline.severe):
        why = "; ".join(baseline.refusals) or ", ".join(m.label for m in baseline.severe)
        return f"its {baseline.app} baseline is no evidence ({why})"
    return None


@dataclass(frozen=True, slots=True)
class Point:
    """One figure the headline draws: a framework's ratio to the baseline in one scenario."""

    scenario: str
    ratio: Estimate


@dataclass(frozen=True, slots=True)
class Row:
    """One framework on one server in the headline, with the figures it may show."""

    app: str
    points: tuple[Point, ...]

    @property
    def median(self) -> float | None:
        """The median ratio over the scenarios shown (the row's place in the headline)."""
        return statistics.median(p.ratio.value for p in self.points) if self.points else None


@dataclass(frozen=True, slots=True)
class Omission:
    """A cell the headline does not draw, and why."""

    cell: Cell
    why: str


@dataclass(frozen=True, slots=True)
class Headline:
    """What the overview chart shows: per server the frameworks (fastest median first) and
    their points; the cells left out as no evidence; the cells with no figure at all."""

    servers: tuple[tuple[str, tuple[Row, ...]], ...]
    left_out: tuple[Omission, ...]
    no_figure: tuple[Omission, ...]


def headline(summary: Summary, level: int) -> Headline:
    """The headline's rows and omissions at concurrency ``level`` (primary worker count)."""
    name = summary.baseline
    servers = []
    omitted: list[Omission] = []
    absent: list[Omission] = []
    for server in summary.servers:
        rows = []
        for app in summary.apps:
            if app == name:
                continue
            points = []
            for scenario in summary.scenarios:
                cell = summary.cell(server, app, scenario, level)
                if cell is None:
                    continue
                if cell.state != "ok":
                    absent.append(Omission(cell, _state_text(cell)))
                    continue
                why = left_out(cell, summary.cell(server, name, scenario, level))
                if why is not None:
                    omitted.append(Omission(cell, why))
                elif cell.ratio is None:
                    absent.append(Omission(cell, cell.ratio_note or "no ratio"))
                else:
                    points.append(Point(scenario, cell.ratio))
            rows.append(Row(app, tuple(points)))
        if any(
            summary.cell(server, app, s, level) for app in summary.apps for s in summary.scenarios
        ):
            servers.append((server, tuple(_fastest_first(rows))))
    return Headline(tuple(servers), tuple(omitted), tuple(absent))


def _fastest_first(rows: list[Row]) -> list[Row]:
    # sorted() is stable: rows without a point keep the run's framework order, last.
    return sorted(rows, key=lambda row: (row.median is None, -(row.median or 0.0)))


def _state_text(cell: Cell) -> str:
    word = {"failed": "failed", "not_applicable": "not applicable"}.get(cell.state, "not run")
    return f"{word}: {cell.reason}" if cell.reason else word
