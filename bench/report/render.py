"""Render a stored run to ``reports/runs/<run>/index.html`` (jinja2, autoescaped, one file).

The page is self-contained: CSS inline, charts inline SVG, no script, no font, no request to
anywhere — it opens from a CI artefact or an e-mail attachment the same as from disk. The
headline chart is also written alone as ``overview.svg`` beside it, for READMEs and issues.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from bench.infra import results
from bench.lab.calibration import PROFILE_PREFIX as CALIBRATION_PREFIX
from bench.lab.calibration import matching
from bench.lab.evidence import contention_banner
from bench.report import charts, conformance, panel, ranking
from bench.report import compare as comparing
from bench.report.index import render_index
from bench.report.load import LoadedRun, load_run, run_directories
from bench.report.summary import Cell, Summary, summarise
from bench.report.templating import PAGE, templates


@dataclass(frozen=True, slots=True)
class TableGroup:
    """The table rows of one server (at one concurrency and worker count), fastest first."""

    label: str
    cells: list[Cell]


@dataclass(frozen=True, slots=True)
class ScenarioBlock:
    """One scenario's section: charts, the table of every cell, the caveats it mentions."""

    name: str
    description: str
    charts: list[charts.Chart]
    cells: list[Cell]
    reasons: list[tuple[str, str]]
    groups: list[TableGroup]


@dataclass(frozen=True, slots=True)
class Rendered:
    """What :func:`render_run` wrote and what it compared against."""

    path: Path
    comparison: comparing.Comparison | None
    how_picked: str | None


OVERVIEW = "overview.svg"


def standalone_svg(chart: charts.Chart) -> str:
    """The chart as an SVG file of its own (the inline markup keeps its namespace)."""
    return '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + chart.svg + "\n"


def primary_level(summary: Summary) -> int:
    """The concurrency the per-scenario charts show: the run's first configured level."""
    configured = summary.run.info.config.concurrency
    return configured[0] if configured else summary.concurrency[0]


def _description(scenario: str) -> str:
    from bench.lab import scenarios  # the registry names scenarios; records hold only the name

    try:
        return scenarios.get(scenario).summary
    except (KeyError, AttributeError):
        return ""


def _reasons(cells: list[Cell]) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for cell in cells:
        for mark in cell.marks:
            found.setdefault(mark.label, mark.reason.rsplit(" (", 1)[0])
    return sorted(found.items())


def table_groups(summary: Summary, scenario: str) -> list[TableGroup]:
    """The scenario's table: one group per server (per concurrency level and worker count
    when the run measured several), each fastest first by the ratio to the baseline."""
    groups = []
    for workers in summary.workers:
        for level in sorted({c.concurrency for c in summary.select(scenario, workers=workers)}):
            for server, cells in ranking.by_server(
                summary, summary.select(scenario, level, workers)
            ):
                label = server
                if summary.sweep:
                    label += f" · concurrency {level}"
                if summary.scaling:
                    label += f" · {workers} worker{'s' if workers != 1 else ''}"
                groups.append(TableGroup(label, cells))
    return groups


def scenario_blocks(summary: Summary) -> list[ScenarioBlock]:
    """Charts and table rows per scenario, in the run's scenario order."""
    level = primary_level(summary)
    blocks = []
    for scenario in summary.scenarios:
        cells = summary.select(scenario)
        if not cells:
            continue
        drawn = [
            charts.throughput(summary, scenario, level),
            charts.overhead(summary, scenario, level),
            charts.latency(summary, scenario, level),
            charts.resources(summary, scenario, level),
        ]
        if summary.sweep:
            drawn.append(charts.sweep(summary, scenario))
        if summary.scaling:
            drawn.append(charts.scaling(summary, scenario, level))
        groups = table_groups(summary, scenario)
        shown = [cell for group in groups for cell in group.cells]
        blocks.append(
            ScenarioBlock(scenario, _description(scenario), drawn, shown, _reasons(shown), groups)
        )
    return blocks


def _cells_planned(info: results.RunInfo) -> set[str]:
    return {record.rsplit("/", 1)[0] for record in info.plan}


