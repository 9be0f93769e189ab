"""Each server plugin starts pinned, answers, and stops with its whole process group."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bench.infra import process
from bench.infra.db import create_world
from bench.infra.servers import registry
from bench.infra.servers.base import RunningServer, ServerError

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

HANGING_APP = """
import asyncio

async def app(scope, receive, send):
    await asyncio.sleep(3600)  # accepts connections, never answers
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    create_world(tmp_path / "world.sqlite3", seed=1)
    return {"BENCH_SQLITE": str(tmp_path / "world.sqlite3")}


@pytest.mark.parametrize("name", list(registry()))
def test_server_serves_the_raw_app_and_stops_cleanly(
    name: str, env: dict[str, str], tmp_path: Path
) -> None:
    server = RunningServer(
        registry()[name],
        "bench.frameworks.raw.app:app",
        cpus=[0],
        env=env,
        log=tmp_path / "server.log",
    )
    # One worker: given as an option, or the server has none (daphne is a single process).
    single = registry()[name].settings.get("workers", "").startswith("1 (single process")
    assert "--workers" in server.command or single
    server.start(timeout=30)
    assert server.process is not None
    group = server.process.pid
    try:
        if registry()[name].settings.get("lifespan") == "not supported":
            # No lifespan, so the raw app never opens its database: plain endpoints only.
            response = httpx.get(server.url + "/plaintext", timeout=10)
            assert response.status_code == 200 and response.text == "Hello, World!"
        else:
            response = httpx.get(server.url + "/db/7", timeout=10)
            assert response.status_code == 200
            assert response.json()["id"] == 7
        assert server.processes()  # the tree RSS/CPU are sampled from
    finally:
        server.stop()
    assert not server.alive()
    assert process.group_members(group) == []


def test_a_server_that_cannot_import_its_app_fails_with_the_log(
    env: dict[str, str], tmp_path: Path
) -> None:
    server = RunningServer(
        registry()["uvicorn"], "no_such_module_here:app", cpus=[0], env=env, log=tmp_path / "s.log"
    )
    with pytest.raises(ServerError, match="exited with code") as failure:
        server.start(timeout=30)
    assert "no_such_module_here" in str(failure.value)
    assert server.process is not None and process.group_members(server.process.pid) == []


def test_a_server_that_never_answers_times_out_and_is_killed(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hanging_bench_app.py").write_text(HANGING_APP)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    server = RunningServer(
        registry()["granian"], "hanging_bench_app:app", cpus=[0], env=env, log=tmp_path / "s.log"
    )
    with pytest.raises(ServerError, match="not ready after 3s"):
        server.start(timeout=3)
    assert server.process is not None and process.group_members(server.process.pid) == []


@pytest.mark.parametrize("name", [name for name in registry() if name != "daphne"])
def test_workers_reach_the_server_command(name: str, tmp_path: Path) -> None:
    server = RunningServer(
        registry()[name], "bench.frameworks.raw.app:app", cpus=[0], env={},
        log=tmp_path / "server.log", workers=3,
    )  # fmt: skip
    flag = server.command.index("--workers")
    assert server.command[flag + 1] == "3" and server.workers == 3


def test_a_single_process_server_refuses_workers(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="daphne has no worker processes: --workers 2"):
        RunningServer(
            registry()["daphne"], "bench.frameworks.raw.app:app", cpus=[0], env={},
            log=tmp_path / "server.log", workers=2,
        )  # fmt: skip
