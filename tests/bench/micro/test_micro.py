"""The micro benchmark machinery: cases hold for every app, checks catch wrong answers, the
table renders stored results, and the command runs end to end."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.micro.bench_micro import calls_per_round
from bench.micro.cases import CASES, MicroCase
from bench.micro.driver import MicroServer, build_scope
from bench.micro.frameworks import FRAMEWORKS, load_app
from bench.micro.table import Cell, cells_from_json, render

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_app_answers_every_case(
    loop: asyncio.AbstractEventLoop, case: MicroCase, framework: str
) -> None:
    server = MicroServer(load_app(framework, case.target, case.module), case, loop)
    server.prime()
    server.run_batch(3)  # timed calls compare with the primed response byte for byte


async def wrong_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"content-length", b"2")]})  # fmt: skip
    await send({"type": "http.response.body", "body": b"{}"})


def test_a_wrong_answer_fails_the_check(loop: asyncio.AbstractEventLoop) -> None:
    case = next(c for c in CASES if c.name == "json")
    with pytest.raises(AssertionError, match="json: JSON"):
        MicroServer(wrong_app, case, loop).prime()


def test_a_changing_answer_fails_a_timed_batch(loop: asyncio.AbstractEventLoop) -> None:
    answers = iter([b'{"message":"Hello, World!"}', b'{"message":"cached?"}'])

    async def flaky(scope: Any, receive: Any, send: Any) -> None:
        body = next(answers)
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    server = MicroServer(flaky, next(c for c in CASES if c.name == "json"), loop)
    server.prime()
    with pytest.raises(AssertionError, match="expected 200"):
        server.run_batch(1)


def test_scope_is_a_complete_http_scope() -> None:
    case = next(c for c in CASES if c.name == "body")
    scope = build_scope(case)
    assert scope["method"] == "POST" and scope["path"] == "/items"
    headers = dict(scope["headers"])
    assert headers[b"content-length"] == str(len(case.body)).encode()
    assert headers[b"content-type"] == b"application/json"


def test_calls_per_round_is_bounded(loop: asyncio.AbstractEventLoop) -> None:
    server = MicroServer(load_app("raw"), CASES[0], loop)
    server.prime()
    assert calls_per_round(server, 1e-9) == 20
    assert 20 <= calls_per_round(server, 0.001) <= 100_000


def benchmark_record(case: str, framework: str, median: float, calls: int) -> dict[str, Any]:
    return {
        "extra_info": {"case": case, "framework": framework, "calls_per_round": calls},
        "stats": {"median": median, "iqr": median / 10, "rounds": 5},
    }


def test_table_renders_ratios_and_marks_missing_cells() -> None:
    data = {
        "benchmarks": [
            benchmark_record("json", "raw", 0.002, 1000),  # 2 µs
            benchmark_record("json", "velocix", 0.003, 1000),  # 3 µs
            benchmark_record("json", "fastapi", 0.1, 2000),  # 50 µs
            {"extra_info": {}, "stats": {}},  # not a micro record: ignored
        ]
    }
    cells = cells_from_json(data)
    assert cells[0] == Cell("json", "raw", pytest.approx(2.0), pytest.approx(0.2), 5)
    table = render(cells)
    row = next(line for line in table.splitlines() if line.startswith("GET /json"))
    assert "2.00 µs" in row and "3.00 µs  1.50x" in row and "50.00 µs 25.00x" in row
    assert "failed/skipped" in row  # starlette has no result
    plaintext = next(line for line in table.splitlines() if line.startswith("GET /plaintext"))
    assert plaintext.count("failed/skipped") == len(FRAMEWORKS)


@pytest.mark.slow
def test_command_runs_and_stores_self_describing_results(tmp_path: Path) -> None:
    result_file = tmp_path / "micro.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.micro", "--rounds", "2", "--round-seconds", "0.002",
         "--json", str(result_file), "-k", "json"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "GET /json" in result.stdout and "x" in result.stdout
    data = json.loads(result_file.read_text())
    assert data["machine_info"]["python_version"]
    assert {b["extra_info"]["framework"] for b in data["benchmarks"]} == set(FRAMEWORKS)
