"""The report's charts, drawn with matplotlib (Agg, imported lazily) as inline SVG.

Every chart reads :class:`~bench.report.summary.Summary` cells only. They stay legible with ten
frameworks: small multiples, one panel per server, frameworks on the y axis fastest first by
their ratio to the baseline (:mod:`bench.report.ranking`), each bar labelled with its value. A
failed, unmeasured or not-applicable cell shows a word, never a zero bar; a figure that is no
evidence of capacity (refused: contended, unsaturated, generator-bound) is hatched and labelled
"no verdict", another qualified one (driver ceiling) hatched and starred. The headline
(:func:`overview`) leaves such figures out and says which. Colours come from
:mod:`bench.report.palette`, so a framework has the same colour everywhere. Each chart carries a
title, a text description listing its values (the alt text) and a caption saying how to read it.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.report import numbers, palette, ranking
from bench.report.summary import PERCENTILES, Cell, Summary
from bench.report.svg import figure_svg

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

STYLE: dict[Any, Any] = {  # rc keys are a Literal in the stubs
    "svg.fonttype": "none",
    "svg.hashsalt": "velocix-report",  # stable ids: the same records give the same SVG
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "hatch.linewidth": 0.8,
}
WIDTH = 7.2
QUALIFIED_HATCH = "////"
CI_TEXT = "95% bootstrap confidence interval of the median"
NO_VERDICT = "no verdict"
NOT_APPLICABLE_INK = "#5d6470"
"""Colour of "n/a": a framework that cannot serve a scenario did not fail."""
COLUMNS = 2
"""Server panels side by side before the small multiples wrap to another row."""
ROW_IN = 0.22
"""Inches per framework row of a horizontal-bar panel: 9 pt labels never touch."""
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">", "p")
"""Marker shapes for scenarios (headline) and frameworks (scaling): not colour alone."""


@dataclass(frozen=True, slots=True)
class Chart:
    """One rendered chart with what a reader (or a screen reader) needs around it."""

    key: str
    title: str
    description: str
    caption: str
    svg: str


def _slug(*parts: object) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(str(p) for p in parts)).strip("-")


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib  # lazily: importing the report must not cost matplotlib's start-up

    matplotlib.use("Agg")
    with matplotlib.rc_context(STYLE):
        yield


def _render(
    key: str,
    title: str,
    description: str,
    caption: str,
    size: tuple[float, float],
    draw: Callable[[Figure], None],
) -> Chart:
    from matplotlib.figure import Figure

    with _style():
        figure = Figure(figsize=size, layout="constrained")
        draw(figure)
        svg = figure_svg(figure, key, title, description)
    return Chart(key, title, description, caption, svg)


Figure3 = tuple[float, float, float]
"""(value, low, high) of one bar; a string instead names why there is no bar."""
Groups = list[tuple[str, list[Cell]]]
"""Cells per server, each server's fastest first (:func:`bench.report.ranking.by_server`)."""


def _groups(summary: Summary, scenario: str, level: int) -> Groups:
    return ranking.by_server(summary, summary.select(scenario, level))


def _describe(cell: Cell | None, value: Callable[[Cell], str | None]) -> str:
    if cell is None:
        return "not planned"
    if cell.state != "ok":
        return f"{_state_word(cell)} ({cell.reason})"
    text = value(cell) or f"no figure ({cell.ratio_note})"
    notes = [mark.label for mark in cell.severe]
    if cell.refusals:
        notes.insert(0, NO_VERDICT)
    return f"{text} [{', '.join(notes)}]" if notes else text


def _cells_text(groups: Groups, value: Callable[[Cell], str | None]) -> str:
    parts = [
        f"{server}, fastest first: " + "; ".join(f"{c.app} {_describe(c, value)}" for c in cells)
        for server, cells in groups
    ]
    return ". ".join(parts) + "."


def _state_word(cell: Cell) -> str:
    return {"failed": "failed", "not_applicable": "n/a"}.get(cell.state, "not run")


