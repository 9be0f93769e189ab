"""Charts: inline-safe SVG, failures drawn as marked failures, one colour per framework, the
sweep chart only when a sweep ran."""

from __future__ import annotations

import re
import statistics
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from bench import frameworks
from bench.infra import results
from bench.infra.results import Record
from bench.report import charts, numbers, palette
from bench.report.load import load_run
from bench.report.render import OVERVIEW, scenario_blocks
from bench.report.summary import Summary, summarise
from bench.report.svg import inline
from tests.bench.report.conftest import (
    DJANGO_WS,
    FIELD_APPS,
    FIELD_CONFIG,
    field_records,
    write_run,
)

CellRecords = Callable[..., list[Record]]
WriteRun = Callable[..., Path]

DOCUMENT = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="460.8pt" height="345.6pt"
 viewBox="0 0 460.8 345.6" xmlns="http://www.w3.org/2000/svg" version="1.1">
<defs><clipPath id="p1a"><rect x="0" y="0" width="5" height="5"/></clipPath></defs>
<g id="figure_1"><path clip-path="url(#p1a)" d="M 0 0 L 1 1"/><use xlink:href="#p1a"/></g>
</svg>
"""


TEXT = re.compile(r'<text style="([^"]*)" x="([-\d.]+)" y="([-\d.]+)"[^>]*>([^<]*)</text>')


def texts(svg: str) -> list[tuple[str, float, float, str]]:
    """Every text of a chart: (style, x, y, text)."""
    return [(style, float(x), float(y), text) for style, x, y, text in TEXT.findall(svg)]


def _ticks(svg: str) -> dict[float, list[tuple[float, str]]]:
    found: dict[float, list[tuple[float, str]]] = {}
    for style, x, y, text in texts(svg):
        if "text-anchor: end" in style and "font-size: 9px" in style:
            found.setdefault(round(x), []).append((y, text))
    return found


def panels(svg: str) -> list[list[str]]:
    """The y-axis labels (frameworks) of each panel, panels left to right, labels top down."""
    found = _ticks(svg)
    return [[text for _, text in sorted(found[x])] for x in sorted(found)]


def labels(svg: str) -> list[list[str]]:
    """The value labels and state words beside the bars of each panel, top down."""
    edges = sorted(_ticks(svg))
    found: list[list[tuple[float, str]]] = [[] for _ in edges]
    for style, x, y, text in texts(svg):
        if "text-anchor: start" in style and ("font-size: 7px" in style or "7.5px" in style):
            panel = max(i for i, edge in enumerate(edges) if edge < x)
            found[panel].append((y, text))
    return [[text for _, text in sorted(items)] for items in found]


BAR = re.compile(r'<g id="[^"]*?-(bar|cpu|rss)-([^"]+)">\s*<path d="M ([-\d.]+) ([-\d.]+)\s')


def bars(svg: str, kind: str = "bar") -> list[str]:
    """The ``<server>-<app>`` of each drawn bar of one kind, by panel, then top down."""
    found = [(float(x), float(y), name) for k, name, x, y in BAR.findall(svg) if k == kind]
    return [name for _, _, name in sorted(found)]


DOT = re.compile(r'<g id="[^"]*?-dot-([^"]+)">')


def dots(svg: str) -> set[str]:
    """The ``<server>-<app>-<scenario>`` of each point the headline draws."""
    return set(DOT.findall(svg))


def fastest_first(summary: Summary, server: str, scenario: str) -> list[str]:
    """The expected order, worked out here from the cells' own ratios: measured cells by ratio
    to raw (raw = 1), descending; then the cells with no figure."""
    cells = summary.select(scenario, 64)
    mine = [c for c in cells if c.server == server]
    measured = [c for c in mine if c.state == "ok"]
    measured.sort(key=lambda c: -(c.ratio.value if c.ratio else 1.0))
    return [c.app for c in measured] + [c.app for c in mine if c.state != "ok"]


def named(apps: list[str]) -> list[str]:
    return [f"{app} (baseline)" if app == "raw" else app for app in apps]


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Summary:
    """The ten-framework field run, summarised."""
    reports = tmp_path_factory.mktemp("field")
    return summarise(load_run(write_run(reports, field_records(), config=FIELD_CONFIG)))


def test_inline_svg_prefixes_ids_and_drops_the_fixed_size() -> None:
    markup = inline(DOCUMENT, "json-c64-throughput", "A <title>", "values & more")
    assert markup.startswith("<svg ")
    assert 'width="460.8pt"' not in markup and 'viewBox="0 0 460.8 345.6"' in markup
    assert 'id="json-c64-throughput-p1a"' in markup
    assert 'clip-path="url(#json-c64-throughput-p1a)"' in markup
    assert 'xlink:href="#json-c64-throughput-p1a"' in markup
    assert 'role="img" aria-labelledby="json-c64-throughput-title json-c64-throughput-desc"' in (
        markup
    )
    assert '<title id="json-c64-throughput-title">A &lt;title&gt;</title>' in markup
    assert '<desc id="json-c64-throughput-desc">values &amp; more</desc>' in markup
    ET.fromstring(markup)  # still well-formed XML


def test_inline_rejects_what_is_not_svg() -> None:
    with pytest.raises(ValueError, match="not an SVG document"):
        inline("<html></html>", "k", "t", "d")


def test_a_failed_cell_is_a_marked_failure_not_a_zero_bar(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("uvicorn", "raw", "json") + make_cell(
        "uvicorn", "fastapi", "json", failure="status 500 for GET /json"
    )
    summary = summarise(load_run(store_run(tmp_path, records)))
    chart = charts.throughput(summary, "json", 64)
    assert re.search(r"<text [^>]*fill: #b00020[^>]*>✗ failed</text>", chart.svg)
    assert "fastapi failed (check: status 500 for GET /json)" in chart.description
    assert "raw 1,000 req/s CI" in chart.description
    # One bar (raw) with its value label beside it; no bar, and no "0", for fastapi.
    assert labels(chart.svg) == [["1.00k", "✗ failed"]]
    assert bars(chart.svg) == ["uvicorn-raw"]
    assert panels(chart.svg) == [["raw (baseline)", "fastapi"]]


def test_each_framework_keeps_its_colour_across_charts(rendered_example: Path) -> None:
    page = (rendered_example / "index.html").read_text()
    velocix = palette.colour("velocix").lower()
    for key in ("plaintext-c64-throughput", "plaintext-c64-latency", "json-c64-resources"):
        start = page.index(f'id="fig-{key}"')
        assert velocix in page[start : page.index("</figure>", start)].lower()
    assert palette.colour("newframework") == palette.colour("newframework")
    assert palette.colour("velocix") == frameworks.get("velocix").colour
    taken = {spec.colour for spec in frameworks.specs().values()}
    assert palette.colour("newframework") not in taken  # an unknown app never looks like one


def test_the_sweep_chart_appears_only_for_a_sweep(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun, example_run: Path
) -> None:
    config = msgspec.structs.replace(
        load_run(example_run).info.config,
        apps=["raw", "velocix"],
        servers=["uvicorn"],
        scenarios=["plaintext"],
        concurrency=[16, 64],
    )
    records: list[Record] = []
    for level, scale in ((16, 1.0), (64, 1.4)):
        for app, speed in (("raw", 1000.0), ("velocix", 900.0)):
            rps = (speed * scale, speed * scale * 1.01, speed * scale * 0.99)
            records += make_cell("uvicorn", app, "plaintext", rps, concurrency=level)
    run = store_run(tmp_path / "sweep", records, config=config)
    (block,) = scenario_blocks(summarise(load_run(run)))
    assert [c.key for c in block.charts] == [
        "plaintext-c16-throughput",
        "plaintext-c16-overhead",
        "plaintext-c16-latency",
        "plaintext-c16-resources",
        "plaintext-sweep",
    ]
    sweep = block.charts[-1]
    assert "c=16: raw 1,000 req/s, p99 100 ms" in sweep.description
    assert "c=64: raw 1,400 req/s" in sweep.description
    assert ">c=64</text>" in sweep.svg
    single = scenario_blocks(summarise(load_run(example_run)))
    assert all(not c.key.endswith("-sweep") for block in single for c in block.charts)


def test_the_overview_is_also_a_standalone_svg_file(rendered_example: Path) -> None:
    root = ET.fromstring((rendered_example / OVERVIEW).read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}title") is not None


def test_each_server_panel_lists_the_frameworks_fastest_first(field: Summary) -> None:
    for scenario in ("json", "path_param"):
        expected = [fastest_first(field, server, scenario) for server in ("uvicorn", "granian")]
        assert expected[0] != list(FIELD_APPS)  # the registry order is not the speed order
        throughput = charts.throughput(field, scenario, 64)
        assert panels(throughput.svg) == [named(apps) for apps in expected]
        # The bars themselves sit in that order, each labelled with its own median.
        assert bars(throughput.svg) == [
            f"{s}-{a}"
            for s, apps in zip(("uvicorn", "granian"), expected, strict=True)
            for a in apps
        ]
        uvicorn = [field.cell("uvicorn", app, scenario, 64) for app in expected[0]]
        assert [label.split()[0] for label in labels(throughput.svg)[0]] == [
            numbers.short(cell.rps.value) for cell in uvicorn if cell and cell.rps
        ]
        for chart in (charts.overhead, charts.latency):
            assert panels(chart(field, scenario, 64).svg) == [named(a) for a in expected]
        resources = charts.resources(field, scenario, 64)
        assert bars(resources.svg, "cpu")[:10] == [f"uvicorn-{a}" for a in expected[0]]
    assert fastest_first(field, "uvicorn", "json")[-1] == "django"


def test_the_description_lists_the_values_in_chart_order(field: Summary) -> None:
    description = charts.overhead(field, "json", 64).description
    order = fastest_first(field, "uvicorn", "json")
    uvicorn = description.split("uvicorn, fastest first: ")[1].split(". granian")[0]
    assert [item.split()[0] for item in uvicorn.split("; ")] == order
    assert "raw 1 (baseline)" in uvicorn
    velocix = field.cell("uvicorn", "velocix", "json", 64)
    assert velocix is not None and velocix.ratio is not None
    assert f"velocix {numbers.ratio(velocix.ratio.value)} CI " in uvicorn


def test_a_refused_cell_is_hatched_and_labelled_no_verdict(field: Summary) -> None:
    chart = charts.throughput(field, "path_param", 64)
    cell = field.cell("uvicorn", "starlette", "path_param", 64)
    assert cell is not None and cell.rps is not None and cell.refusals
    uvicorn, granian = labels(chart.svg)
    assert f"{numbers.short(cell.rps.value)}  no verdict" in uvicorn
    assert [label for label in uvicorn if "no verdict" in label] == [
        f"{numbers.short(cell.rps.value)}  no verdict"
    ]
    assert not any("no verdict" in label for label in granian)
    bar = re.search(r'id="[^"]*-bar-uvicorn-starlette">.*?</g>', chart.svg, flags=re.DOTALL)
    assert bar is not None and "fill: url(#" in bar.group(0)  # a hatch pattern
    quiet = re.search(r'id="[^"]*-bar-granian-starlette">.*?</g>', chart.svg, flags=re.DOTALL)
    assert quiet is not None and "fill: url(#" not in quiet.group(0)
    assert "[no verdict, contended]" in chart.description
    assert "no verdict" in chart.caption


def test_failed_and_not_applicable_cells_are_words_never_bars(field: Summary) -> None:
    websocket = charts.throughput(field, "ws_echo", 64)
    assert [panel[-1] for panel in panels(websocket.svg)] == ["django", "django"]
    assert [panel[-1] for panel in labels(websocket.svg)] == ["n/a", "n/a"]
    assert not any(name.endswith("-django") for name in bars(websocket.svg))
    assert f"django n/a ({DJANGO_WS})" in websocket.description
    posted = charts.overhead(field, "post_validated", 64)
    assert labels(posted.svg)[1][-1] == "✗ failed" and panels(posted.svg)[1][-1] == "quart"
    assert "granian-quart" not in bars(posted.svg)
    assert "uvicorn-quart" in bars(posted.svg)


def test_the_headline_leaves_out_refused_cells_and_says_why(field: Summary) -> None:
    chart = charts.overview(field, 64)
    drawn = dots(chart.svg)
    assert "uvicorn-starlette-path_param" not in drawn
    assert {"granian-starlette-path_param", "uvicorn-starlette-json"} <= drawn
    assert "granian-quart-post_validated" not in drawn  # failed
    assert not any(name.startswith(("uvicorn-django-ws", "granian-django-ws")) for name in drawn)
    # 9 frameworks x 2 servers x 4 scenarios, less the refused, the failed and Django's two n/a.
    assert len(drawn) == 9 * 2 * 4 - 4
    reason = "foreign load on CPU 0 (server): up to 42% (3 of 3 runs)"
    assert (
        f"Left out as no evidence of capacity (no verdict): uvicorn/path_param: starlette "
        f"(no verdict: {reason})."
    ) in chart.caption
    assert "No figure: " in chart.caption
    assert "granian/post_validated: quart (failed: check: status 500" in chart.caption
    assert f"uvicorn/ws_echo: django (not applicable: {DJANGO_WS})" in chart.caption
    assert f"Left out (no verdict): uvicorn/path_param: starlette (no verdict: {reason})" in (
        chart.description
    )


def test_the_headline_orders_frameworks_by_their_median_ratio(field: Summary) -> None:
    chart = charts.overview(field, 64)
    expected = []
    for server in ("uvicorn", "granian"):
        medians = {}
        for app in field.apps[1:]:
            shown = [
                c.ratio.value
                for s in field.scenarios
                if (c := field.cell(server, app, s, 64)) and c.ratio and not c.refusals
            ]
            medians[app] = statistics.median(shown)
        expected.append(sorted(medians, key=lambda app: -medians[app]))
    assert panels(chart.svg) == expected
    assert expected[0][-1] == "django" and expected[0][:2] != ["velocix", "starlette"]


def test_the_headline_leaves_out_locust_driven_and_unsound_baseline_figures(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    # The smoke run of issue 12: Locust drove 16 requests in 0.95 ms and stored 17,305 req/s.
    locust = [results.FLAG_FALLBACK_DRIVER, results.FLAG_GENERATOR_BOUND]
    records = (
        make_cell("uvicorn", "raw", "plaintext", (950.0, 960.0, 940.0))
        + make_cell("uvicorn", "velocix", "plaintext", (17_305.0,) * 3, flags=locust)
        + make_cell("uvicorn", "raw", "json", flags=[results.FLAG_CONTENDED], foreign=35.0)
        + make_cell("uvicorn", "velocix", "json")
        + make_cell("uvicorn", "starlette", "json", (600.0, 610.0, 590.0))
    )
    summary = summarise(load_run(store_run(tmp_path, records)))
    chart = charts.overview(summary, 64)
    assert dots(chart.svg) == set()
    assert "uvicorn/plaintext: velocix (no verdict: generator near its CPU limit" in chart.caption
    assert "uvicorn/json: velocix, starlette (its raw baseline is no evidence (foreign load" in (
        chart.caption
    )
    assert "18." not in chart.description  # no 18x ratio anywhere in the headline
    # The per-scenario chart still shows the figure, unmistakably marked.
    plaintext = charts.overhead(summary, "plaintext", 64)
    assert any(label.endswith("no verdict") for label in labels(plaintext.svg)[0])


def test_the_scaling_chart_draws_throughput_against_workers(
    tmp_path: Path, example_run: Path
) -> None:
    config = msgspec.structs.replace(
        FIELD_CONFIG, scenarios=["post_validated"], worker_levels=[1, 2]
    )
    records = [r for r in field_records(workers=(1, 2)) if r.scenario == "post_validated"]
    summary = summarise(load_run(write_run(tmp_path, records, config=config)))
    assert summary.scaling
    (block,) = scenario_blocks(summary)
    assert [c.key for c in block.charts][-1] == "post_validated-c64-scaling"
    chart = block.charts[-1]
    one = summary.cell("uvicorn", "velocix", "post_validated", 64, 1)
    two = summary.cell("uvicorn", "velocix", "post_validated", 64, 2)
    assert one and one.rps and two and two.rps and two.rps.value > 1.7 * one.rps.value
    assert (
        f"velocix {numbers.rps(one.rps.value)} req/s"
        in chart.description.split("with 2 workers")[0]
    )
    assert (
        f"velocix {numbers.rps(two.rps.value)} req/s"
        in chart.description.split("with 2 workers")[1]
    )
    # The failed cell (quart on granian, every worker count) is named, never a point at zero.
    assert "quart: failed with 1 worker" in chart.svg
    assert "quart: failed with 2 workers" in chart.svg
    assert "quart failed (check: status 500" in chart.description
    # The legend reads left to right, top down, fastest first at the most workers.
    legend = [
        (y, x, text)
        for style, x, y, text in texts(chart.svg)
        if "font-size: 8px" in style and text.split(" ")[0] in FIELD_APPS
    ]
    at_two = sorted(
        FIELD_APPS,
        key=lambda a: (
            -statistics.median(
                c.rps.value
                for s in ("uvicorn", "granian")
                if (c := summary.cell(s, a, "post_validated", 64, 2)) and c.rps
            )
        ),
    )
    assert [text.split(" ")[0] for _, _, text in sorted(legend)] == at_two
    single = scenario_blocks(summarise(load_run(example_run)))
    assert all(not c.key.endswith("-scaling") for block in single for c in block.charts)


def test_row_major_legends_read_across() -> None:
    assert charts.row_major(list("abcdefg"), 3) == list("adgbecf")
    assert charts.row_major(list("ab"), 5) == ["a", "b"]
