"""The report's charts, drawn with matplotlib (Agg, imported lazily) as inline SVG.

Every chart reads :class:`~bench.report.summary.Summary` cells only. A failed or unmeasured
cell is drawn as a red ✗ with a word, never as a zero bar; a generator-bound (or otherwise
qualified) figure is hatched. Colours come from :mod:`bench.report.palette`, so a framework
has the same colour everywhere. Each chart carries a title, a text description listing its
values (the alt text) and a caption saying how to read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.report import numbers, palette
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


def _describe(cell: Cell | None, value: Callable[[Cell], str | None]) -> str:
    if cell is None:
        return "not planned"
    if cell.state != "ok":
        return f"{cell.state} ({cell.reason})"
    text = value(cell) or f"no figure ({cell.ratio_note})"
    severe = ", ".join(mark.label for mark in cell.severe)
    return f"{text} [{severe}]" if severe else text


def _present(summary: Summary, scenario: str, level: int) -> tuple[list[str], list[str]]:
    cells = summary.select(scenario, level)
    servers = [s for s in summary.servers if any(c.server == s for c in cells)]
    apps = [a for a in summary.apps if any(c.app == a for c in cells)]
    return servers, apps


def _offsets(count: int, width: float = 0.8) -> tuple[list[float], float]:
    bar = min(width / max(count, 1), 0.3)  # one or two apps must not make slabs
    return [(i - (count - 1) / 2) * bar for i in range(count)], bar


def _failure_marker(axes: Axes, x: float, label: str) -> None:
    axes.plot([x], [0], marker="x", color=palette.FAILED, markersize=7, clip_on=False)
    axes.annotate(
        label,
        (x, 0),
        xytext=(0, 6),
        textcoords="offset points",
        rotation=90,
        ha="center",
        va="bottom",
        color=palette.FAILED,
        fontsize=7,
    )


def _legend(
    axes: Axes, apps: Sequence[str], qualified: bool, failed: bool, baseline: str | None = None
) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [Patch(facecolor=palette.colour(app), label=app) for app in apps]
    if baseline:
        handles.append(
            Line2D([], [], color=palette.colour(baseline), linestyle="--", label=f"{baseline} = 1")
        )
    if qualified:
        handles.append(
            Patch(facecolor="white", edgecolor="#333", hatch=QUALIFIED_HATCH, label="qualified*")
        )
    if failed:
        handles.append(
            Line2D([], [], color=palette.FAILED, marker="x", linestyle="", label="failed / not run")
        )
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))


Figure3 = tuple[float, float, float]
"""(value, low, high) of one bar; a string instead names why there is no bar."""


def _bars(
    axes: Axes,
    summary: Summary,
    scenario: str,
    level: int,
    apps: Sequence[str],
    servers: Sequence[str],
    figure_of: Callable[[Cell], Figure3 | str],
    formatter: Callable[[float], str] | None = None,
) -> tuple[bool, bool]:
    """Grouped bars (x = server, one bar per app); returns (any qualified, any failed)."""
    offsets, width = _offsets(len(apps))
    qualified = failed = False
    for index, app in enumerate(apps):
        for position, server in enumerate(servers):
            x = position + offsets[index]
            cell = summary.cell(server, app, scenario, level)
            if cell is None:
                continue  # not planned in this run: nothing to show or to hide
            figure = figure_of(cell) if cell.state == "ok" else _state_word(cell)
            if isinstance(figure, str):
                failed = True
                _failure_marker(axes, x, figure)
                continue
            hatch = QUALIFIED_HATCH if cell.severe else None
            qualified = qualified or bool(cell.severe)
            label = formatter(figure[0]) if formatter else None
            _bar(axes, x, width, figure, palette.colour(app), hatch, label)
    axes.set_xticks(range(len(servers)), servers)
    axes.set_xlim(-0.5, len(servers) - 0.5)
    return qualified, failed


def _state_word(cell: Cell) -> str:
    return {"failed": "failed", "not_applicable": "n/a"}.get(cell.state, "not run")


def _bar(
    axes: Axes,
    x: float,
    width: float,
    figure: Figure3,
    colour: str,
    hatch: str | None,
    label: str | None = None,
) -> None:
    value, low, high = figure
    axes.bar(
        x,
        value,
        width * 0.92,
        color=colour,
        edgecolor="#222" if hatch else colour,
        hatch=hatch,
        linewidth=0.6,
        yerr=[[value - low], [high - value]] if high > low else None,
        capsize=2.5,
        error_kw={"elinewidth": 0.9, "ecolor": "#111"},
    )
    if label is not None:
        # Above the whisker, not the bar top, so the label never hides the interval.
        axes.annotate(
            label,
            (x, high),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            rotation=90,
            fontsize=6.5,
            color="#333",
        )


def _rps_figure(cell: Cell) -> Figure3 | str:
    return (cell.rps.value, cell.rps.low, cell.rps.high) if cell.rps else "no runs"


def _ratio_figure(cell: Cell) -> Figure3 | str:
    return (cell.ratio.value, cell.ratio.low, cell.ratio.high) if cell.ratio else "no baseline"


def _cells_text(
    summary: Summary,
    scenario: str,
    level: int,
    value: Callable[[Cell], str | None],
    apps: Sequence[str] | None = None,
) -> str:
    servers, present = _present(summary, scenario, level)
    parts = []
    for server in servers:
        items = [
            f"{app} {_describe(summary.cell(server, app, scenario, level), value)}"
            for app in (apps if apps is not None else present)
            if summary.cell(server, app, scenario, level) is not None
        ]
        parts.append(f"{server}: " + "; ".join(items))
    return ". ".join(parts) + "."


def throughput(summary: Summary, scenario: str, level: int) -> Chart:
    """Grouped bars of median throughput per framework per server, with CI error bars."""
    servers, apps = _present(summary, scenario, level)

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        qualified, failed = _bars(
            axes, summary, scenario, level, apps, servers, _rps_figure, numbers.short
        )
        axes.set_ylabel("requests/s (correct responses)")
        axes.set_ylim(bottom=0)
        axes.margins(y=0.18)
        axes.yaxis.set_major_formatter(lambda v, _: numbers.short(v))
        _legend(axes, apps, qualified, failed)

    title = f"{scenario}: throughput per framework and server (c={level})"
    description = f"Grouped bar chart, median requests per second with {CI_TEXT}. " + _cells_text(
        summary,
        scenario,
        level,
        lambda c: (
            f"{numbers.rps(c.rps.value)} req/s CI {numbers.interval(c.rps)}" if c.rps else None
        ),
    )
    caption = (
        f"Median throughput of the interleaved runs at concurrency {level}; error bars: "
        f"{CI_TEXT}. Only correct responses count. *Hatched: generator-bound or at the "
        "driver's ceiling (the table gives the reason); ✗: failed or not run, never zero."
    )
    return _render(
        _slug(scenario, f"c{level}", "throughput"), title, description, caption, (WIDTH, 3.4), draw
    )


def overhead(summary: Summary, scenario: str, level: int) -> Chart:
    """Each framework's throughput as a ratio to raw ASGI on the same server, with CIs."""
    baseline = summary.baseline
    servers, present = _present(summary, scenario, level)
    apps = [app for app in present if app != baseline]

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        qualified, failed = _bars(
            axes, summary, scenario, level, apps, servers, _ratio_figure, numbers.ratio
        )
        axes.axhline(1.0, color=palette.colour(baseline), linestyle="--", linewidth=1)
        axes.set_ylabel(f"throughput / {baseline} on the same server")
        axes.set_ylim(bottom=0)
        axes.margins(y=0.2)
        _legend(axes, apps, qualified, failed, baseline=baseline)

    description = (
        f"Grouped bar chart of each framework's median throughput divided by the {baseline} "
        f"ASGI baseline's on the same server (1.0 = as fast as {baseline}), with a 95% "
        "bootstrap CI of the ratio. "
        + _cells_text(
            summary,
            scenario,
            level,
            lambda c: (
                f"{numbers.ratio(c.ratio.value)} CI {numbers.interval(c.ratio, 'ratio')}"
                if c.ratio
                else None
            ),
            apps,
        )
    )
    caption = (
        f"Framework overhead: median throughput ÷ the {baseline} ASGI app's median on the same "
        "server in the same run (dashed line = 1). Error bars: 95% bootstrap CI of the ratio, "
        "resampling both sides. Lower means more overhead."
    )
    title = f"{scenario}: throughput relative to {baseline} ASGI (c={level})"
    return _render(
        _slug(scenario, f"c{level}", "overhead"), title, description, caption, (WIDTH, 3.2), draw
    )


