"""Every app x every scenario in-process: the apps must give the same, exact answers.

The cases and the check are the lab's own (``bench.scenarios`` + ``bench.probe``), so an app
that passes here passes the lab's pre-load gate, and vice versa. Inputs are random per
session; the seed is in every failure message (``BENCH_TEST_SEED`` replays it).
"""

from __future__ import annotations

import importlib
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

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


# Django sends response header names as they were set ("Content-Type"): the ASGI spec's
# http.response.start says they must be lowercase (conformance A03 records the deviation), yet
# servers pass them on and HTTP names are case-insensitive. The test client refuses them, so
# these apps' answers reach it through a wrapper that lowercases the names: this test is about
# the answers, which is what a client over the wire sees.
MIXED_CASE_HEADER_APPS = {"django"}


def load(app_name: str, variant: Literal["app", "app_mw"] = "app") -> Any:
    """The app as the test client can take it."""
    app = apps.load(app_name, variant)
    if app_name not in MIXED_CASE_HEADER_APPS:
        return app

    async def lowercased(scope: Any, receive: Any, send: Any) -> None:
        async def send_lowercased(message: dict[str, Any]) -> None:
            if "headers" in message:
                headers = [(name.lower(), value) for name, value in message["headers"]]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_lowercased)

    return lowercased


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
    # A framework that cannot serve a scenario says why (e.g. Django has no WebSocket).
    not_applicable = getattr(
        importlib.import_module(f"bench.apps.{app_name}"), "NOT_APPLICABLE", {}
    )
    if scenario_name in not_applicable:
        pytest.skip(f"not applicable to {app_name}: {not_applicable[scenario_name]}")
    scenario = registry()[scenario_name]
    rng = random.Random(f"{SEED}-{app_name}-{scenario_name}")
    app = load(app_name, scenario.variant)
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


# Query integers follow the path's integer notation in every app (optional "-", ASCII digits).
QUERY_NOT_INTEGERS = [
    "/search?q=a&page=1_0",
    "/search?q=a&size=%2B5",
    "/search?q=a&page=%2012",
    "/records?n=1e2",
    "/records?n=10.0",
    "/stream?chunks=%D9%A2",
]


@pytest.mark.parametrize("path", QUERY_NOT_INTEGERS)
@pytest.mark.parametrize("app_name", apps.names())
def test_query_integers_must_be_written_as_integers(
    app_name: str, path: str, world: Context
) -> None:
    with TestClient(load(app_name)) as client:
        response = client.get(path)
    assert 400 <= response.status_code < 500, response.text


# HEAD on a GET route is the GET response without its body (RFC 9110 §9.3.2), error responses
# included. FastAPI answers 405 instead (a known FastAPI deviation, recorded as A18 in
# conformance/expectations.toml), so it is not in this list.
HEAD_APPS = ["raw", "velocix", "starlette"]
HEAD_PATHS = [
    "/plaintext",
    "/json",
    "/users/{id}",
    "/search?q=w{id}&page=3",
    "/records?n=100",
    "/stream?chunks=3&size=1000",
    "/r99/items/{id}",
    "/db/{id}",
    "/users/{id}e3",  # 4xx
    "/nope/{id}",  # 404
    "/items",  # 405, Allow: POST
]
COMPARED_HEADERS = ("content-type", "content-length", "content-encoding", "allow")


@pytest.mark.parametrize("template", HEAD_PATHS)
@pytest.mark.parametrize("app_name", HEAD_APPS)
def test_get_routes_answer_head(app_name: str, template: str, world: Context) -> None:
    path = template.format(id=random.Random(f"{SEED}-{template}").randint(1, 10_000))
    with TestClient(load(app_name)) as client:
        get = client.get(path)
        head = client.head(path)
    assert head.status_code == get.status_code, f"seed {SEED}: HEAD {path}"
    for name in COMPARED_HEADERS:
        assert head.headers.get(name) == get.headers.get(name), f"seed {SEED}: {name} of {path}"
    if "content-length" in get.headers:
        assert int(get.headers["content-length"]) == len(get.content)
    assert head.content == b""


def test_raw_answers_a_get_route_with_head_in_its_allow_header() -> None:
    with TestClient(apps.load("raw")) as client:
        response = client.post("/plaintext")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def asgi_exchange(method: str, path: str) -> list[dict[str, Any]]:
    """The messages the raw app sends for one request, straight from the ASGI callable."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await apps.load("raw")(scope, receive, send)
    return sent


# The test client drops a HEAD response's body by itself, so whether the raw app sends body
# bytes at all is checked at the ASGI level: one empty last body message, even when streamed.
RAW_HEAD_PATHS = ["/plaintext", "/records?n=50", "/stream?chunks=4&size=100", "/users/x", "/nope"]


@pytest.mark.anyio
@pytest.mark.parametrize("path", RAW_HEAD_PATHS)
async def test_raw_head_sends_the_get_start_and_no_body_bytes(path: str) -> None:
    get = await asgi_exchange("GET", path)
    head = await asgi_exchange("HEAD", path)
    assert head[0] == get[0]  # the same status and headers, Content-Length included
    assert head[1:] == [{"type": "http.response.body", "body": b""}]
    assert len(get) > 2 or get[1]["body"]  # the GET did send a body


@pytest.mark.parametrize("app_name", apps.names())
def test_db_id_beyond_64_bits_is_not_found(app_name: str, world: Context) -> None:
    # SQLite and PostgreSQL ids are signed 64-bit: a larger id is a miss, not a driver error.
    with TestClient(load(app_name)) as client:
        response = client.get(f"/db/{2**64 + 7}")
    assert response.status_code == 404, response.text
