"""``python -m bench report`` and ``python -m bench compare`` (wired in by :mod:`bench.lab.cli`).

    python -m bench report [RUN ...] [--all] [--output reports] [--compare RUN | --no-compare]
    python -m bench compare RUN_A RUN_B [--output reports] [--alpha 0.05] [--threshold 0.03]
                                        [--changed] [--fail-on-regression]

RUN is ``latest``, a run id (or a unique prefix of one) or a run directory. Bad input gets a
one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bench.infra.process import ROOT
from bench.lab.calibration import matching
from bench.report import compare as comparing
from bench.report import numbers
from bench.report.load import ReportError, load_run, resolve, run_directories
from bench.report.summary import summarise

DEFAULT_REPORTS = ROOT / "reports"
VERDICT_STYLES = {
    "regression": "bold red",
    "broken": "bold red",
    "gain": "bold green",
    "fixed": "bold green",
    "unchanged": "dim",
    "not significant": "dim",
    "no verdict": "bold yellow",
}


def _console(stream: object = None) -> Console:
    # Logs and CI are not terminals: give the table room instead of rich's 80 columns.
    if sys.stdout.isatty():
        return Console(stderr=stream is sys.stderr)
    return Console(width=170, stderr=stream is sys.stderr)


def _probability(value: str) -> float:
    number = float(value)
    if not 0 < number < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def report_parser() -> argparse.ArgumentParser:
    """Options of ``python -m bench report``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench report",
        description="Render stored runs as self-contained HTML (reports/runs/<run>/index.html) "
        "and refresh reports/index.html.",
    )
    parser.add_argument("runs", nargs="*", metavar="RUN", help="run ids, 'latest' or paths")
    parser.add_argument("--all", action="store_true", help="re-render every stored run")
    parser.add_argument("--output", default=str(DEFAULT_REPORTS), help="reports directory")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--compare", metavar="RUN", help="compare with this run (default: auto)")
    group.add_argument(
        "--no-compare", action="store_true", help="no comparison with an earlier run"
    )
    return parser


def report_main(argv: Sequence[str]) -> int:
    """Render the named runs (default ``latest``); exit 2 on bad input."""
    args = report_parser().parse_args(list(argv))
    reports = Path(args.output)
    console, errors = _console(), _console(sys.stderr)
    from bench.report.index import render_index
    from bench.report.render import render_run

    try:
        targets = _targets(args, reports)
        previous = resolve(args.compare, reports) if args.compare else None
        if not targets:
            pages = render_index(reports)
            console.print(f"no stored run under {reports / 'runs'}; index: {pages[0]}")
            return 0
        for run_dir in targets:
            rendered = render_run(
                run_dir, reports, previous=previous, auto_previous=not args.no_compare
            )
            console.print(f"report: {rendered.path}")
            if rendered.comparison is not None:
                _print_comparison_headline(rendered.comparison, console, errors)
    except ReportError as exc:
        errors.print(f"[red]error:[/] {exc}")
        return 2
    console.print(f"index: {reports / 'index.html'}")
    return 0


def _targets(args: argparse.Namespace, reports: Path) -> list[Path]:
    if args.all:
        return run_directories(reports)
    return [resolve(reference, reports) for reference in args.runs or ["latest"]]


def _print_warnings(comparison: comparing.Comparison, errors: Console) -> None:
    for warning in comparison.warnings:
        loud = warning.startswith("DIFFERENT MACHINES")
        errors.print(Panel(Text(warning, style="bold red" if loud else "yellow"), title="WARNING"))


def _print_comparison_headline(
    comparison: comparing.Comparison, console: Console, errors: Console
) -> None:
    _print_warnings(comparison, errors)
    counts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(comparison.counts().items()))
    console.print(f"compared with {comparison.a.run.run_id}: {counts}")
    _print_machine(comparison, console)