def overview(summary: Summary, level: int) -> Chart:
    """Ratio to raw for every scenario, one panel per server: the report's headline."""
    baseline = summary.baseline
    servers = [s for s in summary.servers if any(c.server == s for c in summary.cells.values())]
    apps = [a for a in summary.apps if a != baseline]
    scenarios = list(summary.scenarios)

    def draw(figure: Figure) -> None:
        panels = figure.subplots(1, len(servers), sharey=True, squeeze=False)[0]
        offsets, width = _offsets(len(apps))
        for axes, server in zip(panels, servers, strict=True):
            for index, app in enumerate(apps):
                for position, scenario in enumerate(scenarios):
                    _overview_bar(
                        axes,
                        summary.cell(server, app, scenario, level),
                        position + offsets[index],
                        width,
                    )
            axes.axhline(1.0, color=palette.colour(baseline), linestyle="--", linewidth=1)
            axes.set_title(server)
            axes.set_xticks(range(len(scenarios)), scenarios, rotation=30, ha="right")
        # Shared y: fix the bottom only once every panel is drawn, or later whiskers clip.
        panels[0].set_ylim(bottom=0)
        panels[0].set_ylabel(f"throughput / {baseline} ASGI")
        _legend(panels[-1], apps, qualified=False, failed=False, baseline=baseline)

    description = (
        f"Bar charts, one per server, of each framework's throughput divided by the {baseline} "
        "ASGI baseline's for every scenario. "
        + " ".join(
            _cells_text(
                summary,
                scenario,
                level,
                lambda c: numbers.ratio(c.ratio.value) if c.ratio else None,
                apps,
            ).replace(": ", f" {scenario}: ", 1)
            for scenario in scenarios
        )
    )
    caption = (
        f"Every framework's throughput as a fraction of {baseline} ASGI on the same server "
        f"(c={level}); error bars: 95% bootstrap CI. ✗ marks a failed cell."
    )
    height = 2.6 + 0.08 * max(len(s) for s in scenarios) if scenarios else 3.0
    return _render(
        _slug("overview", f"c{level}"),
        f"Overhead relative to {baseline} ASGI, all scenarios",
        description,
        caption,
        (WIDTH + 1.0, height),
        draw,
    )


