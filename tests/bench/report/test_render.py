"""The rendered pages: values equal the stored figures, failures show their reason, nothing
is fetched from anywhere, user text is escaped, the run index lists every run."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import msgspec
import pytest

from bench.infra.results import Environment, Record
from bench.report import numbers
from bench.report.cli import report_main
from bench.report.load import load_run
from bench.report.render import render_run
from bench.report.summary import summarise
from tests.bench.report.conftest import CONFIG, DJANGO_WS, FIELD_CONFIG, field_records

CellRecords = Callable[..., list[Record]]
WriteRun = Callable[..., Path]


class Rows(HTMLParser):
    """Collect ``<tr data-cell=...>``: each row's class, and the text of its data-field cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self._row: dict[str, str] | None = None
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and found.get("data-cell"):
            self._row = {"class": found.get("class") or ""}
            self.rows[found["data-cell"] or ""] = self._row
        elif tag == "td" and self._row is not None and found.get("data-field"):
            self._field = found["data-field"]
            self._row[self._field] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._field = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._field is not None:
            self._row[self._field] += data


def rows_of(html: str) -> dict[str, dict[str, str]]:
    parser = Rows()
    parser.feed(html)
    return parser.rows


@pytest.fixture
def rendered(rendered_example: Path) -> str:
    return (rendered_example / "index.html").read_text()


def test_table_values_equal_the_stored_figures(rendered_example: Path, rendered: str) -> None:
    example_run = rendered_example
    summary = summarise(load_run(example_run))
    rows = rows_of(rendered)
    measured = [cell for cell in summary.ordered() if cell.state == "ok"]
    assert len(measured) == 15
    for cell in measured:
        row = rows[cell.cell_id]
        assert cell.rps is not None
        assert row["rps"] == numbers.rps(cell.rps.value)
        assert row["p99"] == numbers.ms(cell.latency["p99"])
        assert row["errors"] == "0"
        assert cell.server_cpu is not None and row["cpu"] == numbers.cpu(cell.server_cpu)
        assert cell.rss_mib is not None and row["rss"] == numbers.mib(cell.rss_mib)
    # And those are the records' own numbers: the median of the three stored runs.
    records = [
        r
        for r in load_run(example_run).records
        if r.cell_id == "uvicorn/velocix/plaintext/c64" and r.phase == "run"
    ]
    stored = sorted(r.rps for r in records if r.rps is not None)
    assert rows["uvicorn/velocix/plaintext/c64"]["rps"] == numbers.rps(stored[1]) == "45,000"
    assert rows["uvicorn/velocix/plaintext/c64"]["ratio"] == "0.90"


def test_a_failed_cell_shows_its_reason_never_a_zero(rendered: str) -> None:
    row = rows_of(rendered)["granian/fastapi/json/c64"]
    assert row["class"] == "failed"
    assert row["reason"] == "✗ FAILED — check: status 500 for GET /json (expected 200)"
    assert "rps" not in row and "errors" not in row


def test_a_generator_bound_cell_is_marked_with_its_reason(rendered: str) -> None:
    row = rows_of(rendered)["granian/raw/plaintext/c64"]
    assert row["class"] == "ok qualified refused"
    match = re.search(r'data-cell="granian/raw/plaintext/c64".*?</tr>', rendered, flags=re.DOTALL)
    assert match is not None
    assert "⚠ generator-bound" in match.group(0)
    assert "may measure the generator" in match.group(0)
    # Generator-bound runs are no evidence of capacity: the row below says so in plain text.
    assert (
        '<tr class="refusal" data-refusal="granian/raw/plaintext/c64"><td></td><td colspan="15">'
        "<b>No verdict on raw:</b> generator near its CPU limit: up to 96% (3 of 3 runs)</td></tr>"
    ) in rendered


