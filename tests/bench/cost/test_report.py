"""The report's per-request cost section: on the cost run's own page, and linked from a lab
run of the same commit."""

from __future__ import annotations

from pathlib import Path

from bench.cost import report
from bench.report.render import render_run

from .conftest import make_cost, store_cost_run


def test_cost_run_page_has_the_section_table_and_chart(reports: Path) -> None:
    run = store_cost_run(
        reports,
        "20250101T000000Z",
        [make_cost("raw", 100_000_000), make_cost("velocix", 150_000_000), make_cost("x", None)],
    )
    html = render_run(run, reports, auto_previous=False).path.read_text()
    assert "Per-request cost (instruction counts)" in html
    assert "user-space instructions" in html and "not a throughput" in html
    assert "150,000" in html and "1.50" in html and "1 (baseline)" in html
    assert "FAILED: request 3 GET /plaintext: status 500" in html
    assert 'aria-labelledby="cost-ir-title cost-ir-desc"' in html


def test_newest_cost_run_of_the_same_commit_is_found(reports: Path) -> None:
    older = store_cost_run(reports, "20250101T000000Z", [make_cost("raw", 1_000)])
    newer = store_cost_run(reports, "20250102T000000Z", [make_cost("raw", 2_000)])
    runs = [older, newer, reports / "runs" / "not-a-run"]
    assert report.newest_for_commit(runs, "a" * 40) == newer
    assert report.newest_for_commit(runs, "b" * 40) is None
    section = report.section_html(newer, link="../x/index.html")
    assert section is not None and 'href="../x/index.html"' in section
    assert report.section_html(reports) is None