def _overview_bar(axes: Axes, cell: Cell | None, x: float, width: float) -> None:
    if cell is None:
        return
    figure = _ratio_figure(cell) if cell.state == "ok" else _state_word(cell)
    if isinstance(figure, str):
        axes.plot([x], [0], marker="x", color=palette.FAILED, markersize=6, clip_on=False)
        return
    _bar(axes, x, width, figure, palette.colour(cell.app), QUALIFIED_HATCH if cell.severe else None)


def latency(summary: Summary, scenario: str, level: int) -> Chart:
    """Latency percentiles (p50/p90/p99/p99.9) per framework, one panel per server."""
    servers, apps = _present(summary, scenario, level)
    labels = [label for _, label in PERCENTILES]

    def draw(figure: Figure) -> None:
        panels = figure.subplots(1, len(servers), sharey=True, squeeze=False)[0]
        for axes, server in zip(panels, servers, strict=True):
            for app in apps:
                _latency_line(axes, summary.cell(server, app, scenario, level), labels)
            axes.set_title(server)
            _log_ms_axis(axes)
        panels[0].set_ylabel("latency, ms (log scale)")
        panels[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))

    description = (
        "Line chart of latency percentiles p50, p90, p99 and p99.9 in milliseconds, median "
        "over runs, one line per framework. " + _cells_text(summary, scenario, level, _latency_text)
    )
    caption = (
        f"Latency percentiles at concurrency {level} (median over runs; log scale). Closed-loop "
        "load: coordinated omission is not corrected, so tail latency is understated when a "
        "server stalls. Frameworks listed with ✗ failed and have no line."
    )
    title = f"{scenario}: latency percentiles (c={level})"
    return _render(
        _slug(scenario, f"c{level}", "latency"), title, description, caption, (WIDTH, 3.0), draw
    )


