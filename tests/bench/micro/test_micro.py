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

from bench import frameworks
from bench.micro import apps
from bench.micro.__main__ import skip_reasons
from bench.micro.apps import MINIMAL
from bench.micro.bench_micro import calls_per_round
from bench.micro.cases import CASES, MicroCase
from bench.micro.driver import Lifespans, MicroServer, build_scope
from bench.micro.table import Cell, grid, load_passes, render, summarise

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


CELLS = [
    pytest.param(case, framework, id=f"{case.name}-{framework}")
    for case in CASES
    for framework in apps.names()
    if apps.serves(framework, case)
]


@pytest.mark.parametrize(("case", "framework"), CELLS)
def test_every_app_answers_every_case(
    loop: asyncio.AbstractEventLoop, case: MicroCase, framework: str
) -> None:
    app = apps.load(framework, case)
    lifespans = Lifespans(loop)
    if apps.needs_lifespan(framework):
        lifespans.start(app)
    server = MicroServer(app, case, loop)
    server.prime()
    server.run_batch(3)  # timed calls compare with the primed response byte for byte
    lifespans.close()


def test_a_case_a_framework_cannot_serve_is_left_out_by_its_spec() -> None:
    unserved = {(c.name, f) for c in CASES for f in apps.names() if not apps.serves(f, c)}
    assert ("form", "minimal") in unserved and ("plaintext", "minimal") not in unserved
    for case_name, framework in unserved - {(c.name, "minimal") for c in CASES}:
        case = next(c for c in CASES if c.name == case_name)
        assert frameworks.get(framework).not_applicable(case.requires)


def test_minimal_baseline_serves_the_core_cases_and_refuses_bad_input(
    loop: asyncio.AbstractEventLoop,
) -> None:
    served = [case.name for case in CASES if apps.serves(MINIMAL, case)]
    assert served == ["plaintext", "json", "path", "query", "body"]
    app = apps.load(MINIMAL, CASES[0])
    bad = [
        MicroCase(name="bad-path", method="GET", path="/users/abc", status=422),
        MicroCase(name="bad-query", method="GET", path="/search", query=b"page=1", status=422),
        MicroCase(name="bad-body", method="POST", path="/items", body=b'{"name": 1}', status=422),
        MicroCase(name="missing", method="GET", path="/nope", status=404),
    ]
    for case in bad:
        status, _, body = MicroServer(app, case, loop).call_once()
        assert status == case.status, (case.name, body)


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
    server = MicroServer(frameworks.load("raw"), CASES[0], loop)
    server.prime()
    assert calls_per_round(server, 1e-9) == 20
    assert 20 <= calls_per_round(server, 0.001) <= 100_000


def benchmark_record(
    case: str, framework: str, median: float, calls: int, paired: float | None = None
) -> dict[str, Any]:
    info: dict[str, Any] = {"case": case, "framework": framework, "calls_per_round": calls}
    if paired is not None:
        info["paired_ratio"] = paired
    return {
        "extra_info": info,
        "stats": {"median": median, "iqr": median / 10, "rounds": 5},
        "options": {"timer": "time.process_time"},
    }


def write_passes(directory: Path, passes: list[list[dict[str, Any]]]) -> None:
    for number, benchmarks in enumerate(passes, start=1):
        document = {"machine_info": {"python_version": "3.11"}, "benchmarks": benchmarks}
        (directory / f"pass-{number}.json").write_text(json.dumps(document))


def test_table_uses_per_pass_ratios_and_marks_missing_cells(tmp_path: Path) -> None:
    write_passes(
        tmp_path,
        [
            [  # a quiet pass: raw 2 µs, velocix 3 µs, fastapi 50 µs
                benchmark_record("json", "raw", 0.002, 1000),
                benchmark_record("json", "velocix", 0.003, 1000),
                benchmark_record("json", "fastapi", 0.1, 2000),
                {"extra_info": {}, "stats": {}},  # not a micro record: ignored
            ],
            [  # a pass on a busy machine: everything twice as slow, same ratios
                benchmark_record("json", "raw", 0.004, 1000),
                benchmark_record("json", "velocix", 0.006, 1000),
                benchmark_record("json", "fastapi", 0.2, 2000),
            ],
            [  # a pass where only velocix was disturbed
                benchmark_record("json", "raw", 0.002, 1000),
                benchmark_record("json", "velocix", 0.004, 1000),
                benchmark_record("json", "fastapi", 0.1, 2000),
            ],
        ],
    )
    cells, about = load_passes(tmp_path)
    assert about["passes"] == 3 and about["timer"] == "time.process_time"
    assert cells[0] == Cell("json", "raw", pytest.approx(2.0), pytest.approx(0.2), 5, 1)
    summary = summarise(cells)["json", "velocix"]
    assert summary.ratio == pytest.approx(1.5)  # median of 1.5, 1.5, 2.0
    assert (summary.ratio_low, summary.ratio_high) == (pytest.approx(1.5), pytest.approx(2.0))
    assert summary.median_us == pytest.approx(4.0)
    table = render(cells)
    cellwise = grid(cells)
    assert cellwise["raw"]["json"] == "2.00"
    assert cellwise["velocix"]["json"] == "4.00 1.50x"
    assert cellwise["fastapi"]["json"] == "50.00 25.00x"
    # starlette has no result at all and plaintext none for anyone: said, never blank or zero
    assert set(cellwise["starlette"].values()) == {"failed/skipped"}
    assert {row["plaintext"] for row in cellwise.values()} == {"failed/skipped"}
    assert "velocix/json 1.50-2.00" in table and "fastapi/json 25.00-25.00" in table
    assert table.splitlines()[0].split() == ["framework", *(case.name for case in CASES)]


