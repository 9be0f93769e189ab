"""The terminal summary table of a run (rich), rendered from stored records only."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.infra.gauge import GaugeReading, GaugeVersionError
from bench.infra.results import RunInfo
from bench.lab.stats import Estimate, relative_difference
from bench.lab.summary import CellSummary, MachineSpeed, machine_ratio

GAUGE_LABELS = (
    ("start", "start"),
    ("resumed", "resumed"),
    ("end", "end"),
    ("generator", "generator CPUs at start"),
)


def _rps(estimate: Estimate | None) -> str:
    if estimate is None:
        return "-"
    if estimate.n == 1:
        return f"{estimate.value:,.0f}"
    return f"{estimate.value:,.0f} [{estimate.low:,.0f}-{estimate.high:,.0f}]"


def _ratio(cell: CellSummary) -> str:
    if cell.is_baseline:
        return "1 (baseline)"
    if cell.ratio is None:
        return "-"
    estimate = cell.ratio
    if estimate.n == 1:
        return f"{estimate.value:.2f}"
    return f"{estimate.value:.2f} [{estimate.low:.2f}-{estimate.high:.2f}]"


def _significance(cell: CellSummary, cells: Sequence[CellSummary]) -> str:
    """``≈`` when the cell's CI overlaps the baseline's: not significantly different."""
    if cell.is_baseline or cell.rps is None:
        return ""
    same_block = (cell.server, cell.scenario, cell.concurrency)
    for other in cells:
        if (other.server, other.scenario, other.concurrency) != same_block:
            continue
        if other.is_baseline and other.rps is not None and other.rps.n > 1:
            return " ≈" if cell.rps.overlaps(other.rps) else ""
    return ""


def _machine_spread(cell: CellSummary) -> str:
    if cell.machine is None:
        return "-"
    if cell.machine.readings < 2:
        return "n/a (1 run)"  # one reading has no spread; 0% would read as "steady"
    return f"{cell.machine.spread:.0%}"


def _reading(reading: GaugeReading) -> str:
    pinned = "" if reading.pinned else f", NOT pinned to {reading.cpus}"
    return f"{reading.units_per_s:,.0f} (CV {reading.cv:.1%}{pinned})"


def gauge_lines(info: RunInfo, machine: MachineSpeed | None) -> list[str]:
    """The run's machine-speed gauge: whole-run readings and the per-step median/spread."""
    if not info.gauge and machine is None:
        return ["machine speed: not gauged in this run (before the gauge existed, or --gauge-s 0)"]
    lines = []
    readings = [(label, info.gauge[key]) for key, label in GAUGE_LABELS if key in info.gauge]
    if readings:
        version = readings[0][1].version
        parts = "; ".join(f"{label} {_reading(reading)}" for label, reading in readings)
        lines.append(
            f"machine speed (gauge v{version}, units/s of fixed Python work; server CPUs unless "
            f"named): {parts}"
        )
        start, end = info.gauge.get("start"), info.gauge.get("end")
        if start is not None and end is not None and start.version == end.version:
            lines[-1] += f"; end/start {end.units_per_s / start.units_per_s:.3f}"
    if machine is not None and machine.readings == 1:
        lines.append(f"machine speed before the one run: {machine.median:,.0f} units/s")
    elif machine is not None:
        lines.append(
            f"machine speed before each run: median {machine.median:,.0f} units/s over "
            f"{machine.readings} runs, spread {machine.spread:.0%} (fastest/slowest - 1)"
        )
    return lines


