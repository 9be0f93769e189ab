"""A real cell under valgrind: raw on uvicorn, plaintext. Instruction counts repeat (the same
server measured twice agrees within 2% — a deterministic property, not a timing), a wrong
answer fails the cell instead of giving a figure, and no valgrind process is left behind.

Marked ``slow`` (Python under valgrind starts in seconds); CI installs valgrind, so a missing
valgrind fails here instead of skipping.
"""

from __future__ import annotations

import random
from pathlib import Path

import psutil
import pytest

from bench import cli, frameworks
from bench.cost import callgrind, records
from bench.cost.measure import WrongAnswer, measure, request_pool
from bench.cost.server import CallgrindServer
from bench.infra.process import child_env
from bench.infra.servers import registry as servers
from bench.lab.scenarios import get
from bench.lab.scenarios.base import Case, Context, Expect, HttpRequest, HttpScenario

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

START_TIMEOUT_S = 120.0


def leftovers(marker: Path) -> list[psutil.Process]:
    """Live processes whose command line names ``marker`` (our valgrind runs)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if any(str(marker) in part for part in proc.cmdline()):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def start(tmp_path: Path, name: str) -> CallgrindServer:
    """raw on uvicorn under callgrind, ready."""
    server = CallgrindServer(
        servers()["uvicorn"],
        frameworks.import_string("raw"),
        cpus=[0],
        env=child_env(),
        log=tmp_path / f"{name}.log",
        scratch=tmp_path / name,
    )
    server.start(START_TIMEOUT_S)
    return server


def test_the_same_server_counts_the_same_and_nothing_is_left(tmp_path: Path) -> None:
    # The same server command measured twice from a fresh process: the same requests after
    # the same warm-up execute the same instructions, up to a per-second timer (the Date
    # header) and the like — well under 2%, however loaded the machine is.
    callgrind.require_tools()
    scenario = get("plaintext")
    assert isinstance(scenario, HttpScenario)
    cases = request_pool(scenario, Context(world={}), seed=1, size=16)
    counts = []
    for name in ("first", "second"):
        server = start(tmp_path, name)
        try:
            counts.append(
                measure(server, cases, requests=500, warmup=200, keep=tmp_path / f"{name}-keep",
                        run_dir=tmp_path)
            )  # fmt: skip
            if name == "first":
                wrong = [Case(HttpRequest("GET", "/plaintext"), Expect(text=b"Goodbye"))]
                with pytest.raises(WrongAnswer, match="request 1 GET /plaintext: body"):
                    measure(server, wrong, requests=5, warmup=0, keep=tmp_path / "x",
                            run_dir=tmp_path)  # fmt: skip
        finally:
            server.stop()
        assert leftovers(tmp_path / name) == []
    first, second = counts
    assert first.ir_per_request > 10_000  # a whole HTTP request in Python, not a stray count
    assert first.instructions == sum(p.instructions for p in first.processes)
    assert abs(second.ir_per_request / first.ir_per_request - 1) < 0.02
    assert (tmp_path / first.processes[0].dump).is_file()


def test_cost_command_stores_a_measured_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    argv = ["cost", "--profile", "smoke", "--apps", "raw", "--scenarios", "plaintext",
            "--requests", "200", "--warmup", "50"]  # fmt: skip
    assert cli.main([*argv, "--output", str(reports)]) == 0
    (run_dir,) = (reports / "runs").iterdir()
    assert run_dir.name.endswith(records.RUN_SUFFIX)
    (record,) = records.load(run_dir)
    assert record.kind == "measurement" and record.cell_id == "uvicorn/raw/plaintext"
    assert record.requests == 200 and record.warmup == 50
    assert record.ir_per_request is not None and record.ir_per_request > 10_000
    assert record.valgrind.startswith("valgrind-")
    assert "--tool=callgrind" in record.server_command
    assert any(command[2] == "-z" for command in record.control_commands)
    assert "uvicorn/raw/plaintext" in capsys.readouterr().out
    assert leftovers(run_dir) == []
    assert not (run_dir / "callgrind" / ".scratch").exists()


def test_pool_is_the_lab_pool_for_the_seed() -> None:
    scenario = get("path_param")
    assert isinstance(scenario, HttpScenario)
    pool = request_pool(scenario, Context(world={}), seed=5, size=8)
    expected = scenario.pool(random.Random("5:pool:path_param"), Context(world={}), 8)
    assert [case.request for case in pool] == [case.request for case in expected]