def test_paired_ratios_take_precedence(tmp_path: Path) -> None:
    write_passes(
        tmp_path,
        [
            [
                benchmark_record("path", "raw", 0.002, 1000),
                benchmark_record("path", "velocix", 0.006, 1000, paired=1.2),  # raw was slow
            ],
            [
                benchmark_record("path", "raw", 0.002, 1000),
                benchmark_record("path", "velocix", 0.0024, 1000, paired=1.1),
            ],
        ],
    )
    cells, _ = load_passes(tmp_path)
    summary = summarise(cells)["path", "velocix"]
    assert summary.ratio == pytest.approx(1.15)
    assert (summary.ratio_low, summary.ratio_high) == (pytest.approx(1.1), pytest.approx(1.2))


@pytest.mark.slow
def test_command_runs_passes_and_stores_self_describing_results(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.micro", "--passes", "2", "--rounds", "2",
         "--round-seconds", "0.002", "--out", str(tmp_path), "-k", "json and not middleware"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "GET /json" in result.stdout and "2 passes" in result.stdout
    for number in (1, 2):
        data = json.loads((tmp_path / f"pass-{number}.json").read_text())
        assert data["machine_info"]["python_version"]
        assert {b["extra_info"]["framework"] for b in data["benchmarks"]} == set(apps.names())


@pytest.mark.slow
def test_a_framework_with_one_app_per_process_runs_all_its_apps(tmp_path: Path) -> None:
    # Sanic's start-up assumes one app per process (bench/frameworks/sanic/hosting.py); the
    # command starts its app, app_mw and forms apps side by side in a fresh process, without
    # the test suite's conftest, and every one of its cases must be measured.
    result = subprocess.run(
        [sys.executable, "-m", "bench.micro", "--passes", "1", "--rounds", "1",
         "--round-seconds", "0.002", "--out", str(tmp_path), "-k", "sanic"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    data = json.loads((tmp_path / "pass-1.json").read_text())
    measured = {b["extra_info"]["case"] for b in data["benchmarks"]}
    sanic = frameworks.get("sanic")
    assert measured >= {c.name for c in CASES if sanic.not_applicable(c.requires) is None}
    assert {"middleware", "form"} <= measured


def test_the_table_gives_each_framework_its_ratio_to_the_minimal_baseline(
    tmp_path: Path,
) -> None:
    write_passes(
        tmp_path,
        [
            [
                benchmark_record("json", "raw", 0.004, 1000),
                benchmark_record("json", "minimal", 0.002, 1000),
                {**benchmark_record("json", "velocix", 0.005, 1000, paired=1.25),
                 "extra_info": {"case": "json", "framework": "velocix",
                                "calls_per_round": 1000, "paired_ratio": 1.25,
                                "paired_ratio_minimal": 2.5}},
            ]
        ],
    )  # fmt: skip
    cells, _ = load_passes(tmp_path)
    cellwise = grid(cells)
    assert cellwise["minimal"]["json"] == "2.00"
    assert cellwise["velocix"]["json"] == "5.00 1.25x 2.50m"
    assert cellwise["minimal"]["form"] == "n/a"  # the minimal baseline serves the core five


def test_skip_reasons_are_read_from_pytests_summary() -> None:
    # A framework that is not installed is skipped; the command prints why under the table.
    output = (
        "..s.s\n"
        "=========================== short test summary info ============================\n"
        "SKIPPED [1] bench/micro/bench_micro.py:88: litestar not available: "
        "No module named 'litestar'\n"
        "SKIPPED [2] bench/micro/bench_micro.py:88: django not available: "
        "No module named 'django'\n"
        "SKIPPED [1] bench/micro/bench_micro.py:88: litestar not available: "
        "No module named 'litestar'\n"
        "3 passed, 3 skipped in 0.52s\n"
    )
    assert skip_reasons(output) == [
        "litestar not available: No module named 'litestar'",
        "django not available: No module named 'django'",
    ]
    assert skip_reasons("5 passed in 0.1s\n") == []
