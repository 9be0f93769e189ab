"""The conformance section: the five outcome kinds kept apart per pairing, each pairing linked
to its details, the suite's own matrix embedded, and honest notes and errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import msgspec

from bench.infra.results import Environment, Record
from bench.report import conformance
from bench.report.render import render_run

WriteRun = Callable[..., Path]


def _pairing_cell(page: str, pairing: str) -> str:
    match = re.search(rf'<td [^>]*data-pairing="{pairing}">(.*?)</td>', page, flags=re.DOTALL)
    assert match is not None, f"no grid cell for {pairing}"
    return match.group(1)


def test_counts_per_kind_are_kept_apart(rendered_example: Path) -> None:
    page = (rendered_example / "index.html").read_text()
    mixed = _pairing_cell(page, "velocix/uvicorn")
    for badge in ("✓ 1", "✗ 1", "skip 1", "n/a 1", "? 1"):
        assert badge in mixed
    clean = _pairing_cell(page, "raw/inprocess")
    assert "✓ 5" in clean and "✗ 0" in clean and "? 0" in clean


def test_each_pairing_links_to_its_details(rendered_example: Path) -> None:
    page = (rendered_example / "index.html").read_text()
    assert 'href="#conformance-velocix-uvicorn"' in _pairing_cell(page, "velocix/uvicorn")
    details = page[page.index('id="conformance-velocix-uvicorn"') :]
    details = details[: details.index("</details>")]
    assert "A02" in details and "sent body &lt;b&gt;before&lt;/b&gt; start" in details
    assert "needs a server feature" in details and "the spec is silent" in details
    assert "A01" not in details  # passes are counted, not listed
    # The pairing with no cell in the grid says so instead of staying blank.
    assert "<td>not run</td>" in page


def test_the_suites_own_matrix_is_embedded(rendered_example: Path) -> None:
    page = (rendered_example / "index.html").read_text()
    assert '<section class="conformance-matrix">' in page
    # A02 fails with no recorded deviation: the suite's gate calls it unexpected.
    assert 'Gate: <span class="badge fail">FAILED</span> — 1 unexpected result.' in page
    assert "<b>1 unexpected</b>" in _pairing_cell(page, "velocix/uvicorn")


def test_no_conformance_records_no_section(
    tmp_path: Path, store_run: WriteRun, small: Callable[..., list[Record]]
) -> None:
    assert conformance.section(tmp_path) is None
    page = render_run(store_run(tmp_path, small()), tmp_path).path.read_text()
    assert 'id="conformance"' not in page


def test_other_code_or_machine_is_noted(
    tmp_path: Path, store_conformance: Callable[..., Path], small: Callable[..., list[Record]]
) -> None:
    lab_env: Environment = small()[0].env
    other = msgspec.structs.replace(
        lab_env,
        git=msgspec.structs.replace(lab_env.git, commit="d" * 40, short="dddddddd", dirty=False),
        machine=msgspec.structs.replace(lab_env.machine, cpu_model="CI runner CPU"),
    )
    store_conformance(tmp_path, env=other)
    found = conformance.section(tmp_path, lab_env)
    assert found is not None and found.error is None
    assert found.notes == [
        "These conformance results are from commit dddddddd; the load measurements above are "
        "from cccccccc (dirty).",
        "Conformance ran on CI runner CPU, the load lab on Synthetic CPU @ 3.0GHz.",
    ]


def test_unreadable_records_are_reported_not_raised(
    tmp_path: Path, store_conformance: Callable[..., Path]
) -> None:
    run_dir = store_conformance(tmp_path)
    (run_dir / "cells" / "raw--inprocess.json").write_text("{broken")
    found = conformance.section(tmp_path)
    assert found is not None
    assert found.error is not None and found.error.startswith("unreadable conformance records")