def compare_parser() -> argparse.ArgumentParser:
    """Options of ``python -m bench compare``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench compare",
        description="Compare two stored runs cell by cell; only significant changes of at "
        "least --threshold are called regressions or gains.",
    )
    parser.add_argument("run_a", metavar="RUN_A", help="reference run (usually the older)")
    parser.add_argument("run_b", metavar="RUN_B", help="run compared with it")
    parser.add_argument("--output", default=str(DEFAULT_REPORTS), help="reports directory")
    parser.add_argument("--alpha", type=_probability, default=comparing.ALPHA)
    parser.add_argument(
        "--threshold",
        type=_probability,
        default=comparing.THRESHOLD,
        help="smallest relative change called a regression or gain (default 0.03)",
    )
    parser.add_argument(
        "--changed",
        action="store_true",
        help="list only cells whose verdict is not 'not significant' or 'unchanged'",
    )
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when a cell regressed significantly or broke",
    )
    return parser


def compare_main(argv: Sequence[str]) -> int:
    """Print the comparison of two runs; exit 1 on regressions with --fail-on-regression."""
    args = compare_parser().parse_args(list(argv))
    reports = Path(args.output)
    console, errors = _console(), _console(sys.stderr)
    try:
        a = summarise(load_run(resolve(args.run_a, reports)))
        b = summarise(load_run(resolve(args.run_b, reports)))
    except ReportError as exc:
        errors.print(f"[red]error:[/] {exc}")
        return 2
    calibration = matching(reports, b.run.info.config, b.run.info.env.machine)
    comparison = comparing.compare(a, b, args.alpha, args.threshold, calibration)
    _print_warnings(comparison, errors)
    console.print(comparison_table(comparison, changed_only=args.changed))
    for line in comparison_notes(comparison):
        console.print(line, highlight=False)
    console.print(comparison.calibration_line(), highlight=False)
    for cell in comparison.cells:
        resolving = comparison.resolving(cell)
        if resolving is not None and cell.throughput is not None:
            console.print(f"  {cell.cell_id}: {cell.verdict}; {resolving}", highlight=False)
    _print_machine(comparison, console)
    console.print(Text(comparison.power_note(), style="dim"))
    if comparison.package_differences:
        console.print("versions changed: " + "; ".join(comparison.package_differences))
    counts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(comparison.counts().items()))
    console.print(f"[bold]{counts}[/]")
    _print_warnings(comparison, errors)  # again at the end, where the eye lands
    if args.fail_on_regression and comparison.actionable:
        return 1
    return 0


def _print_machine(comparison: comparing.Comparison, console: Console) -> None:
    """The machine's own speed B/A and, when it moved past 5%, the sentence saying so."""
    if comparison.machine is None:
        return
    console.print(comparison.machine.line("B", "A"), highlight=False)
    sentence = comparison.machine.verdict()
    if sentence:
        console.print(Text(sentence, style="bold yellow"))


def _change(change: comparing.MetricChange | None) -> tuple[str, str, str, str]:
    if change is None:
        return ("-", "-", "-", "-")
    p = change.significance.p_value
    return (
        numbers.percent(change.change, signed=True),
        "n/a" if p is None else ("<0.001" if p < 0.001 else f"{p:.3f}"),
        "n/a"
        if change.significance.resolvable is None
        else numbers.percent(change.significance.resolvable),
        change.verdict,
    )


def _with_p(change: str, p: str) -> str:
    return "-" if change == "-" else f"{change} (p {p})"


def comparison_table(comparison: comparing.Comparison, changed_only: bool = False) -> Table:
    """The per-cell comparison as a rich table."""
    table = Table(
        title=f"{comparison.a.run.run_id} (A) → {comparison.b.run.run_id} (B)",
        title_justify="left",
        header_style="bold",
    )
    width = max((len(cell.cell_id) for cell in comparison.cells), default=4)
    table.add_column("cell", no_wrap=True, min_width=width)
    table.add_column("verdict", no_wrap=True)
    for column in ("req/s A→B", "change (p)", "resolvable", "ratio A→B", "ratio change (p)",
                   "p99", "machine B/A"):  # fmt: skip
        table.add_column(column, justify="right", no_wrap=True)
    quiet = {"not significant", "unchanged"}
    for cell in comparison.cells:
        if changed_only and cell.verdict in quiet:
            continue
        style = VERDICT_STYLES.get(cell.verdict, "")
        throughput, p99 = cell.throughput, cell.p99
        change, p, resolvable, _ = _change(throughput)
        ratio_change, ratio_p, _, _ = _change(cell.ratio)
        p99_change, _, _, p99_verdict = _change(p99)
        table.add_row(
            cell.cell_id,
            Text(cell.verdict, style=style),
            f"{numbers.rps(throughput.a)}→{numbers.rps(throughput.b)}" if throughput else "-",
            _with_p(change, p),
            resolvable,
            f"{cell.ratio.a:.3f}→{cell.ratio.b:.3f}" if cell.ratio else "-",
            _with_p(ratio_change, ratio_p),
            "-"
            if p99 is None
            else f"{p99_change} {p99_verdict.replace('not significant', 'n.s.')}",
            "-" if cell.machine_ratio is None else f"{cell.machine_ratio:.3f}",
        )
    return table


def comparison_notes(comparison: comparing.Comparison) -> list[str]:
    """One line per cell with a note (why there is no verdict, what qualifies a figure)."""
    return [f"{cell.cell_id}: {cell.note}" for cell in comparison.cells if cell.note]
