"""The report's "Per-request cost (instruction counts)" section, from cost records only.

A cost run's own page shows it; a lab run's page shows the newest cost run of the same commit
(:func:`newest_for_commit`), linked. One bar chart — Ir/request per framework, grouped by
server, one panel per scenario — in the report's matplotlib style and inline SVG
(:mod:`bench.report.charts`, :mod:`bench.report.svg`), and the table behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from bench.cost import records, summary
from bench.infra.results import read_info

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bench.report.charts import Chart

TEMPLATE = Path(__file__).parent / "templates" / "cost.html.j2"
ANCHOR = "per-request-cost"
"""The section's id, for the page's table of contents."""


def chart(cells: Sequence[summary.CostCell]) -> Chart | None:
    """Ir/request per framework per server, one panel per scenario (None: nothing measured)."""
    from bench.report import charts, palette
    from bench.report.svg import figure_svg

    measured = [cell for cell in cells if cell.ir_per_request is not None]
    if not measured:
        return None
    scenarios = list(dict.fromkeys(cell.scenario for cell in cells))
    servers = list(dict.fromkeys(cell.server for cell in cells))
    apps = list(dict.fromkeys(cell.app for cell in cells))
    values = {(c.scenario, c.server, c.app): c.ir_per_request for c in cells}
    title = "Instructions per request"
    description = "; ".join(
        f"{c.server} {c.scenario} {c.app}: "
        + (f"{c.ir_per_request:,.0f} Ir" if c.ir_per_request is not None else "failed")
        for c in cells
    )

    def draw(figure: Figure) -> None:
        axes_list = figure.subplots(1, len(scenarios), squeeze=False, sharey=True)[0]
        width = min(0.8 / len(apps), 0.3)
        for axes, scenario in zip(axes_list, scenarios, strict=True):
            for index, app in enumerate(apps):
                offset = (index - (len(apps) - 1) / 2) * width
                for position, server in enumerate(servers):
                    value = values.get((scenario, server, app))
                    x = position + offset
                    if value is None:
                        if (scenario, server, app) in values:  # a failed cell: never a 0 bar
                            axes.plot([x], [0], marker="x", color=palette.FAILED, clip_on=False)
                        continue
                    axes.bar(x, value / 1000, width, color=palette.colour(app),
                             label=app if position == 0 else None)  # fmt: skip
            axes.set_xticks(range(len(servers)), servers)
            axes.set_title(scenario)
        axes_list[0].set_ylabel("thousand instructions per request")
        handles, labels = axes_list[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=len(apps))

    from matplotlib.figure import Figure as MplFigure

    with charts._style():
        figure = MplFigure(figsize=(charts.WIDTH, 3.0), layout="constrained")
        draw(figure)
        svg = figure_svg(figure, "cost-ir", title, description)
    caption = (
        "User-space instructions of the server process(es) per request (valgrind callgrind), "
        "lower is less work; a red ✗ is a failed cell."
    )
    return charts.Chart("cost-ir", title, description, caption, svg)


def section_html(run_dir: Path, link: str | None = None) -> str | None:
    """The section of the cost run in ``run_dir`` (None when it holds no cost record)."""
    found = records.load(run_dir)
    if not found:
        return None
    info = read_info(run_dir)
    cells = summary.cells(found, info)
    first = found[0]
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template(TEMPLATE.name).render(
        anchor=ANCHOR,
        run_id=run_dir.name,
        link=link,
        valgrind=first.valgrind or "valgrind",
        requests=first.requests,
        warmup=first.warmup,
        baseline=info.baseline,
        cells=cells,
        chart=chart(cells),
    )


def newest_for_commit(run_dirs: Sequence[Path], commit: str) -> Path | None:
    """The newest cost run of ``commit`` among ``run_dirs`` (None when there is none)."""
    found = []
    for run_dir in run_dirs:
        if not records.is_cost_run(run_dir):
            continue
        try:
            info = read_info(run_dir)
        except (OSError, ValueError):
            continue
        if info.env.git.commit == commit:
            found.append((info.run_id, run_dir))
    return max(found)[1] if found else None