def test_charts_are_inline_svg_with_titles_and_unique_ids(rendered: str) -> None:
    charts = re.findall(r'<svg [^>]*class="chart"[^>]*>', rendered)
    assert len(charts) == 1 + 2 * 4  # overview + 4 per scenario
    assert rendered.count('role="img"') == len(charts)
    assert rendered.count("<desc id=") == len(charts)
    ids = re.findall(r'\bid="([^"]+)"', rendered)
    assert len(ids) == len(set(ids)), "duplicate ids across inline SVGs"
    for reference in set(re.findall(r"url\(#([^)]+)\)", rendered)):
        assert reference in ids


def test_the_page_is_self_contained(rendered: str) -> None:
    assert "<script" not in rendered
    assert not re.search(r'\b(?:src|href)="(?:https?:)?//', rendered)
    assert "@import" not in rendered and "url(http" not in rendered
    assert "<link" not in rendered


def test_environment_panel_and_protocol_are_shown(rendered: str) -> None:
    for text in (
        "Synthetic CPU @ 3.0GHz",
        "3.11.7 (CPython)",
        "c" * 40,
        "DIRTY (uncommitted changes)",
        "uvicorn --workers 1 --no-access-log",
        "granian bench.frameworks.raw.app:app --workers 1",
        "Warm-up (discarded)",
        "Generator CPUs",
        "starlette</th><td>1.10.0",
    ):
        assert text in rendered


