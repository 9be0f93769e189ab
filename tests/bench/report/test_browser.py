"""The report in a real browser: headless Chromium (Debian ``chromium``) through Playwright.

A report rendered from synthetic records must show every chart and table row, log no console
error, make no network request, stay readable in print, and leave screenshots behind (their
paths are printed; run with ``-s`` to see them).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


class Watch:
    """Console errors, page errors and every request that is not the file itself."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))


def test_the_report_renders_in_chromium(
    browser: Any, rendered_example: Path, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    watch = Watch(page)
    url = (rendered_example / "index.html").as_uri()
    page.goto(url, wait_until="load")

    charts = page.locator("figure.chart svg.chart")
    assert charts.count() == 9  # overview + 4 charts for each of the 2 scenarios
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    # Bars really drew: matplotlib paths inside the chart, not an empty frame.
    assert page.locator("#fig-plaintext-c64-throughput svg path").count() > 20
    assert page.locator("table.cells tbody tr[data-cell]").count() == 16
    assert page.locator("table.cells tr.failed td.reason").inner_text().startswith("✗ FAILED")
    assert page.locator("table.cells tr.qualified").count() == 1
    assert page.locator("#environment table").count() >= 4
    assert page.locator("text=Synthetic CPU @ 3.0GHz").first.is_visible()

    # A conformance pairing opens its details from the grid, without a script.
    details = page.locator("#conformance-velocix-uvicorn table")
    assert not details.is_visible()
    page.locator('a[href="#conformance-velocix-uvicorn"]').click()
    assert details.is_visible()
    assert details.locator("tbody tr").count() == 4  # fail, skip, n/a, spec-ambiguous

    shot = tmp_path / "report-laptop.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    assert shot.stat().st_size > 50_000

    assert watch.errors == []
    assert watch.failed == []
    assert watch.requests == [url], "the report fetched something besides itself"
    page.close()


def test_the_report_prints_without_navigation(
    browser: Any, rendered_example: Path, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.goto((rendered_example / "index.html").as_uri(), wait_until="load")
    page.emulate_media(media="print")
    assert not page.locator("nav.toc").is_visible()
    assert page.locator("figure.chart svg.chart").first.is_visible()
    assert page.locator("#conformance-velocix-uvicorn table").is_visible()  # all details print
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
    print(f"\nprint preview: {pdf}")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 50_000
    page.close()


def test_the_run_index_links_to_the_report(browser: Any, rendered_example: Path) -> None:
    page = browser.new_page()
    watch = Watch(page)
    page.goto((rendered_example.parent.parent / "index.html").as_uri(), wait_until="load")
    assert page.locator("table.runs tbody tr").count() == 1
    page.locator("table.runs tbody tr a").first.click()
    page.wait_for_load_state("load")
    assert page.url == (rendered_example / "index.html").as_uri()
    assert page.locator("figure.chart svg.chart").count() == 9
    assert watch.errors == [] and watch.failed == []
    page.close()


OVERLAPS = """
(svg) => {
  const boxes = [...svg.querySelectorAll("text")]
    .map((t) => [t.textContent, t.getBoundingClientRect()])
    .filter(([text, r]) => text.trim() && r.width > 0);
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, r] = boxes[i], [b, s] = boxes[j];
      const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
      const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
      if (x > 1 && y > 1) found.push(`${a} / ${b}`);
    }
  }
  return found;
}
"""


def test_the_field_report_is_legible_at_1400_px(
    browser: Any, rendered_field: Path, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    watch = Watch(page)
    page.goto((rendered_field / "index.html").as_uri(), wait_until="load")
    charts = page.locator("figure.chart svg.chart")
    assert charts.count() == 1 + 4 * 4  # overview + 4 charts for each of the 4 scenarios
    for index in range(charts.count()):
        chart = charts.nth(index)
        # No label, value or legend entry covers another, with ten frameworks per panel.
        assert chart.evaluate(OVERLAPS) == [], chart.get_attribute("aria-labelledby")
        figure = chart.evaluate("(svg) => svg.closest('figure').getBoundingClientRect().width")
        box = chart.bounding_box()
        assert box is not None and box["width"] <= figure
    # Every table fits the page: the notes and the refusal reasons need no sideways scroll.
    for wrap in page.locator(".table-wrap:has(table.cells)").all():
        assert wrap.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
    refusal = page.locator('tr.refusal[data-refusal="uvicorn/starlette/path_param/c64"]')
    assert refusal.is_visible() and "foreign load on CPU 0" in refusal.inner_text()
    shot = tmp_path / "field-1400.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    assert watch.errors == [] and watch.failed == []
    page.close()
