"""Render stored conformance records as HTML (jinja2): a matrix section the lab report can
embed (:func:`render_matrix_section`) and a standalone page (:func:`render_page`)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import jinja2

from conformance import records
from conformance.cases.model import KINDS

TEMPLATES = Path(__file__).with_name("templates")
LABELS = {
    "pass": "pass",
    "fail": "fail",
    "skip": "skip",
    "not_applicable": "n/a",
    "spec_ambiguous": "ambiguous",
}
SYMBOLS = {"pass": "✓", "fail": "✗", "skip": "skip", "not_applicable": "n/a", "spec_ambiguous": "?"}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.ChainableUndefined,
    )


def cell_summary(cell: dict[str, Any]) -> dict[str, Any]:
    """Counts per outcome kind and per verdict for one cell record."""
    counts = dict.fromkeys(KINDS, 0)
    for result in cell["results"]:
        counts[result["kind"]] += 1
    verdicts = [r.get("verdict") for r in cell["results"]]
    return {
        **cell,
        "counts": counts,
        "by_id": {r["id"]: r for r in cell["results"]},
        "expected_fail": verdicts.count("expected-fail"),
        "unexpected": verdicts.count("unexpected-fail") + verdicts.count("unexpected-pass"),
    }


def render_matrix_section(run: records.Run) -> str:
    """The matrix as an HTML fragment (``<section>``), from stored records only."""
    cells = [cell_summary(c) for c in _ordered(run.cells)]
    case_rows: dict[str, dict[str, Any]] = {}
    for cell in cells:
        for result in cell["results"]:
            case_rows.setdefault(result["id"], result)
    info = {
        **run.info,
        "started_iso": datetime.fromtimestamp(run.info.get("started", 0), UTC).isoformat(
            timespec="seconds"
        ),
    }
    frameworks = [(fw, len(list(group))) for fw, group in groupby(c["framework"] for c in cells)]
    template = _environment().get_template("matrix.html.j2")
    return template.render(
        info=info,
        gate=run.info.get("gate", {"passed": True, "unexpected": []}),
        cells=cells,
        cases=sorted(case_rows.values(), key=lambda r: r["id"]),
        kinds=KINDS,
        labels=LABELS,
        symbols=SYMBOLS,
        frameworks=frameworks,
        deviations=run.info.get("deviations", []),
        crosscheck=run.info.get("crosscheck"),
    )


MATRIX_FILE = "matrix.html"
"""The matrix fragment stored beside ``index.html``: what the lab report embeds as it is."""


def render_page(run_dir: Path) -> Path:
    """Write ``index.html`` (standalone) and the matrix fragment (:data:`MATRIX_FILE`) into the
    run directory and return the page's path."""
    run = records.read_run(run_dir)
    section = render_matrix_section(run)
    (run_dir / MATRIX_FILE).write_text(section, encoding="utf-8")
    page = _environment().get_template("page.html.j2").render(info=run.info, section=section)
    target = run_dir / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


def _ordered(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from bench import frameworks as field
    from conformance.runner import server_names

    fw_order = {name: i for i, name in enumerate(field.names())}
    server_order = {name: i for i, name in enumerate(server_names())}
    return sorted(
        cells, key=lambda c: (fw_order.get(c["framework"], 99), server_order.get(c["server"], 99))
    )