def test_text_from_records_is_escaped(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("uvicorn", "raw", "plaintext", failure="<script>alert(1)</script>")
    page = render_run(store_run(tmp_path, records), tmp_path).path.read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_index_lists_every_run_with_links(
    tmp_path: Path, store_run: WriteRun, small: Callable[..., list[Record]]
) -> None:
    example = small
    first = store_run(
        tmp_path, example("20250101T000000Z-aaaaaaaa"), run_id="20250101T000000Z-aaaaaaaa"
    )
    second = store_run(
        tmp_path, example("20250102T000000Z-bbbbbbbb"), run_id="20250102T000000Z-bbbbbbbb"
    )
    render_run(first, tmp_path)
    render_run(second, tmp_path)
    index = (tmp_path / "index.html").read_text()
    assert index.index("20250102T000000Z-bbbbbbbb") < index.index("20250101T000000Z-aaaaaaaa")
    assert 'href="runs/20250101T000000Z-aaaaaaaa/index.html"' in index
    assert '<td class="num">2</td>' in index  # measured cells of each run
    # The copy beside the runs serves the run pages' "../index.html" link.
    assert (
        'href="20250102T000000Z-bbbbbbbb/index.html"'
        in (tmp_path / "runs" / "index.html").read_text()
    )
    assert 'href="../index.html"' in (second / "index.html").read_text()


def test_the_previous_run_on_the_same_machine_is_compared(
    tmp_path: Path, store_run: WriteRun, small: Callable[..., list[Record]]
) -> None:
    example = small
    store_run(
        tmp_path,
        example("20250101T000000Z-aaaaaaaa", scale=1.2),
        run_id="20250101T000000Z-aaaaaaaa",
    )
    second = store_run(
        tmp_path, example("20250102T000000Z-bbbbbbbb"), run_id="20250102T000000Z-bbbbbbbb"
    )
    result = render_run(second, tmp_path)
    assert result.comparison is not None
    assert result.comparison.a.run.run_id == "20250101T000000Z-aaaaaaaa"
    page = result.path.read_text()
    assert "Comparison with run 20250101T000000Z-aaaaaaaa" in page
    assert 'data-verdict="regression"' in page
    assert "DIFFERENT MACHINES" not in page


def test_a_calibration_run_is_never_picked_for_the_comparison(
    tmp_path: Path, store_run: WriteRun, small: Callable[..., list[Record]]
) -> None:
    # A calibration run measures raw cells under its own A/A/B protocol: newer and on the same
    # cells, it must still not be the run a report compares with.
    # The earlier run has another profile, so the same-profile preference cannot decide.
    store_run(
        tmp_path,
        small("20250101T000000Z-aaaaaaaa"),
        run_id="20250101T000000Z-aaaaaaaa",
        config=msgspec.structs.replace(CONFIG, profile="full"),
    )
    store_run(
        tmp_path,
        small("20250102T000000Z-cccccccc-calibration"),
        run_id="20250102T000000Z-cccccccc-calibration",
        config=msgspec.structs.replace(CONFIG, profile="calibration-quick"),
    )
    third = store_run(
        tmp_path, small("20250103T000000Z-bbbbbbbb"), run_id="20250103T000000Z-bbbbbbbb"
    )
    result = render_run(third, tmp_path)
    assert result.comparison is not None
    assert result.comparison.a.run.run_id == "20250101T000000Z-aaaaaaaa"


def test_a_run_from_another_machine_is_compared_only_with_a_loud_warning(
    tmp_path: Path, store_run: WriteRun, small: Callable[..., list[Record]]
) -> None:
    example = small
    records = example("20250101T000000Z-aaaaaaaa")
    env: Environment = records[0].env
    other = msgspec.structs.replace(
        env, machine=msgspec.structs.replace(env.machine, cpu_model="Laptop CPU")
    )
    first = store_run(
        tmp_path,
        [msgspec.structs.replace(r, env=other) for r in records],
        run_id="20250101T000000Z-aaaaaaaa",
        env=other,
    )
    second = store_run(
        tmp_path, example("20250102T000000Z-bbbbbbbb"), run_id="20250102T000000Z-bbbbbbbb"
    )
    assert render_run(second, tmp_path).comparison is None  # never auto-picked
    page = render_run(second, tmp_path, previous=first).path.read_text()
    assert page.count('class="alert loud"') == 2  # top of the page and the section
    assert "DIFFERENT MACHINES" in page and "CPU: Laptop CPU vs Synthetic CPU @ 3.0GHz" in page


def test_report_cli_renders_latest_and_rejects_bad_input(
    tmp_path: Path,
    store_run: WriteRun,
    small: Callable[..., list[Record]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    reports = tmp_path
    example_run = store_run(reports, small())
    assert report_main(["--output", str(reports)]) == 0
    assert (example_run / "index.html").is_file()
    assert f"report: {example_run / 'index.html'}" in capsys.readouterr().out
    assert report_main(["no-such-run", "--output", str(reports)]) == 2
    assert "error: no run 'no-such-run'" in capsys.readouterr().err


def test_rendering_twice_gives_the_same_page(rendered_example: Path) -> None:
    example_run, reports = rendered_example, rendered_example.parent.parent
    first = (example_run / "index.html").read_bytes()
    assert render_run(example_run, reports).path.read_bytes() == first


def test_user_flow_records_get_their_own_section_not_lab_cells(
    tmp_path: Path, store_run: WriteRun, small: Callable[..., list[Record]]
) -> None:
    lab = small()
    flow = msgspec.structs.replace(
        lab[-1],
        source="locust",
        scenario="journeys",
        cell_id="uvicorn/velocix/journeys/c20",
        record_id="uvicorn/velocix/journeys/c20/run1",
        concurrency=20,
    )
    run_dir = store_run(tmp_path, [*lab, flow])
    summary = summarise(load_run(run_dir))
    assert set(summary.cells) == {"uvicorn/raw/plaintext/c64", "uvicorn/velocix/plaintext/c64"}
    page = render_run(run_dir, tmp_path).path.read_text()
    assert '<section id="user-flows"' in page and 'href="#user-flows"' in page


def test_python_m_bench_report_all_rerenders_every_run(
    tmp_path: Path, store_run: WriteRun, small: Callable[..., list[Record]]
) -> None:
    import subprocess
    import sys

    for run_id in ("20250101T000000Z-aaaaaaaa", "20250102T000000Z-bbbbbbbb"):
        store_run(tmp_path, small(run_id), run_id=run_id)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "report", "--all", "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.returncode == 0, done.stderr
    pages = sorted(tmp_path.glob("runs/*/index.html"))
    assert [p.parent.name for p in pages] == [
        "20250101T000000Z-aaaaaaaa",
        "20250102T000000Z-bbbbbbbb",
    ]
    assert "Traceback" not in done.stderr


def test_a_run_with_no_record_yet_renders_every_cell_as_not_run(
    tmp_path: Path, store_run: WriteRun, small: Callable[..., list[Record]]
) -> None:
    planned = [r.record_id for r in small()]
    run_dir = store_run(tmp_path, [], plan=planned, status="running")
    page = render_run(run_dir, tmp_path).path.read_text()
    rows = rows_of(page)
    assert set(rows) == {"uvicorn/raw/plaintext/c64", "uvicorn/velocix/plaintext/c64"}
    for row in rows.values():
        assert row["class"] == "missing"
        assert row["reason"] == "✗ NOT RUN — not measured: the run is running"
    assert "This run is <b>running</b>" in page


def test_the_environment_panel_shows_the_machine_speed_gauge(rendered: str) -> None:
    for text in (
        "<caption>Machine speed</caption>",
        "v1: units/s of fixed pure-Python work",
        "Start (server CPUs 0)</th><td>6,000 units/s · CV 2.1% · p10-p90 5,760 to 6,240",
        "Start (generator CPUs 1)</th><td>5,900 units/s · CV 2.5%",
        "End (server CPUs 0)</th><td>5,700 units/s · CV 3.4%",
        "End ÷ start</th><td>0.950",
        "Machine-speed gauge before each run</th><td>0.2 s on the server CPUs",
        # 14 cells' runs at 9000/10000/10500 and 3 at 10000/8500/10000 (the failed cell has
        # no run): the median is 10,000, the spread 10500 / 8500 - 1.
        "median 10,000 units/s · spread 24% (fastest ÷ slowest - 1) over 45 runs",
    ):
        assert text in rendered


def test_each_cell_shows_its_machine_speed_spread(rendered: str) -> None:
    rows = rows_of(rendered)
    assert rows["uvicorn/velocix/plaintext/c64"]["machine-spread"] == "16.7%"  # 10500 / 9000
    assert rows["uvicorn/starlette/json/c64"]["machine-spread"] == "17.6%"  # 10000 / 8500
    assert "machine-spread" not in rows["granian/fastapi/json/c64"]  # failed: its reason only


def test_a_cell_with_machine_slow_runs_says_so(rendered: str) -> None:
    match = re.search(r'data-cell="uvicorn/starlette/json/c64".*?</tr>', rendered, flags=re.DOTALL)
    assert match is not None
    assert "machine slow" in match.group(0)
    assert "more than 10% slower than this run&#39;s median" in match.group(0)
    # A note, not a qualified figure: the figure still measures the app.
    assert rows_of(rendered)["uvicorn/starlette/json/c64"]["class"] == "ok"
    assert "<b>1</b><span>machine slow (gauge)</span>" in rendered


def test_a_run_without_gauge_data_renders_dashes(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    records = make_cell("uvicorn", "raw", "plaintext")
    page = render_run(store_run(tmp_path, records), tmp_path).path.read_text()
    assert rows_of(page)["uvicorn/raw/plaintext/c64"]["machine-spread"] == "—"
    for label in ("Gauge", "Start (server CPUs 0)", "End (server CPUs 0)", "End ÷ start"):
        assert f"{label}</th><td>—</td>" in page
    assert "Before each measured run</th><td>—</td>" in page
    assert "machine slow (gauge)" not in page


def test_the_comparison_section_shows_the_machine_speed_change(
    tmp_path: Path, make_cell: CellRecords, store_run: WriteRun
) -> None:
    a = make_cell("uvicorn", "raw", "plaintext", run_id="20250101T000000Z-a", machine=[1000.0] * 3)
    b = make_cell("uvicorn", "raw", "plaintext", run_id="20250102T000000Z-b", machine=[800.0] * 3)
    store_run(tmp_path, a, run_id="20250101T000000Z-a")
    page = render_run(store_run(tmp_path, b, run_id="20250102T000000Z-b"), tmp_path).path
    html = page.read_text()
    assert "ratio B/A 0.800" in html
    assert "machine speed differed by 22.2% between these runs" in html
    assert re.search(r'data-field="machine-ratio">0.80<', html)


def table_rows(page: str, scenario: str) -> list[tuple[str, str]]:
    """(group label, cell id) of each row of a scenario's table, in page order."""
    start = page.index(f'<table class="cells" id="table-{scenario}">')
    table = page[start : page.index("</table>", start)]
    found = []
    group = ""
    for match in re.finditer(r'scope="rowgroup" colspan="16">([^<]+)<|data-cell="([^"]+)"', table):
        if match[1]:
            group = match[1]
        else:
            found.append((group, match[2]))
    return found


def test_the_scenario_table_lists_each_server_fastest_first(rendered_field: Path) -> None:
    page = (rendered_field / "index.html").read_text()
    summary = summarise(load_run(rendered_field))
    rows = table_rows(page, "path_param")
    assert [group for group, _ in rows] == ["uvicorn"] * 10 + ["granian"] * 10
    for server in ("uvicorn", "granian"):
        ids = [cell for group, cell in rows if group == server]
        cells = [summary.cells[cell] for cell in ids]
        ratios = [c.ratio.value if c.ratio else 1.0 for c in cells]
        assert ratios == sorted(ratios, reverse=True)
        assert ids[0] == f"{server}/raw/path_param/c64"
        assert [c.app for c in cells] != list(summary.apps)  # not the registry order
    # The failed cell goes last on its server, with its reason.
    posted = [cell for group, cell in table_rows(page, "post_validated") if group == "granian"]
    assert posted[-1] == "granian/quart/post_validated/c64"
    assert rows_of(page)[posted[-1]]["reason"].startswith("✗ FAILED — check: status 500")


def test_the_table_shows_the_ratio_ci_and_refusals_in_plain_sight(rendered_field: Path) -> None:
    page = (rendered_field / "index.html").read_text()
    summary = summarise(load_run(rendered_field))
    rows = rows_of(page)
    velocix = summary.cells["granian/velocix/json/c64"]
    assert velocix.ratio is not None
    assert rows[velocix.cell_id]["ratio"] == numbers.ratio(velocix.ratio.value)
    assert rows[velocix.cell_id]["ratio-ci"] == numbers.interval(velocix.ratio, "ratio")
    refused = "uvicorn/starlette/path_param/c64"
    assert rows[refused]["class"] == "ok qualified refused"
    after = page[page.index(f'data-cell="{refused}"') :]
    follow = after[after.index("</tr>") : after.index("</tr>", after.index("</tr>") + 5)]
    assert f'<tr class="refusal" data-refusal="{refused}">' in follow
    assert (
        "No verdict on starlette:</b> foreign load on CPU 0 (server): up to 42% (3 of 3 runs)"
    ) in follow
    # The same framework on the quiet server has no such row.
    assert 'data-refusal="granian/starlette/path_param/c64"' not in page
    # The summary cards count a refused cell once, as "no verdict", and not again as capped.
    counts = summary.counts()
    assert counts["refused"] >= 1 and counts["qualified"] == 0
    assert "capped (lower bound only)" not in page


def test_a_not_applicable_cell_says_why_in_its_row(rendered_field: Path) -> None:
    rows = rows_of((rendered_field / "index.html").read_text())
    for server in ("uvicorn", "granian"):
        row = rows[f"{server}/django/ws_echo/c64"]
        assert row["class"] == "not_applicable"
        assert row["reason"] == f"n/a — {DJANGO_WS}"


def test_a_scaling_run_groups_its_table_by_worker_count(
    tmp_path: Path, store_run: WriteRun
) -> None:
    config = msgspec.structs.replace(FIELD_CONFIG, scenarios=["json"], worker_levels=[1, 2])
    records = [r for r in field_records(workers=(1, 2)) if r.scenario == "json"]
    page = render_run(store_run(tmp_path, records, config=config), tmp_path).path.read_text()
    groups = list(dict.fromkeys(group for group, _ in table_rows(page, "json")))
    assert groups == [
        "uvicorn · 1 worker",
        "granian · 1 worker",
        "uvicorn · 2 workers",
        "granian · 2 workers",
    ]
    assert ("uvicorn · 2 workers", "uvicorn/raw/json/c64w2") in table_rows(page, "json")
    assert 'id="fig-json-c64-scaling"' in page