def _height(rows: int, panels: int, extra: float = 0.75) -> float:
    """Figure height for ``panels`` server panels of ``rows`` framework rows each."""
    lines = -(-panels // COLUMNS)
    return lines * (ROW_IN * max(rows, 2) + extra) + 0.2


def _panels(figure: Figure, count: int, sharex: bool = False) -> list[Axes]:
    """``count`` server panels, :data:`COLUMNS` to a line (spare slots removed)."""
    columns = max(1, min(count, COLUMNS))
    grid = figure.subplots(-(-count // columns), columns, squeeze=False, sharex=sharex)
    axes = list(grid.flat)
    for spare in axes[count:]:
        figure.delaxes(spare)
    return axes[:count]


def _name_rows(axes: Axes, names: Sequence[str], baseline: str | None) -> None:
    """Frameworks on the y axis, first at the top; the baseline's name says it is."""
    labels = [f"{name} (baseline)" if name == baseline else name for name in names]
    axes.set_yticks(range(len(names)), labels)
    for tick, name in zip(axes.get_yticklabels(), names, strict=True):
        if name == baseline:
            tick.set_fontweight("bold")
    axes.set_ylim(len(names) - 0.5, -0.5)  # inverted: fastest on top
    axes.tick_params(axis="y", length=0)
    axes.grid(False, axis="y")


def _word(axes: Axes, y: float, cell: Cell) -> None:
    """A cell with no figure: its state in words where its bar would start (never a bar)."""
    word = _state_word(cell)
    failed = cell.state != "not_applicable"
    axes.annotate(
        f"✗ {word}" if failed else word,
        (0, y),
        xycoords=("axes fraction", "data"),
        xytext=(3, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=7.5,
        color=palette.FAILED if failed else NOT_APPLICABLE_INK,
        fontstyle="normal" if failed else "italic",
    )


def _value_label(
    axes: Axes, y: float, x: float, text: str, cell: Cell, verdict: bool = True
) -> None:
    """The bar's value right of its whisker; "no verdict" on a refused figure (unless the
    figure is not one a verdict is called on: CPU, memory)."""
    verdict = verdict and bool(cell.refusals)
    if verdict:
        text += f"  {NO_VERDICT}"
    elif cell.severe or cell.refusals:
        text += " *"
    axes.annotate(
        text,
        (x, y),
        xytext=(3, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=7,
        color="#7a4d00" if verdict else "#333",
        fontweight="bold" if verdict else "normal",
    )


def _hbar(
    axes: Axes,
    y: float,
    figure: Figure3,
    cell: Cell,
    label: str | None,
    verdict: bool = True,
    kind: str = "bar",
) -> None:
    value, low, high = figure
    colour = palette.colour(cell.app)
    hatched = bool(cell.severe or cell.refusals)
    drawn = axes.barh(
        y,
        value,
        height=0.72,
        color=colour,
        alpha=0.45 if hatched else 1.0,
        edgecolor="#222" if hatched else colour,
        hatch=QUALIFIED_HATCH if hatched else None,
        linewidth=0.6,
        xerr=[[value - low], [high - value]] if high > low else None,
        capsize=2,
        error_kw={"elinewidth": 0.8, "ecolor": "#111"},
    )
    # An id per bar (prefixed with the chart's key in the page): tests and readers of the
    # SVG find a framework's bar without guessing from coordinates.
    drawn.patches[0].set_gid(_slug(kind, cell.server, cell.app))
    if label is not None:
        _value_label(axes, y, max(high, value), label, cell, verdict)


def _bar_panel(
    axes: Axes,
    cells: Sequence[Cell],
    figure_of: Callable[[Cell], Figure3 | str],
    formatter: Callable[[float], str],
    baseline: str | None,
    verdict: bool = True,
    kind: str = "bar",
) -> float:
    """One server's horizontal bars in the given order; returns the largest whisker end.
    ``verdict``: label refused figures "no verdict" (else a star)."""
    right = 0.0
    for y, cell in enumerate(cells):
        figure = figure_of(cell) if cell.state == "ok" else _state_word(cell)
        if isinstance(figure, str):
            if cell.state == "ok":  # measured, yet no such figure (e.g. not sampled)
                axes.annotate(
                    figure,
                    (0, y),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=7,
                    color="#5d6470",
                )
            else:
                _word(axes, y, cell)
            continue
        _hbar(axes, y, figure, cell, formatter(figure[0]), verdict, kind)
        right = max(right, figure[2], figure[0])
    _name_rows(axes, [c.app for c in cells], baseline)
    return right


def _room(axes: Axes, right: float, share: float = 1.32) -> None:
    """x from 0 with room right of the longest bar for its value label."""
    axes.set_xlim(0, right * share if right > 0 else 1.0)


def _rps_figure(cell: Cell) -> Figure3 | str:
    return (cell.rps.value, cell.rps.low, cell.rps.high) if cell.rps else "no runs"


def _ratio_figure(cell: Cell) -> Figure3 | str:
    if cell.ratio is not None:
        return (cell.ratio.value, cell.ratio.low, cell.ratio.high)
    return (1.0, 1.0, 1.0) if ranking.speed(cell) == 1.0 else (cell.ratio_note or "no ratio")


def _ranked_bars(
    summary: Summary,
    groups: Groups,
    figure_of: Callable[[Cell], Figure3 | str],
    formatter: Callable[[float], str],
    xlabel: str,
    reference: Callable[[Axes, list[Cell]], None] | None = None,
) -> Callable[[Figure], None]:
    """A drawing of one horizontal-bar panel per server, frameworks fastest first, on one
    x scale (servers compare at a glance)."""

    def draw(figure: Figure) -> None:
        panels = _panels(figure, len(groups), sharex=True)
        right = 0.0
        for axes, (server, cells) in zip(panels, groups, strict=True):
            right = max(right, _bar_panel(axes, cells, figure_of, formatter, summary.baseline))
            if reference is not None:
                reference(axes, cells)
            axes.set_title(server, loc="left", fontweight="bold")
            axes.set_xlabel(xlabel)
            axes.xaxis.set_major_formatter(lambda v, _: formatter(v) if v else "0")
        if panels:
            _room(panels[0], right)  # shared: once, after every panel's whiskers

    return draw


CAVEAT_TEXT = (
    "Hatched and labelled “no verdict”: runs that are no evidence of capacity (contended, "
    "unsaturated or generator-bound; the table says why); hatched with *: another caveat "
    "(driver ceiling). ✗ failed / not run and n/a (the framework cannot serve the scenario) "
    "have no bar."
)


def throughput(summary: Summary, scenario: str, level: int) -> Chart:
    """Median throughput with CIs: one panel per server, frameworks fastest first."""
    groups = _groups(summary, scenario, level)

    def baseline_line(axes: Axes, cells: list[Cell]) -> None:
        base = next((c for c in cells if c.app == summary.baseline and c.rps), None)
        if base is not None and base.rps is not None:
            axes.axvline(base.rps.value, color=palette.colour(base.app), ls="--", lw=0.9)

    draw = _ranked_bars(
        summary,
        groups,
        _rps_figure,
        numbers.short,
        "requests/s (correct responses)",
        baseline_line,
    )
    title = f"{scenario}: throughput per framework and server (c={level})"
    description = (
        f"Horizontal bar charts, one per server, of median requests per second with {CI_TEXT}, "
        f"frameworks ordered by their ratio to {summary.baseline}. "
        + _cells_text(
            groups,
            lambda c: (
                f"{numbers.rps(c.rps.value)} req/s CI {numbers.interval(c.rps)}" if c.rps else None
            ),
        )
    )
    caption = (
        f"Median throughput of the interleaved runs at concurrency {level}, fastest first by "
        f"the ratio to {summary.baseline} (dashed line: {summary.baseline}); whiskers: "
        f"{CI_TEXT}. Only correct responses count. {CAVEAT_TEXT}"
    )
    rows = max((len(cells) for _, cells in groups), default=1)
    size = (WIDTH, _height(rows, len(groups)))
    return _render(
        _slug(scenario, f"c{level}", "throughput"), title, description, caption, size, draw
    )


def overhead(summary: Summary, scenario: str, level: int) -> Chart:
    """Each framework's throughput as a ratio to the baseline on the same server (paired
    round by round), with CIs: one panel per server, fastest first, the baseline at 1."""
    baseline = summary.baseline
    groups = _groups(summary, scenario, level)

    def one(axes: Axes, cells: list[Cell]) -> None:
        axes.axvline(1.0, color=palette.colour(baseline), linestyle="--", linewidth=0.9)

    draw = _ranked_bars(
        summary, groups, _ratio_figure, numbers.ratio, f"throughput ÷ {baseline}", one
    )

    def ratio_text(cell: Cell) -> str | None:
        if cell.ratio is not None:
            return f"{numbers.ratio(cell.ratio.value)} CI {numbers.interval(cell.ratio, 'ratio')}"
        return "1 (baseline)" if ranking.speed(cell) == 1.0 else None

    description = (
        f"Horizontal bar charts, one per server, of each framework's median throughput divided "
        f"by the {baseline} ASGI baseline's on the same server (1.0 = as fast as {baseline}), "
        "fastest first, with a 95% bootstrap CI of the paired ratio. "
        + _cells_text(groups, ratio_text)
    )
    caption = (
        f"Framework overhead: throughput ÷ the {baseline} ASGI app's on the same server in the "
        f"same run, paired round by round (dashed line = 1, {baseline} itself); fastest first. "
        f"Whiskers: 95% bootstrap CI of the paired ratio. Lower means more overhead. "
        f"{CAVEAT_TEXT}"
    )
    title = f"{scenario}: throughput relative to {baseline} ASGI (c={level})"
    rows = max((len(cells) for _, cells in groups), default=1)
    size = (WIDTH, _height(rows, len(groups)))
    return _render(
        _slug(scenario, f"c{level}", "overhead"), title, description, caption, size, draw
    )


def overview(summary: Summary, level: int) -> Chart:
    """The report's headline: every framework's ratio to the baseline in every scenario, one
    dot-plot panel per server, frameworks by their median ratio (fastest first), one marker
    shape per scenario, CI whiskers. Figures that are no evidence of capacity are left out and
    named in the caption and the description (:func:`bench.report.ranking.headline`)."""
    baseline = summary.baseline
    head = ranking.headline(summary, level)
    scenarios = list(summary.scenarios)
    shapes = {s: MARKERS[i % len(MARKERS)] for i, s in enumerate(scenarios)}

    def draw(figure: Figure) -> None:
        panels = _panels(figure, len(head.servers), sharex=True)
        for axes, (server, rows) in zip(panels, head.servers, strict=True):
            _dot_panel(axes, server, rows, scenarios, shapes)
            axes.axvline(1.0, color=palette.colour(baseline), linestyle="--", linewidth=0.9)
            axes.set_title(server, loc="left", fontweight="bold")
            axes.set_xlabel(f"throughput ÷ {baseline} on the same server")
        if panels:
            right = max(
                (p.ratio.high for _, rows in head.servers for r in rows for p in r.points),
                default=1.0,
            )
            panels[0].set_xlim(0, max(right, 1.0) * 1.22)
        figure.legend(
            handles=_scenario_handles(scenarios, shapes, baseline),
            loc="outside lower center",
            ncol=min(len(scenarios) + 1, 6),
        )

    rows = max((len(r) for _, r in head.servers), default=1)
    height = _height(rows, len(head.servers), extra=0.8) + 0.35
    return _render(
        _slug("overview", f"c{level}"),
        f"Overhead relative to {baseline} ASGI, all scenarios",
        _overview_description(head, baseline),
        _overview_caption(head, baseline, level),
        (WIDTH + 1.0, height),
        draw,
    )


def _dot_panel(
    axes: Axes,
    server: str,
    rows: Sequence[ranking.Row],
    scenarios: Sequence[str],
    shapes: dict[str, str],
) -> None:
    step = 0.7 / max(len(scenarios), 1)
    offset = {s: (i - (len(scenarios) - 1) / 2) * step for i, s in enumerate(scenarios)}
    for y, row in enumerate(rows):
        colour = palette.colour(row.app)
        for point in row.points:
            ratio = point.ratio
            drawn = axes.errorbar(
                ratio.value,
                y + offset[point.scenario],
                xerr=[[ratio.value - ratio.low], [ratio.high - ratio.value]],
                fmt=shapes[point.scenario],
                color=colour,
                markersize=4.5,
                markeredgecolor="#222",
                markeredgewidth=0.4,
                elinewidth=0.8,
                capsize=1.5,
            )
            drawn.lines[0].set_gid(_slug("dot", server, row.app, point.scenario))
        if row.median is None:
            axes.annotate(
                "no figure shown (see caption)",
                (0, y),
                xycoords=("axes fraction", "data"),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color=NOT_APPLICABLE_INK,
                fontstyle="italic",
            )
        else:
            high = max(p.ratio.high for p in row.points)
            axes.annotate(
                f"median {numbers.ratio(row.median)}",
                (high, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color="#333",
            )
    _name_rows(axes, [row.app for row in rows], None)
    axes.grid(True, axis="y", alpha=0.2)


def _scenario_handles(scenarios: Sequence[str], shapes: dict[str, str], baseline: str) -> list[Any]:
    from matplotlib.lines import Line2D

    handles: list[Any] = [
        Line2D(
            [],
            [],
            marker=shapes[s],
            linestyle="",
            color="#888",
            markeredgecolor="#222",
            markeredgewidth=0.4,
            label=s,
        )
        for s in scenarios
    ]
    handles.append(
        Line2D([], [], color=palette.colour(baseline), linestyle="--", label=f"{baseline} = 1")
    )
    return handles


def _omitted_text(omissions: Sequence[ranking.Omission]) -> str:
    """ "uvicorn/path_param: starlette, fastapi (why)": omissions of one cause together."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for omission in omissions:
        cell = omission.cell
        grouped.setdefault((cell.server, cell.scenario, omission.why), []).append(cell.app)
    return "; ".join(
        f"{server}/{scenario}: {', '.join(apps)} ({why})"
        for (server, scenario, why), apps in grouped.items()
    )


def _overview_caption(head: ranking.Headline, baseline: str, level: int) -> str:
    text = (
        f"Every framework's throughput as a fraction of {baseline} ASGI on the same server "
        f"(c={level}), one marker per scenario, whiskers: 95% bootstrap CI of the paired ratio; "
        "frameworks ordered by their median over the scenarios shown, fastest first."
    )
    if head.left_out:
        text += (
            " Left out as no evidence of capacity (no verdict): "
            + _omitted_text(head.left_out)
            + "."
        )
    else:
        text += " Every measured figure is evidence of capacity: none left out."
    if head.no_figure:
        text += " No figure: " + _omitted_text(head.no_figure) + "."
    return text


def _overview_description(head: ranking.Headline, baseline: str) -> str:
    parts = [
        f"Dot plots, one per server, of each framework's throughput divided by the {baseline} "
        "ASGI baseline's in every scenario, frameworks ordered by their median ratio."
    ]
    for server, rows in head.servers:
        items = [
            f"{row.app} "
            + (
                ", ".join(
                    f"{p.scenario} {numbers.ratio(p.ratio.value)} "
                    f"CI {numbers.interval(p.ratio, 'ratio')}"
                    for p in row.points
                )
                or "nothing shown"
            )
            for row in rows
        ]
        parts.append(f"{server}: " + "; ".join(items) + ".")
    if head.left_out:
        parts.append("Left out (no verdict): " + _omitted_text(head.left_out) + ".")
    if head.no_figure:
        parts.append("No figure: " + _omitted_text(head.no_figure) + ".")
    return " ".join(parts)


def latency(summary: Summary, scenario: str, level: int) -> Chart:
    """p50 and p99 latency per framework (a bar from p50 to p99, log scale): one panel per
    server, frameworks in the throughput charts' order."""
    groups = _groups(summary, scenario, level)

    def draw(figure: Figure) -> None:
        panels = _panels(figure, len(groups), sharex=True)
        for axes, (server, cells) in zip(panels, groups, strict=True):
            for y, cell in enumerate(cells):
                _latency_row(axes, y, cell)
            _name_rows(axes, [c.app for c in cells], summary.baseline)
            axes.set_title(server, loc="left", fontweight="bold")
            axes.set_xlabel("latency, ms (log scale)")
            _log_ms_axis(axes, "x")
        if panels:
            measured = [c.latency for _, cells in groups for c in cells if c.latency]
            if measured:
                low = min(lat["p50"] for lat in measured)
                high = max(lat["p99"] for lat in measured)
                panels[0].set_xlim(low / 1.6, high * 3.2)  # room for the p99 label
        figure.legend(handles=_latency_handles(), loc="outside lower center", ncol=2)

    description = (
        "Latency per framework, one panel per server, frameworks in the throughput chart's order: "
        "p50 and p99 drawn; p50, p90, p99 and p99.9 listed (ms, median over runs). "
        + _cells_text(groups, _latency_text)
    )
    caption = (
        f"Latency at concurrency {level} (median over runs; log scale): the bar runs from p50 "
        "(dot) to p99 (diamond, labelled). Frameworks in the order of the throughput chart. "
        "Closed-loop load: coordinated omission is not corrected, so tail latency is understated "
        "when a server stalls. ✗ failed / n/a: no latency."
    )
    title = f"{scenario}: latency p50 to p99 (c={level})"
    rows = max((len(cells) for _, cells in groups), default=1)
    size = (WIDTH, _height(rows, len(groups)) + 0.3)
    return _render(_slug(scenario, f"c{level}", "latency"), title, description, caption, size, draw)


def _latency_row(axes: Axes, y: float, cell: Cell) -> None:
    if cell.state != "ok":
        _word(axes, y, cell)
        return
    if not cell.latency:
        axes.annotate(
            "no latency recorded",
            (0, y),
            xycoords=("axes fraction", "data"),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
        return
    colour = palette.colour(cell.app)
    p50, p99 = cell.latency["p50"], cell.latency["p99"]
    hatched = bool(cell.severe or cell.refusals)
    axes.barh(
        y,
        p99 - p50,
        left=p50,
        height=0.5,
        color=colour,
        alpha=0.35 if hatched else 0.6,
        hatch=QUALIFIED_HATCH if hatched else None,
        edgecolor=colour,
        linewidth=0.6,
    )
    axes.plot(
        [p50],
        [y],
        marker="o",
        markersize=4,
        color=colour,
        markeredgecolor="#222",
        markeredgewidth=0.4,
    )
    axes.plot(
        [p99],
        [y],
        marker="D",
        markersize=4,
        color=colour,
        markeredgecolor="#222",
        markeredgewidth=0.4,
    )
    _value_label(axes, y, p99, f"{numbers.ms(p50)} \u2013 {numbers.ms(p99)}", cell)


def _latency_handles() -> list[Any]:
    from matplotlib.lines import Line2D

    return [
        Line2D([], [], marker="o", linestyle="", color="#888", markeredgecolor="#222", label="p50"),
        Line2D([], [], marker="D", linestyle="", color="#888", markeredgecolor="#222", label="p99"),
    ]


def _log_ms_axis(axes: Axes, which: str = "y") -> None:
    """A log axis labelled 1-2-5 in plain milliseconds (no ``6x10^0`` minor labels)."""
    from matplotlib.ticker import LogLocator, NullFormatter

    axis = axes.xaxis if which == "x" else axes.yaxis
    (axes.set_xscale if which == "x" else axes.set_yscale)("log")
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(lambda v, _: f"{v:g}")  # 0.5, 1, 2, 5, 10, 200
    axis.set_minor_formatter(NullFormatter())


def _latency_text(cell: Cell) -> str | None:
    if not cell.latency:
        return None
    return ", ".join(f"{label} {numbers.ms(cell.latency[key])} ms" for key, label in PERCENTILES)


def resources(summary: Summary, scenario: str, level: int) -> Chart:
    """Server CPU (with the generator's for headroom) and server RSS per framework: one row of
    two panels per server, frameworks in the throughput charts' order."""
    groups = _groups(summary, scenario, level)

    def draw(figure: Figure) -> None:
        grid = figure.subplots(len(groups), 2, squeeze=False)
        for (cpu_axes, rss_axes), (server, cells) in zip(grid, groups, strict=True):
            right = _bar_panel(
                cpu_axes,
                cells,
                lambda c: _point(c.server_cpu),
                numbers.cpu,
                summary.baseline,
                verdict=False,
                kind="cpu",
            )
            for y, cell in enumerate(cells):
                if cell.state == "ok" and cell.generator_cpu is not None:
                    cpu_axes.plot(
                        [cell.generator_cpu],
                        [y],
                        marker="|",
                        markersize=9,
                        markeredgewidth=1.8,
                        color="#111",
                    )
                    right = max(right, cell.generator_cpu)
            _room(cpu_axes, right, 1.25)
            cpu_axes.set_title(f"{server}: CPU, % of one core", loc="left", fontsize=9)
            _room(
                rss_axes,
                _bar_panel(
                    rss_axes,
                    cells,
                    lambda c: _point(c.rss_mib),
                    numbers.mib,
                    summary.baseline,
                    verdict=False,
                    kind="rss",
                ),
                1.25,
            )
            rss_axes.set_yticklabels([])
            rss_axes.set_title(f"{server}: peak RSS, MiB", loc="left", fontsize=9)
        figure.legend(handles=_resource_handles(), loc="outside lower center", ncol=2)

    description = (
        "Bar charts of server CPU use and peak memory per framework, one row per server, "
        "frameworks in the throughput chart's order. " + _cells_text(groups, _resource_text)
    )
    caption = (
        "Resource use sampled with psutil during the runs: server process-tree CPU (bars, median "
        "of the runs' means) with the load generator's (black tick, same statistic — near 100% "
        "means the generator, not the server, was the limit), and the server's peak RSS. "
        "Frameworks in the order of the throughput chart; hatched with *: a cell whose runs "
        "are no evidence of capacity or otherwise qualified (the table says why)."
    )
    title = f"{scenario}: server CPU and memory (c={level})"
    rows = max((len(cells) for _, cells in groups), default=1)
    size = (WIDTH, len(groups) * (ROW_IN * max(rows, 2) + 0.6) + 0.5)
    return _render(
        _slug(scenario, f"c{level}", "resources"), title, description, caption, size, draw
    )


def _resource_handles() -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    return [
        Patch(facecolor="#888", label="server"),
        Line2D(
            [],
            [],
            marker="|",
            linestyle="",
            color="#111",
            markersize=9,
            markeredgewidth=1.8,
            label="load generator",
        ),
    ]


def _point(value: float | None) -> Figure3 | str:
    return "not sampled" if value is None else (value, value, value)


def _resource_text(cell: Cell) -> str | None:
    if cell.server_cpu is None or cell.rss_mib is None:
        return None
    generator = f", generator {numbers.cpu(cell.generator_cpu)}" if cell.generator_cpu else ""
    return f"CPU {numbers.cpu(cell.server_cpu)}{generator}, RSS {numbers.mib(cell.rss_mib)} MiB"


def scaling(summary: Summary, scenario: str, level: int) -> Chart:
    """Throughput against the server's worker count, one line per framework, one panel per
    server (the ``scaling`` profile). A refused figure is a hollow marker; failed and n/a
    worker counts have no point and are named in the panel."""
    counts = summary.workers
    cells = [c for c in summary.cells.values() if c.scenario == scenario and c.concurrency == level]
    servers = [s for s in summary.servers if any(c.server == s for c in cells)]
    order = _scaling_order(summary, cells)
    shapes = {app: MARKERS[i % len(MARKERS)] for i, app in enumerate(order)}

    def draw(figure: Figure) -> None:
        panels = _panels(figure, len(servers), sharex=True)
        for axes, server in zip(panels, servers, strict=True):
            missing = []
            for app in order:
                line = [summary.cell(server, app, scenario, level, w) for w in counts]
                style = "--" if app == summary.baseline else "-"
                missing += _scaling_line(axes, app, shapes[app], counts, line, style)
            if missing:
                axes.text(
                    0.01,
                    0.99,
                    "\n".join(missing),
                    transform=axes.transAxes,
                    va="top",
                    fontsize=6.5,
                    color=palette.FAILED,
                )
            axes.set_title(server, loc="left", fontweight="bold")
            axes.set_xscale("log", base=2)
            axes.set_xticks(list(counts), [str(w) for w in counts])
            axes.minorticks_off()
            axes.set_xlabel("server worker processes")
            axes.set_ylim(bottom=0)
            axes.margins(y=0.12)
            axes.yaxis.set_major_formatter(lambda v, _: numbers.short(v))
        if panels:
            panels[0].set_ylabel("requests/s")
        columns = min(len(order), 5)
        figure.legend(
            handles=_framework_handles(order, shapes, summary.baseline, columns),
            loc="outside lower center",
            ncol=columns,
        )

    description = (
        f"Line charts, one per server, of median requests per second against the number of "
        f"server worker processes ({', '.join(map(str, counts))}), one line per framework. "
        + " ".join(
            _cells_text(
                ranking.by_server(summary, summary.select(scenario, level, w)),
                lambda c: f"{numbers.rps(c.rps.value)} req/s" if c.rps else None,
            ).replace(", fastest first: ", f" with {w} worker{'s' if w != 1 else ''}: ")
            for w in counts
        )
    )
    caption = (
        f"Throughput against the server's worker processes at concurrency {level} (median of "
        "the runs; the x axis doubles). A line that flattens stops scaling: the server's CPUs, "
        "the generator or the framework is the limit. Hollow marker: no verdict (contended, "
        "unsaturated or generator-bound); failed and n/a worker counts have no point and are "
        "named in red in the panel. Legend ordered by throughput at the most workers."
    )
    lines = -(-len(servers) // COLUMNS)
    size = (WIDTH, lines * 2.6 + 0.3 + 0.18 * -(-len(order) // 5))
    return _render(
        _slug(scenario, f"c{level}", "scaling"),
        f"{scenario}: throughput against server workers (c={level})",
        description,
        caption,
        size,
        draw,
    )


def _scaling_order(summary: Summary, cells: Sequence[Cell]) -> list[str]:
    """Frameworks by their median throughput over servers at the most workers measured, so
    the legend reads top to bottom like the lines' right ends."""
    present = [a for a in summary.apps if any(c.app == a for c in cells)]
    top = max(summary.workers)

    def key(app: str) -> float:
        values = [c.rps.value for c in cells if c.app == app and c.workers == top and c.rps]
        return -statistics.median(values) if values else 0.0

    return sorted(present, key=key)


def _scaling_line(
    axes: Axes,
    app: str,
    shape: str,
    counts: Sequence[int],
    line: Sequence[Cell | None],
    style: str = "-",
) -> list[str]:
    """Draw one framework's line; return what it has no point for, in words."""
    colour = palette.colour(app)
    points = [(w, c) for w, c in zip(counts, line, strict=True) if c and c.state == "ok" and c.rps]
    xs = [w for w, _ in points]
    ys = [c.rps.value for _, c in points if c.rps]
    axes.plot(xs, ys, color=colour, linewidth=1.1, linestyle=style)
    for (w, cell), y in zip(points, ys, strict=True):
        refused = bool(cell.refusals or cell.severe)
        axes.plot(
            [w],
            [y],
            marker=shape,
            markersize=4.5,
            color=colour,
            markeredgecolor=colour if refused else "#222",
            markerfacecolor="white" if refused else colour,
            markeredgewidth=1.0 if refused else 0.4,
        )
    missing = [c for c in line if c is not None and c.state != "ok"]
    return [
        f"{app}: {_state_word(c)} with {c.workers} worker{'s' if c.workers != 1 else ''}"
        for c in missing
    ]


def _framework_handles(
    order: Sequence[str], shapes: dict[str, str], baseline: str, columns: int
) -> list[Any]:
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [],
            [],
            color=palette.colour(app),
            linestyle="--" if app == baseline else "-",
            marker=shapes[app],
            markersize=4.5,
            markeredgecolor="#222",
            markeredgewidth=0.4,
            label=f"{app} (baseline)" if app == baseline else app,
        )
        for app in order
    ]
    return row_major(handles, columns)


def row_major(items: Sequence[Any], columns: int) -> list[Any]:
    """``items`` permuted so that a legend of ``columns`` columns (which matplotlib fills
    column by column) reads left to right, then top to bottom, in the given order."""
    rows = -(-len(items) // columns)
    return [
        items[row * columns + column]
        for column in range(columns)
        for row in range(rows)
        if row * columns + column < len(items)
    ]


def sweep(summary: Summary, scenario: str) -> Chart:
    """Throughput against p99 latency across the concurrency sweep, one line per framework
    (markers grow with the concurrency; the baseline's points are labelled c=…)."""
    levels = summary.concurrency
    cells = summary.select(scenario)
    servers = [s for s in summary.servers if any(c.server == s for c in cells)]
    order = _sweep_order(summary, cells)
    shapes = {app: MARKERS[i % len(MARKERS)] for i, app in enumerate(order)}
    sizes = {level: 3.0 + 1.5 * i for i, level in enumerate(levels)}

    def draw(figure: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        panels = figure.subplots(1, len(servers), sharey=True, squeeze=False)[0]
        for axes, server in zip(panels, servers, strict=True):
            missing = []
            for app in order:
                line = [summary.cell(server, app, scenario, level) for level in levels]
                found = [c for c in line if c is not None]
                missing += _sweep_line(axes, app, shapes[app], sizes, found, summary.baseline)
            if missing:
                axes.text(
                    0.01,
                    0.99,
                    "\n".join(missing),
                    transform=axes.transAxes,
                    va="top",
                    fontsize=6.5,
                    color=palette.FAILED,
                )
            axes.set_title(server, loc="left", fontweight="bold")
            axes.set_xlabel("requests/s")
            axes.xaxis.set_major_locator(MaxNLocator(4))  # "35.0k" labels need room
            axes.xaxis.set_major_formatter(lambda v, _: numbers.short(v))
            _log_ms_axis(axes)
        panels[0].set_ylabel("p99 latency, ms (log)")
        columns = min(len(order), 5)
        figure.legend(
            handles=_framework_handles(order, shapes, summary.baseline, columns),
            loc="outside lower center",
            ncol=columns,
        )

    description = (
        "Throughput-latency curves: median requests per second against median p99 latency at "
        f"each concurrency level ({', '.join(map(str, levels))}), one line per framework. "
        + " ".join(
            _cells_text(
                _groups(summary, scenario, level),
                lambda c: (
                    f"{numbers.rps(c.rps.value)} req/s, p99 {numbers.ms(c.latency['p99'])} ms"
                    if c.rps and c.latency
                    else None
                ),
            ).replace(", fastest first: ", f" c={level}: ")
            for level in levels
        )
    )
    listed = ", ".join(map(str, levels))
    caption = (
        "Throughput-latency curve over the concurrency sweep: each point is one concurrency "
        f"level, median of the runs; markers grow with the concurrency ({listed}; "
        f"{summary.baseline}'s points are labelled c=…). Further right is faster, lower is "
        "snappier; where a curve turns upward the server is saturated. Failed levels have no "
        "point and are named in red in the panel. Legend fastest first."
    )
    lines = -(-len(order) // 5)
    return _render(
        _slug(scenario, "sweep"),
        f"{scenario}: throughput against p99 latency",
        description,
        caption,
        (WIDTH, 3.2 + 0.18 * lines),
        draw,
    )


def _sweep_order(summary: Summary, cells: Sequence[Cell]) -> list[str]:
    """The frameworks fastest first (ratio to the baseline on the first server at the first
    level), then any the first server did not measure."""
    first = [
        c for c in cells if c.server == cells[0].server and c.concurrency == cells[0].concurrency
    ]
    order = [c.app for c in ranking.ranked(first, summary.apps)]
    return order + [a for a in summary.apps if a not in order and any(c.app == a for c in cells)]


def _sweep_line(
    axes: Axes,
    app: str,
    shape: str,
    sizes: dict[int, float],
    cells: Sequence[Cell],
    baseline: str,
) -> list[str]:
    """Draw one framework's curve; return the levels it has no point for, in words."""
    measured = [c for c in cells if c.state == "ok" and c.rps and "p99" in c.latency]
    failed = [c for c in cells if c not in measured]
    colour = palette.colour(app)
    xs = [c.rps.value for c in measured if c.rps]
    ys = [c.latency["p99"] for c in measured]
    axes.plot(xs, ys, color=colour, linewidth=1.0, linestyle="--" if app == baseline else "-")
    for cell, x, y in zip(measured, xs, ys, strict=True):
        axes.plot(
            [x],
            [y],
            marker=shape,
            markersize=sizes[cell.concurrency],
            color=colour,
            markeredgecolor="#222",
            markeredgewidth=0.4,
        )
        if app == baseline:  # one set of level labels per panel: ten would cover each other
            axes.annotate(
                f"c={cell.concurrency}",
                (x, y),
                xytext=(3, -8),
                textcoords="offset points",
                fontsize=6,
                color="#333",
            )
    return [
        f"{app}: {_state_word(c) if c.state != 'ok' else 'no p99'} at c={c.concurrency}"
        for c in failed
    ]
