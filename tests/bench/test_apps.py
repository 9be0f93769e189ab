"""Every app x every scenario in-process: the apps must give the same, exact answers.

The cases and the check are the lab's own (``bench.scenarios`` + ``bench.probe``), so an app
that passes here passes the lab's pre-load gate, and vice versa. Inputs are random per
session; the seed is in every failure message (``BENCH_TEST_SEED`` replays it).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import apps
from bench.db import create_world
from bench.probe import probe_http, probe_ws
from bench.scenarios import registry
from bench.scenarios.base import Context, HttpScenario
from velocix.testing import TestClient, WebSocketTestSession

SEED = int(os.environ.get("BENCH_TEST_SEED", random.randrange(2**32)))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    path: Path = tmp_path_factory.mktemp("world") / "world.sqlite3"
    rows = create_world(path, seed=SEED)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCH_SQLITE", str(path))
        patch.delenv("BENCH_PG_DSN", raising=False)
        yield Context(world=rows)


class ClientWs:
    """Adapts the test client's WebSocket session to :class:`bench.probe.WsSession`."""

    def __init__(self, session: WebSocketTestSession) -> None:
        self.session = session

    def send(self, data: str | bytes) -> None:
        if isinstance(data, str):
            self.session.send_text(data)
        else:
            self.session.send_bytes(data)

    def receive(self) -> str | bytes:
        message = self.session.receive()
        data: str | bytes = message["text"] if message.get("text") is not None else message["bytes"]
        return data


@pytest.mark.parametrize("scenario_name", list(registry()))
@pytest.mark.parametrize("app_name", apps.names())
def test_app_meets_contract(app_name: str, scenario_name: str, world: Context) -> None:
    scenario = registry()[scenario_name]
    rng = random.Random(f"{SEED}-{app_name}-{scenario_name}")
    app = apps.load(app_name, scenario.variant)
    with TestClient(app) as client:
        if isinstance(scenario, HttpScenario):
            cases = scenario.probe(rng, world, samples=12)
            failures = probe_http(client, cases)
        else:
            with client.websocket_connect(scenario.path) as session:
                failures = probe_ws(ClientWs(session), scenario.probe(rng, world, samples=12))
    assert failures == [], f"seed {SEED}: " + "\n".join(failures)


def test_every_contract_app_is_registered() -> None:
    assert apps.names()[:4] == ["raw", "velocix", "starlette", "fastapi"]
    assert apps.import_string("raw", "app_mw") == "bench.apps.raw:app_mw"
    with pytest.raises(KeyError, match="unknown app 'nope'"):
        apps.import_string("nope")