def _log_ms_axis(axes: Axes) -> None:
    """A log y axis labelled 1-2-5 in plain milliseconds (no ``6x10^0`` minor labels)."""
    from matplotlib.ticker import LogLocator, NullFormatter

    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(lambda v, _: f"{v:g}")  # 0.5, 1, 2, 5, 10, 200
    axes.yaxis.set_minor_formatter(NullFormatter())


def _latency_text(cell: Cell) -> str | None:
    if not cell.latency:
        return None
    return ", ".join(f"{label} {numbers.ms(cell.latency[key])} ms" for key, label in PERCENTILES)


def _latency_line(axes: Axes, cell: Cell | None, labels: Sequence[str]) -> None:
    if cell is None:
        return
    colour = palette.colour(cell.app)
    if cell.state != "ok" or not cell.latency:
        axes.plot(
            [],
            [],
            marker="x",
            linestyle="",
            color=palette.FAILED,
            label=f"{cell.app}: {cell.state if cell.state != 'ok' else 'no latency recorded'}",
        )
        return
    values = [cell.latency[key] for key, _ in PERCENTILES]
    style = "--" if cell.severe else "-"
    axes.plot(
        labels,
        values,
        marker="o",
        markersize=3.5,
        color=colour,
        linestyle=style,
        label=cell.app + (" *" if cell.severe else ""),
    )


def resources(summary: Summary, scenario: str, level: int) -> Chart:
    """Server CPU (with the generator's for headroom) and server RSS per framework."""
    servers, apps = _present(summary, scenario, level)

    def draw(figure: Figure) -> None:
        cpu_axes, rss_axes = figure.subplots(1, 2)
        _bars(
            axes=cpu_axes,
            summary=summary,
            scenario=scenario,
            level=level,
            apps=apps,
            servers=servers,
            figure_of=lambda c: _point(c.server_cpu),
        )
        _generator_ticks(cpu_axes, summary, scenario, level, apps, servers)
        cpu_axes.set_ylabel("CPU, % of one core")
        cpu_axes.set_title("server CPU (bars), generator CPU (—)")
        _bars(
            axes=rss_axes,
            summary=summary,
            scenario=scenario,
            level=level,
            apps=apps,
            servers=servers,
            figure_of=lambda c: _point(c.rss_mib),
        )
        rss_axes.set_ylabel("MiB")
        rss_axes.set_title("server peak RSS")
        for axes in (cpu_axes, rss_axes):
            axes.set_ylim(bottom=0)
            axes.margins(y=0.15)
        _legend(rss_axes, apps, qualified=False, failed=False)

    description = "Bar charts of server CPU use and peak memory per framework. " + _cells_text(
        summary, scenario, level, _resource_text
    )
    caption = (
        "Resource use sampled with psutil during the runs: server process-tree CPU (median of "
        "the runs' means) with the load generator's (black tick, same statistic — near 100% "
        "means the generator, not the server, was the limit), and the server's peak RSS."
    )
    title = f"{scenario}: server CPU and memory (c={level})"
    return _render(
        _slug(scenario, f"c{level}", "resources"), title, description, caption, (WIDTH, 2.8), draw
    )


