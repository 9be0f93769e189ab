"""The report's "User flows (Locust)" section, rendered from stored records only.

:func:`section_html` takes a run's records and returns an HTML fragment for the run page (or
None when the run has no Locust records): per distributed run, the topology, Locust's
ceiling per worker next to the run's own rate per worker (and a loud warning when the run is
generator-bound), a chart of correct answers per second, failures per second and p50/p95
over time, a table per request name, and the failure messages. Charts use the report's
matplotlib style and inline-SVG conversion (:mod:`bench.report.charts`,
:mod:`bench.report.svg`), so the section looks like the rest of the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from bench.flows.locust_csv import AGGREGATED
from bench.flows.records import SOURCE
from bench.infra.results import FLAG_GENERATOR_BOUND, Record

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bench.report.charts import Chart

TEMPLATE = Path(__file__).parent / "templates" / "locust.html.j2"
ANCHOR = "user-flows"
"""The section's id, for the page's table of contents."""


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One request name of one run."""

    request_type: str
    name: str
    answers: int
    failures: int
    ok_rps: float
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    top_failure: str | None


@dataclass(frozen=True, slots=True)
class FlowView:
    """One distributed Locust run (journeys or ceiling) as the section shows it."""

    key: str
    title: str
    phase: str
    record: Record
    topology: str
    ceiling: str
    generator_bound: bool
    rows: tuple[FlowRow, ...]
    failures: tuple[tuple[str, int], ...]
    chart: Chart | None


def _row(record: Record) -> FlowRow:
    stats = record.locust
    assert stats is not None
    pct = stats.percentiles_ms
    messages = list(stats.failure_messages.items())
    return FlowRow(
        request_type=stats.request_type,
        name=stats.name,
        answers=record.requests or 0,
        failures=stats.failures,
        ok_rps=record.rps or 0.0,
        p50=pct.get("50%"),
        p95=pct.get("95%"),
        p99=pct.get("99%"),
        max=pct.get("100%"),
        top_failure=f"{messages[0][1]} x {messages[0][0]}" if messages else None,
    )


def topology_text(record: Record) -> str:
    """The distributed topology of a run in one sentence."""
    stats = record.locust
    assert stats is not None
    topo = stats.topology
    think = topo.think_time_s
    pause = f"think time {think[0]:g}-{think[1]:g} s" if think and think[1] else "no think time"
    classes = f" ({', '.join(topo.user_classes)})" if topo.user_classes else ""
    return (
        f"1 Locust master ({topo.master_host}:{topo.master_port}, CPUs {topo.master_cpus}) and "
        f"{topo.workers} worker process{'es' if topo.workers != 1 else ''} (CPUs "
        f"{', '.join(str(cpus) for cpus in topo.worker_cpus)}), connected over TCP; "
        f"{topo.users} users{classes} started at {topo.spawn_rate:g}/s, {topo.run_time_s:g} s, "
        f"{pause}; Locust {topo.locust_version}, {topo.locustfile}"
    )


def ceiling_text(record: Record) -> str:
    """Locust's ceiling per worker next to the run's rate per worker."""
    stats = record.locust
    assert stats is not None
    if record.phase == "calibration":
        whole = stats.rps_per_worker_cpu
        at_cpu = f", about {whole:,.0f} per CPU-second of worker time" if whole else ""
        return (
            f"Locust's ceiling: {stats.rps_per_worker:,.0f} checked requests per second per "
            f"worker process{at_cpu} ({record.app} on {record.server}, FastHttpUser, no think "
            "time). A user-flow run near it measures Locust, not the server: add workers or hosts."
        )
    if stats.ceiling_rps_per_worker is None:
        return (
            f"{stats.rps_per_worker:,.0f} req/s per worker; Locust's ceiling was not measured "
            "for this run."
        )
    share = 100.0 * stats.rps_per_worker / stats.ceiling_rps_per_worker
    return (
        f"{stats.rps_per_worker:,.0f} req/s per worker = {share:.0f}% of Locust's ceiling of "
        f"{stats.ceiling_rps_per_worker:,.0f} req/s per worker ({stats.ceiling_source})."
    )


