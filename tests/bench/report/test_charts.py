"""Charts: inline-safe SVG, failures drawn as marked failures, one colour per framework, the
sweep chart only when a sweep ran."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from bench import frameworks
from bench.infra.results import Record
from bench.report import charts, palette
from bench.report.load import load_run
from bench.report.render import OVERVIEW, scenario_blocks
from bench.report.summary import summarise
from bench.report.svg import inline

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
    assert re.search(r"<text [^>]*fill: #b00020[^>]*>failed</text>", chart.svg)
    assert "fastapi failed (check: status 500 for GET /json)" in chart.description
    assert "raw 1,000 req/s CI" in chart.description
    # One bar (raw) with its value label above it; no bar, and no "0", for fastapi.
    labels = re.findall(r'rotate\(-90\)">([^<]+)</text>', chart.svg)
    assert sorted(labels) == ["1.00k", "failed"]


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