def _point(value: float | None) -> Figure3 | str:
    return "not sampled" if value is None else (value, value, value)


def _resource_text(cell: Cell) -> str | None:
    if cell.server_cpu is None or cell.rss_mib is None:
        return None
    generator = f", generator {numbers.cpu(cell.generator_cpu)}" if cell.generator_cpu else ""
    return f"CPU {numbers.cpu(cell.server_cpu)}{generator}, RSS {numbers.mib(cell.rss_mib)} MiB"


def _generator_ticks(
    axes: Axes,
    summary: Summary,
    scenario: str,
    level: int,
    apps: Sequence[str],
    servers: Sequence[str],
) -> None:
    offsets, width = _offsets(len(apps))
    for index, app in enumerate(apps):
        for position, server in enumerate(servers):
            cell = summary.cell(server, app, scenario, level)
            if cell is not None and cell.state == "ok" and cell.generator_cpu is not None:
                x = position + offsets[index]
                axes.hlines(
                    cell.generator_cpu,
                    x - width / 2.5,
                    x + width / 2.5,
                    colors="#111",
                    linewidth=1.6,
                )


def sweep(summary: Summary, scenario: str) -> Chart:
    """Throughput against p99 latency across the concurrency sweep, one line per framework."""
    levels = summary.concurrency
    cells = summary.select(scenario)
    servers = [s for s in summary.servers if any(c.server == s for c in cells)]
    apps = [a for a in summary.apps if any(c.app == a for c in cells)]

    def draw(figure: Figure) -> None:
        panels = figure.subplots(1, len(servers), sharey=True, squeeze=False)[0]
        for axes, server in zip(panels, servers, strict=True):
            for app in apps:
                line = [summary.cell(server, app, scenario, level) for level in levels]
                _sweep_line(axes, app, [c for c in line if c is not None])
            axes.set_title(server)
            axes.set_xlabel("requests/s")
            axes.xaxis.set_major_formatter(lambda v, _: numbers.short(v))
            _log_ms_axis(axes)
        panels[0].set_ylabel("p99 latency, ms (log)")
        panels[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))

    description = (
        "Throughput-latency curves: median requests per second against median p99 latency at "
        f"each concurrency level ({', '.join(map(str, levels))}), one line per framework. "
        + " ".join(
            _cells_text(
                summary,
                scenario,
                level,
                lambda c: (
                    f"{numbers.rps(c.rps.value)} req/s, p99 {numbers.ms(c.latency['p99'])} ms"
                    if c.rps and c.latency
                    else None
                ),
            ).replace(": ", f" c={level}: ", 1)
            for level in levels
        )
    )
    caption = (
        "Throughput-latency curve over the concurrency sweep: each point is one concurrency "
        "level (labelled c=…), median of the runs. Further right is faster, lower is snappier; "
        "where a curve turns upward the server is saturated. Failed levels are left out and "
        "listed in the legend."
    )
    return _render(
        _slug(scenario, "sweep"),
        f"{scenario}: throughput against p99 latency",
        description,
        caption,
        (WIDTH, 3.2),
        draw,
    )


def _sweep_line(axes: Axes, app: str, cells: Sequence[Cell]) -> None:
    measured = [c for c in cells if c.state == "ok" and c.rps and "p99" in c.latency]
    failed = [c for c in cells if c not in measured]
    label = app + (f" (✗ c={','.join(str(c.concurrency) for c in failed)})" if failed else "")
    if not measured:
        axes.plot([], [], marker="x", linestyle="", color=palette.FAILED, label=label)
        return
    xs = [c.rps.value for c in measured if c.rps]
    ys = [c.latency["p99"] for c in measured]
    axes.plot(xs, ys, marker="o", markersize=3.5, color=palette.colour(app), label=label)
    for cell, x, y in zip(measured, xs, ys, strict=True):
        axes.annotate(
            f"c={cell.concurrency}",
            (x, y),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=6,
            color=palette.colour(app),
        )
