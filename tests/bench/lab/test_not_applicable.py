"""A framework that cannot do what a scenario needs: planned without a step, recorded as not
applicable with its spec's reason, shown as such everywhere - never measured, never failed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import msgspec
import pytest

from bench import frameworks
from bench.infra.results import RunInfo, RunStore
from bench.lab import plan
from bench.lab.runner import Runner
from bench.lab.summary import summarize
from bench.report.compare import compare_cell
from bench.report.load import load_run
from bench.report.summary import summarise
from tests.bench.factories import ENV, make_record
from tests.bench.lab.test_plan import BASE

REASON = "has no WebSocket server (a test double)"


@pytest.fixture
def no_websocket(monkeypatch: pytest.MonkeyPatch) -> str:
    """A registered framework ``nows``: raw's spec without WebSocket support."""
    known = frameworks.specs()
    fake = dataclasses.replace(
        known["raw"], name="nows", display="NoWS", unsupported={"websocket": REASON}
    )
    monkeypatch.setattr(frameworks, "specs", lambda: {**known, "nows": fake})
    return "nows"


def test_the_plan_gives_an_inapplicable_app_no_step(no_websocket: str) -> None:
    config = msgspec.structs.replace(BASE, apps=["raw", no_websocket], scenarios=["ws_echo"])
    blocks = [block for block in plan.plan(config) if block.server == "uvicorn"]
    assert blocks[0].apps == ("raw", "nows")  # still in the block: it gets its record
    assert {step.app for step in blocks[0].steps} == {"raw"}


def test_the_runner_records_why_and_starts_nothing(no_websocket: str, tmp_path: Path) -> None:
    config = msgspec.structs.replace(
        BASE, apps=["raw", no_websocket], servers=["uvicorn"], scenarios=["ws_echo"]
    )
    info = RunInfo(run_id="20250101T000000Z-test", created_at="x", argv=[], config=config, env=ENV)
    store = RunStore.create(tmp_path, info)
    runner = Runner(config, store, info, ENV)
    block = next(block for block in runner.blocks if block.server == "uvicorn")
    runner.record_not_applicable(block)
    (record,) = store.records()
    assert (record.kind, record.app, record.phase) == ("not_applicable", "nows", "check")
    assert record.reason == f"NoWS {REASON}"
    assert runner.pool.running == {}  # no server was started for it
    runner.done.add(record.record_id)  # a resumed run does not record it twice
    runner.record_not_applicable(block)
    assert len(store.records()) == 1


def test_summaries_show_not_applicable_with_the_reason(tmp_path: Path) -> None:
    measured = [make_record(index) for index in (1, 2, 3)]
    inapplicable = msgspec.structs.replace(
        make_record(1), kind="not_applicable", phase="check", app="nows", run_index=None,
        cell_id="uvicorn/nows/plaintext/c64", record_id="uvicorn/nows/plaintext/c64/check",
        rps=None, requests=None, ok_requests=None, latency=None, errors=None,
        reason=f"NoWS {REASON}",
    )  # fmt: skip
    cells = {cell.app: cell for cell in summarize([*measured, inapplicable])}
    assert cells["nows"].not_applicable and not cells["nows"].failed
    assert cells["nows"].reason == f"NoWS {REASON}" and cells["nows"].rps is None
    info = RunInfo(run_id=inapplicable.run_id, created_at="x", argv=[], config=BASE, env=ENV)
    store = RunStore.create(tmp_path, info)
    for record in [*measured, inapplicable]:
        store.append(record)
    report = summarise(load_run(store.directory))
    cell = report.cell("uvicorn", "nows", "plaintext", 64)
    assert cell is not None and cell.state == "not_applicable"
    assert report.counts()["not_applicable"] == 1 and report.counts()["failed"] == 0
    change = compare_cell(cell.cell_id, cell, cell, alpha=0.05, threshold=0.03)
    assert (change.verdict, change.note) == ("not applicable", f"NoWS {REASON}")