def pick_previous(run: LoadedRun, reports: Path) -> tuple[LoadedRun | None, str]:
    """The newest earlier complete run on the same machine that measured some of the same
    cells (the same profile preferred); never a run from another machine, nor a calibration
    run (its raw cells are A/A/B groups of another protocol, not a measurement to compare)."""
    wanted = _cells_planned(run.info) | {r.cell_id for r in run.records}
    earlier = []
    for directory in run_directories(reports):
        try:
            info = results.read_info(directory)
        except (OSError, ValueError):
            continue
        if info.run_id >= run.run_id or info.status != "complete":
            continue
        if info.config.profile.startswith(CALIBRATION_PREFIX):
            continue
        if comparing.machine_differences(info.env.machine, run.info.env.machine):
            continue
        if wanted & _cells_planned(info):
            earlier.append((info.config.profile == run.info.config.profile, info.run_id, directory))
    if not earlier:
        return None, "no earlier complete run of the same cells on this machine"
    _, _, directory = max(earlier)
    return load_run(directory), "picked automatically: the newest earlier run on this machine"


def render_run(
    run_dir: Path,
    reports: Path,
    *,
    previous: Path | None = None,
    auto_previous: bool = True,
) -> Rendered:
    """Write ``<run_dir>/index.html`` (and ``overview.svg``), refresh the run indexes."""
    run = load_run(run_dir)
    summary = summarise(run)
    comparison, how = _comparison(run, summary, reports, previous, auto_previous)
    level = primary_level(summary)
    # A cost run (bench.cost) has no lab records: no throughput chart to draw.
    overview = charts.overview(summary, level) if summary.scenarios and run.records else None
    context = {
        "run": run,
        "env": run.info.env,
        "counts": summary.counts(),
        "banner": contention_banner(run.records),
        "baseline": summary.baseline,
        "level": level,
        "runs": run.info.config.runs,
        "overview": overview,
        "scenarios": scenario_blocks(summary),
        "problems": [
            cell for cell in summary.ordered() if cell.state not in ("ok", "not_applicable")
        ],
        "inapplicable": [cell for cell in summary.ordered() if cell.state == "not_applicable"],
        "comparison": comparison,
        "how_picked": how,
        "conformance": conformance.section(reports, run.info.env),
        "flows": _flows(run),
        "cost": _cost(run, reports),
        "kinds": conformance.KINDS,
        "labels": conformance.LABELS,
        "badges": conformance.BADGES,
        "symbols": conformance.SYMBOLS,
        "panel": panel.build(run),
        "results_path": run.directory / results.RESULTS_FILE,
    }
    html = templates().get_template("run.html.j2").render(context)
    target = run.directory / PAGE
    results.write_atomic(target, html.encode())
    if overview is not None:
        results.write_atomic(run.directory / OVERVIEW, standalone_svg(overview).encode())
    render_index(reports)
    return Rendered(target, comparison, how)


def _flows(run: LoadedRun) -> Markup | None:
    """The user-flow (Locust) section of :mod:`bench.flows.report`, when the run has one."""
    from bench.flows.report import section_html

    html = section_html(run.records)
    # Autoescaped jinja2 output of the flows package, from the same stored records.
    return None if html is None else Markup(html)


def _cost(run: LoadedRun, reports: Path) -> Markup | None:
    """The "Per-request cost" section (:mod:`bench.cost.report`): a cost run's own records,
    else the newest cost run of the same commit, linked (None when there is neither)."""
    from bench.cost import report as cost_report
    from bench.cost.records import is_cost_run

    if is_cost_run(run.directory):
        html = cost_report.section_html(run.directory)
    else:
        other = cost_report.newest_for_commit(run_directories(reports), run.info.env.git.commit)
        link = None if other is None else f"../{other.name}/index.html"
        html = None if other is None else cost_report.section_html(other, link)
    # Autoescaped jinja2 output of the cost package, from stored cost records.
    return None if html is None else Markup(html)


def _comparison(
    run: LoadedRun,
    summary: Summary,
    reports: Path,
    previous: Path | None,
    auto_previous: bool,
) -> tuple[comparing.Comparison | None, str | None]:
    other: LoadedRun | None
    if previous is not None:
        other, how = load_run(previous), "chosen on the command line"
    elif auto_previous:
        other, how = pick_previous(run, reports)
    else:
        return None, None
    if other is None:
        return None, how
    calibration = matching(reports, run.info.config, run.info.env.machine)
    return comparing.compare(summarise(other), summary, calibration=calibration), how