def summary_table(cells: Sequence[CellSummary], title: str) -> Table:
    """One row per cell: median rps with its 95% CI, p99, errors, ratio to raw, flags."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for column, justify in (
        ("server", "left"),
        ("scenario", "left"),
        ("c", "right"),
        ("app", "left"),
        ("req/s median [95% CI]", "right"),
        ("p99 ms", "right"),
        ("errors", "right"),
        ("ratio to raw [CI]", "right"),
        ("srv CPU%", "right"),
        ("gen CPU%", "right"),
        ("machine spread", "right"),
        ("flags / status", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for cell in cells:
        if cell.not_applicable:
            table.add_row(
                cell.server, cell.scenario, str(cell.concurrency), cell.app,
                Text("n/a", style="dim"), "-", "-", "-", "-", "-", "-",
                Text(f"not applicable: {cell.reason}", style="dim"),
            )  # fmt: skip
            continue
        if cell.failed:
            status = Text(f"FAILED: {cell.reason}", style="bold red")
            table.add_row(
                cell.server, cell.scenario, str(cell.concurrency), cell.app,
                Text("failed", style="red"), "-", "-", "-", "-", "-", "-", status,
            )  # fmt: skip
            continue
        flags = Text(", ".join(cell.flags), style="yellow") if cell.flags else Text("ok")
        if cell.refusals:
            flags = Text("NO VERDICT: " + "; ".join(cell.refusals), style="bold red")
        table.add_row(
            cell.server,
            cell.scenario,
            str(cell.concurrency),
            cell.app,
            _rps(cell.rps) + _significance(cell, cells),
            f"{cell.p99_ms:.2f}" if cell.p99_ms is not None else "-",
            f"{cell.errors:,}",
            _ratio(cell),
            f"{cell.server_cpu:.0f}" if cell.server_cpu is not None else "-",
            f"{cell.generator_cpu:.0f}" if cell.generator_cpu is not None else "-",
            _machine_spread(cell),
            flags,
        )
    return table


def print_summary(
    cells: Sequence[CellSummary],
    info: RunInfo,
    console: Console,
    speed: MachineSpeed | None = None,
    banner: str | None = None,
) -> None:
    """Print the run's header (``banner`` first: the run was mostly contended), its
    machine-speed gauge, its table and the legend."""
    config = info.config
    machine = info.env.machine
    if banner:
        console.print(f"[bold red]{banner}[/]", highlight=False)
    console.print(
        f"[bold]run {info.run_id}[/] ({info.status}) profile={config.profile} "
        f"runs={config.runs} x {config.duration_s:g}s, warm-up {config.warmup_s:g}s, "
        f"driver={config.driver}, server CPUs {config.server_cpus} / generator CPUs "
        f"{config.generator_cpus}\n{machine.cpu_model}, {machine.logical_cpus} CPUs, "
        f"Linux {machine.kernel}, Python {info.env.software.python}, commit "
        f"{info.env.git.short}{' (dirty)' if info.env.git.dirty else ''}"
    )
    for line in gauge_lines(info, speed):
        console.print(line, highlight=False)
    console.print(summary_table(cells, "Throughput (correct responses only), latency, overhead"))
    console.print(
        "req/s: median of interleaved runs with a 95% bootstrap CI; ≈: CI overlaps raw's "
        "(not significantly different). p99: median of the runs' p99 (closed loop, "
        "coordinated omission not corrected). machine spread: fastest/slowest - 1 of the "
        "machine-speed gauge before the cell's runs (throughput is not corrected by it). "
        "NO VERDICT: runs that are no evidence of the server's capacity (contended, "
        "unsaturated, generator-bound; bench/lab/evidence.py): compare calls no gain or "
        "regression on such a cell. Flags: see bench/infra/results.py."
    )
    for note in info.notes:
        console.print(f"[bold yellow]NOTE:[/] {note}")


def repeatability_table(
    cells: Sequence[CellSummary], other: Sequence[CellSummary], threshold: float = 0.05
) -> tuple[Table, float | None]:
    """Per-cell difference of the medians of two runs of the same matrix, and the worst one.

    The repeatability test of the lab: two consecutive runs should agree within ``threshold``
    on every cell measured in both.
    """
    table = Table(title="Repeatability: median req/s of two runs", title_justify="left")
    for column in ("cell", "this run", "other run", "difference", "machine this/other"):
        table.add_column(column, justify="left" if column == "cell" else "right")
    theirs = {cell.cell_id: cell for cell in other}
    worst: float | None = None
    for cell in cells:
        match = theirs.get(cell.cell_id)
        if cell.rps is None or match is None or match.rps is None:
            continue
        difference = relative_difference(cell.rps.value, match.rps.value)
        worst = difference if worst is None else max(worst, difference)
        style = "red" if difference > threshold else ""
        table.add_row(
            cell.cell_id,
            f"{cell.rps.value:,.0f}",
            f"{match.rps.value:,.0f}",
            Text(f"{difference:.1%}", style=style),
            _cell_machine_ratio(cell.machine, match.machine),
        )
    return table, worst


def _cell_machine_ratio(this: MachineSpeed | None, other: MachineSpeed | None) -> str:
    try:
        ratio = machine_ratio(this, other)
    except GaugeVersionError:
        return "n/a (gauge versions differ)"
    return "-" if ratio is None else f"{ratio:.3f}"
