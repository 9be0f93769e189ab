"""Cost figures per cell, ready for tables and charts: Ir/request, the ratio to raw, changes.

Pure functions over :class:`~bench.cost.records.CostRecord` lists; the terminal table
(:mod:`bench.cost.show`) and the report section (:mod:`bench.cost.report`) both read these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.apps import BASELINE
from bench.apps import names as app_names
from bench.cost.records import CostRecord


@dataclass(frozen=True, slots=True)
class CostCell:
    """One (server, app, scenario) of a cost run."""

    cell_id: str
    server: str
    app: str
    scenario: str
    ir_per_request: float | None
    ratio: float | None
    """Ir/request divided by the raw app's on the same server and scenario (None: no raw)."""
    processes: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class CostChange:
    """One cell measured in two cost runs: B's Ir/request relative to A's."""

    cell_id: str
    a: float
    b: float

    @property
    def change(self) -> float:
        """``b / a - 1`` (positive: B spends more instructions per request)."""
        return self.b / self.a - 1


def _order(record: CostRecord) -> tuple[str, str, int]:
    """Server, scenario, then apps in the registry's order (raw first)."""
    known = app_names()
    app_rank = known.index(record.app) if record.app in known else len(known)
    return (record.server, record.scenario, app_rank)


def cells(records: Sequence[CostRecord]) -> list[CostCell]:
    """Every cell of a cost run (the last record of a cell wins), server, scenario, app order."""
    latest = {record.cell_id: record for record in records}
    baseline = {
        (r.server, r.scenario): r.ir_per_request
        for r in latest.values()
        if r.app == BASELINE and r.ir_per_request
    }
    found = []
    for record in sorted(latest.values(), key=_order):
        raw = baseline.get((record.server, record.scenario))
        value = record.ir_per_request
        found.append(
            CostCell(
                cell_id=record.cell_id,
                server=record.server,
                app=record.app,
                scenario=record.scenario,
                ir_per_request=value,
                ratio=value / raw if value is not None and raw else None,
                processes=len(record.processes),
                reason=record.reason,
            )
        )
    return found


def changes(a: Sequence[CostRecord], b: Sequence[CostRecord]) -> list[CostChange]:
    """Cells measured in both runs, in B's cell order."""
    theirs = {cell.cell_id: cell for cell in cells(a)}
    found = []
    for cell in cells(b):
        other = theirs.get(cell.cell_id)
        if cell.ir_per_request and other is not None and other.ir_per_request:
            found.append(CostChange(cell.cell_id, other.ir_per_request, cell.ir_per_request))
    return found


def worst(found: Sequence[CostChange]) -> CostChange | None:
    """The change of largest magnitude (None when no cell is in both runs)."""
    return max(found, key=lambda change: abs(change.change), default=None)
