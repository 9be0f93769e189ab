"""Cost figures per cell, ready for tables and charts: Ir/request, the ratio to raw, changes.

Pure functions over :class:`~bench.cost.records.CostRecord` lists; the terminal table
(:mod:`bench.cost.show`) and the report section (:mod:`bench.cost.report`) both read these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.cost.records import CostRecord
from bench.infra.results import LEGACY_BASELINE, LEGACY_ORDER, RunInfo


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
    is_baseline: bool = False


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


def cells(records: Sequence[CostRecord], info: RunInfo | None = None) -> list[CostCell]:
    """Every cell of a cost run (the last record of a cell wins), in server, scenario, app
    order, with the ratio to the baseline the run stored in ``info`` (else the legacy one)."""
    name = info.baseline if info is not None else LEGACY_BASELINE
    order = info.framework_order() if info is not None else list(LEGACY_ORDER)
    latest = {record.cell_id: record for record in records}
    baseline = {
        (r.server, r.scenario): r.ir_per_request
        for r in latest.values()
        if r.app == name and r.ir_per_request
    }

    def rank(record: CostRecord) -> tuple[str, str, int]:
        app = order.index(record.app) if record.app in order else len(order)
        return (record.server, record.scenario, app)

    found = []
    for record in sorted(latest.values(), key=rank):
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
                is_baseline=record.app == name,
            )
        )
    return found


def changes(
    a: Sequence[CostRecord], b: Sequence[CostRecord], info: RunInfo | None = None
) -> list[CostChange]:
    """Cells measured in both runs, in B's cell order (``info``: B's run)."""
    theirs = {cell.cell_id: cell for cell in cells(a)}
    found = []
    for cell in cells(b, info):
        other = theirs.get(cell.cell_id)
        if cell.ir_per_request and other is not None and other.ir_per_request:
            found.append(CostChange(cell.cell_id, other.ir_per_request, cell.ir_per_request))
    return found


def worst(found: Sequence[CostChange]) -> CostChange | None:
    """The change of largest magnitude (None when no cell is in both runs)."""
    return max(found, key=lambda change: abs(change.change), default=None)