def timeline(record: Record, key: str) -> Chart | None:
    """Correct answers/s, failures/s and users over time; p50 and p95 below."""
    stats = record.locust
    if stats is None or len(stats.history) < 2:
        return None
    import matplotlib  # lazily, like the report: importing this module stays cheap
    from matplotlib.figure import Figure

    from bench.report.charts import STYLE, Chart  # the report's own look
    from bench.report.svg import figure_svg

    points = stats.history
    title = f"{record.server}/{record.app} {record.scenario}: answers per second and latency"
    description = "; ".join(
        f"t={p.t:g}s users={p.users} {p.rps:g} answers/s {p.failures_per_s:g} failures/s "
        f"p50={p.p50} ms p95={p.p95} ms"
        for p in points
    )
    caption = (
        "Top: correct answers (green) and failures (red) per second over a trailing 3 s "
        "window, with the number of running users (grey). Bottom: p50 and p95 response time over "
        "Locust's rolling window (whole ms). Workers report to the master every second."
    )

    def draw(figure: Figure) -> None:
        rate, latency = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        times = [p.t for p in points]
        correct = [max(p.rps - p.failures_per_s, 0.0) for p in points]
        rate.plot(times, correct, color="#2a9d8f", label="correct answers/s")
        rate.plot(times, [p.failures_per_s for p in points], color="#d62839", label="failures/s")
        rate.set_ylabel("req/s")
        rate.set_ylim(bottom=0)
        users = rate.twinx()
        users.step(times, [p.users for p in points], where="post", color="#888", linewidth=0.8)
        users.set_ylabel("users")
        users.set_ylim(bottom=0)
        users.grid(False)
        rate.legend(loc="upper left")
        for label, attr, colour in (("p50", "p50", "#264653"), ("p95", "p95", "#e76f51")):
            series = [(p.t, getattr(p, attr)) for p in points if getattr(p, attr) is not None]
            latency.plot([t for t, _ in series], [v for _, v in series], color=colour, label=label)
        latency.set_ylabel("ms")
        latency.set_ylim(bottom=0)
        latency.set_xlabel("seconds since the first user started")
        latency.legend(loc="upper left")

    slug = f"locust-{key}"
    matplotlib.use("Agg")
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(7.2, 4.2), layout="constrained")
        draw(figure)
        svg = figure_svg(figure, slug, title, description)
    return Chart(slug, title, description, caption, svg)


def views(records: Sequence[Record]) -> list[FlowView]:
    """One view per Locust run in the records (ceiling first, then journeys)."""
    locust = [r for r in records if r.source == SOURCE and r.kind == "measurement" and r.locust]
    found = []
    for index, aggregate in enumerate(
        r for r in locust if r.locust and r.locust.name == AGGREGATED
    ):
        rows = [r for r in locust if r.cell_id == aggregate.cell_id and r.phase == aggregate.phase]
        rows.sort(key=lambda r: (r.locust is not None and r.locust.name == AGGREGATED,
                                 r.locust.name if r.locust else ""))  # fmt: skip
        key = f"{index}-{aggregate.phase}"
        stats = aggregate.locust
        assert stats is not None
        found.append(
            FlowView(
                key=key,
                title=f"{aggregate.server}/{aggregate.app} {aggregate.scenario}, "
                f"{stats.topology.users} users, {stats.topology.workers} worker(s)",
                phase=aggregate.phase,
                record=aggregate,
                topology=topology_text(aggregate),
                ceiling=ceiling_text(aggregate),
                generator_bound=FLAG_GENERATOR_BOUND in aggregate.flags
                and aggregate.phase == "run",
                rows=tuple(_row(r) for r in rows),
                failures=tuple(stats.failure_messages.items()),
                chart=timeline(aggregate, key),
            )
        )
    return sorted(found, key=lambda view: view.phase != "calibration")


def section_html(records: Sequence[Record]) -> str | None:
    """The section's HTML (None when the run holds no Locust record)."""
    ours = [record for record in records if record.source == SOURCE]
    if not ours:
        return None
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template(TEMPLATE.name).render(
        anchor=ANCHOR,
        views=views(ours),
        failed=[r for r in ours if r.kind == "failure"],
    )
