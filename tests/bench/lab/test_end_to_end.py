"""One short real cell through a real server and real wrk, and failing cells recorded as such.

Marked ``slow`` (seconds, not milliseconds); CI runs them.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import psutil
import pytest

from bench import cli, frameworks
from bench.infra import environment, gauge
from bench.infra.results import (
    Record,
    RunInfo,
    RunStore,
    iter_records,
    new_run_id,
    resolve_run,
    utc_now,
)
from bench.lab.runner import Runner
from bench.lab.summary import summarize
from tests.bench.lab.test_plan import BASE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def no_children_left() -> bool:
    children: list[psutil.Process] = psutil.Process().children(recursive=True)
    return children == []


def test_a_real_cell_is_measured_and_stored(tmp_path: Path) -> None:
    code = cli.main(
        [
            "run", "--apps", "raw", "--servers", "uvicorn", "--scenarios", "post_validated",
            "--duration", "1", "--runs", "2", "--warmup", "0", "--primer", "0",
            "--concurrency", "8", "--seed", "3", "--output", str(tmp_path), "--fail-on-failure",
        ]
    )  # fmt: skip
    assert code == 0
    run_dir = resolve_run("latest", tmp_path)
    records = list(iter_records(run_dir / "results.jsonl"))
    assert [r.record_id for r in records] == [
        "uvicorn/raw/post_validated/c8/run1",
        "uvicorn/raw/post_validated/c8/run2",
    ]
    for record in records:
        assert (record.kind, record.driver) == ("measurement", "wrk")
        assert record.requests and record.requests > 100
        assert record.ok_requests == record.requests  # every POST answered exactly right
        assert record.errors is not None and record.errors.total == 0
        assert record.rps and record.rps > 0
        assert record.latency and 0 < record.latency.p50 <= record.latency.p99
        assert record.resources and record.resources.samples >= 2
        assert record.resources.server_rss_max_mib > 0
        assert "uvicorn" in record.server_command and "--no-access-log" in record.server_command
        assert record.driver_command[-1].startswith("http://127.0.0.1:")
        # The gauge ran on the idle server CPU right before each run.
        assert record.machine_speed and record.machine_speed > 0
        assert record.machine_speed_version == gauge.GAUGE_VERSION
    info = RunStore(run_dir).info()
    assert info.status == "complete"
    assert list(info.commands) == ["uvicorn/raw/app"]
    assert set(info.gauge) == {"start", "generator", "end"}
    assert info.gauge["start"].cpus == info.config.server_cpus
    assert info.gauge["generator"].cpus == info.config.generator_cpus
    assert all(r.pinned and r.windows >= 20 and r.units_per_s > 0 for r in info.gauge.values())
    assert no_children_left()


BROKEN_APP = """
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": b"Hello, Wrld!"})
"""


def test_failing_cells_are_recorded_with_their_reason_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_bench_app.py").write_text(BROKEN_APP)
    (tmp_path / "crashing_bench_app.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    original, known = frameworks.import_string, frameworks.specs()
    targets = {"broken": "broken_bench_app:app", "crashing": "crashing_bench_app:app"}
    monkeypatch.setattr(
        frameworks,
        "import_string",
        lambda name, variant="app": targets.get(name) or original(name, variant),
    )
    fakes = {name: dataclasses.replace(known["raw"], name=name) for name in targets}
    monkeypatch.setattr(frameworks, "specs", lambda: {**known, **fakes})
    config = msgspec.structs.replace(
        BASE,
        apps=["raw", "broken", "crashing"],
        servers=["granian"],
        scenarios=["plaintext"],
        duration_s=1.0,
        warmup_s=0.0,
        primer_s=0.0,
        runs=1,
        timeout_s=20.0,
        gauge_s=0.0,  # no gauge at all
    )
    env = environment.collect()
    info = RunInfo(run_id=new_run_id("test"), created_at=utc_now(), argv=[], config=config, env=env)
    store = RunStore.create(tmp_path / "reports", info)
    final = Runner(config, store, info, env).run()
    assert final.status == "complete"  # failing cells do not stop the run
    by_app = {r.app: r for r in store.records()}
    assert by_app["raw"].kind == "measurement" and (by_app["raw"].rps or 0) > 0
    assert by_app["raw"].machine_speed is None and final.gauge == {}
    broken, crashing = by_app["broken"], by_app["crashing"]
    assert (broken.kind, broken.phase, broken.rps) == ("failure", "check", None)
    assert broken.reason and "Hello, Wrld!" in broken.reason
    assert (crashing.kind, crashing.phase) == ("failure", "check")
    assert crashing.reason and "server failed to start" in crashing.reason
    assert "boom at import" in crashing.reason
    cells = {cell.app: cell for cell in summarize(store.records())}
    assert cells["broken"].failed and cells["broken"].rps is None
    assert not cells["raw"].failed
    assert no_children_left()


def run_cli(tmp_path: Path, *options: str) -> list[Record]:
    code = cli.main(
        [
            "run", "--apps", "raw", "--servers", "granian", "--duration", "1", "--runs", "1",
            "--warmup", "0", "--primer", "0", "--concurrency", "4", "--seed", "5",
            "--output", str(tmp_path), "--fail-on-failure", *options,
        ]
    )  # fmt: skip
    assert code == 0
    return list(iter_records(resolve_run("latest", tmp_path) / "results.jsonl"))


def test_locust_fallback_measures_and_flags_every_result(tmp_path: Path) -> None:
    (record,) = run_cli(tmp_path, "--scenarios", "json", "--driver", "locust")
    assert (record.kind, record.driver) == ("measurement", "locust")
    assert record.requests and record.ok_requests == record.requests
    assert {"generator_bound", "fallback_driver"} <= set(record.flags)
    assert "locust" in record.driver_command
    assert "generator-bound" in RunStore(resolve_run("latest", tmp_path)).info().notes[0]
    assert no_children_left()


def test_websocket_echo_is_calibrated_then_measured(tmp_path: Path) -> None:
    calibration, measured = run_cli(tmp_path, "--scenarios", "ws_echo")
    assert (calibration.phase, calibration.server, calibration.app) == (
        "calibration",
        "granian",
        "raw",
    )
    assert (measured.phase, measured.driver) == ("run", "ws-client")
    for record in (calibration, measured):
        assert record.kind == "measurement"
        assert record.requests and record.ok_requests == record.requests  # every echo exact
        assert record.errors is not None and record.errors.mismatch == 0
    # The same app and server as the calibration: the run is at the driver's ceiling.
    assert "driver_ceiling" in measured.flags or (measured.rps or 0) < 0.9 * (calibration.rps or 0)
    assert no_children_left()


HOG = "while True: pass"


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs a server and a generator CPU")
def test_a_cpu_hog_on_the_server_cpu_makes_every_run_contended(tmp_path: Path) -> None:
    server_cpu = sorted(os.sched_getaffinity(0))[0]
    hog = subprocess.Popen(
        ["taskset", "-c", str(server_cpu), sys.executable, "-c", HOG],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        code = cli.main(
            [
                "run", "--apps", "raw", "--servers", "uvicorn", "--scenarios", "json",
                "--duration", "2", "--runs", "2", "--warmup", "0", "--primer", "0",
                "--gauge-s", "0", "--output", str(tmp_path),
            ]
        )  # fmt: skip
    finally:
        hog.kill()
        hog.wait()
    assert code == 0
    runs = [r for r in iter_records(resolve_run("latest", tmp_path) / "results.jsonl")
            if r.phase == "run"]  # fmt: skip
    assert len(runs) == 2
    for record in runs:
        assert "contended" in record.flags and "unsaturated" not in record.flags
        assert record.resources is not None and record.resources.cpu is not None
        server_set = record.resources.cpu.server_set
        assert server_set.cpus == [server_cpu]
        # The hog took a share of the server's CPU that the server did not get.
        assert server_set.foreign >= 25.0 and server_set.server <= 75.0
        assert record.resources.sampler_cpu is not None and record.resources.sampler_cpu < 5.0
    (cell,) = summarize(runs)
    assert cell.refusals and "foreign load on CPU" in cell.refusals[0]
    assert no_children_left()
