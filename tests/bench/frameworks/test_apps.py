"""Every app x every scenario in-process: the apps must give the same, exact answers.

The cases and the check are the lab's own (``bench.lab.scenarios`` + ``bench.lab.probe``), so an app
that passes here passes the lab's pre-load gate, and vice versa. Inputs are random per
session; the seed is in every failure message (``BENCH_TEST_SEED`` replays it).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bench import frameworks
from bench.infra.db import create_world
from bench.lab.probe import probe_http, probe_ws
from bench.lab.scenarios import registry
from bench.lab.scenarios.base import Context, HttpScenario, Scenario, Variant, WsScenario
from velocix.testing import TestClient, WebSocketTestSession
from velocix.testing.exceptions import ASGIProtocolError

SEED = int(os.environ.get("BENCH_TEST_SEED", random.randrange(2**32)))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    path: Path = tmp_path_factory.mktemp("world") / "world.sqlite3"
    rows = create_world(path, seed=SEED)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCH_SQLITE", str(path))
        patch.delenv("BENCH_PG_DSN", raising=False)
        yield Context(world=rows)


ClientFor = Callable[[str, Variant], TestClient]


@pytest.fixture(scope="module")
def client_for(world: Context) -> Iterator[ClientFor]:
    """A started client per (app, variant), opened on first use and kept for the module.

    A server runs an app's lifespan once per process, so the tests do too: BlackSheep 2.6.4
    cannot be started again after a shutdown (``Application.start`` wraps its request
    handlers a second time, and every route answers 500), and an app object must not run two
    lifespans at once (the second would replace the database connection the first opened).
    Every test of an app with a lifespan takes its client from here.
    """
    opened: dict[tuple[str, Variant], TestClient] = {}
    fresh: dict[str, ModuleType] = {}
    with ExitStack() as stack:

        def client(app_name: str, variant: Variant = "app") -> TestClient:
            if (app_name, variant) not in opened:
                target = frameworks.import_string(app_name, variant)
                module_name, _, attribute = target.partition(":")
                if module_name not in fresh:
                    # New app objects, never started: the registry's are shared by the whole
                    # process, and one started elsewhere (BlackSheep starts itself on its
                    # first request, e.g. in the micro tests, reading the database configured
                    # then) cannot be started again here.
                    fresh[module_name] = stack.enter_context(fresh_module(module_name))
                app = lowercased(getattr(fresh[module_name], attribute), app_name)
                opened[app_name, variant] = stack.enter_context(TestClient(app))
            return opened[app_name, variant]

        yield client


# Django sends response header names as they were set ("Content-Type"): the ASGI spec's
# http.response.start says they must be lowercase (conformance A03 records the deviation), yet
# servers pass them on and HTTP names are case-insensitive. The test client refuses them, so
# these apps' answers reach it through a wrapper that lowercases the names: this test is about
# the answers, which is what a client over the wire sees.
MIXED_CASE_HEADER_APPS = {"django"}


def lowercased(app: Any, app_name: str) -> Any:
    """The app as the test client can take it."""
    if app_name not in MIXED_CASE_HEADER_APPS:
        return app

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_lowercased(message: dict[str, Any]) -> None:
            if "headers" in message:
                headers = [(name.lower(), value) for name, value in message["headers"]]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_lowercased)

    return wrapped


@contextmanager
def fresh_module(name: str) -> Iterator[ModuleType]:
    """A second, never-started copy of module ``name``, registered under its own alias while
    it is used (frameworks resolve string annotations through ``sys.modules``), leaving the
    module every other test imports untouched."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    alias = f"{name}__fresh_for_test_apps"
    copy = importlib.util.spec_from_file_location(alias, spec.origin)
    assert copy is not None and copy.loader is not None
    module = importlib.util.module_from_spec(copy)
    sys.modules[alias] = module
    try:
        copy.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(alias, None)


class ClientWs:
    """Adapts the test client's WebSocket session to :class:`bench.lab.probe.WsSession`."""

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


# Cells the test client refuses for a framework's breach of the ASGI spec, which servers let
# through: the wire gate checks these cells on every server, conformance records the breach.
# (BlackSheep's cell fails the wire gate too: its CORS answers a foreign origin with 400.)
ASGI_BREACHES = {
    ("blacksheep", "middleware"): (
        "BlackSheep 2.6.4's CORS middleware sends 'Access-Control-Allow-Origin' and 'Vary' with"
        " capitals (ASGI http.response.start: header names must be lowercased)"
    ),
}


@pytest.mark.parametrize("scenario_name", list(registry()))
@pytest.mark.parametrize("app_name", frameworks.names())
def test_app_meets_contract(
    app_name: str,
    scenario_name: str,
    world: Context,
    client_for: ClientFor,
    request: pytest.FixtureRequest,
) -> None:
    breach = ASGI_BREACHES.get((app_name, scenario_name))
    if breach is not None:
        request.applymarker(pytest.mark.xfail(raises=ASGIProtocolError, strict=True, reason=breach))
    scenario = registry()[scenario_name]
    rng = random.Random(f"{SEED}-{app_name}-{scenario_name}")
    client = client_for(app_name, scenario.variant)
    if frameworks.get(app_name).not_applicable(scenario.requires):
        assert_not_served(client, scenario)
        return
    if isinstance(scenario, HttpScenario):
        cases = scenario.probe(rng, world, samples=12)
        failures = probe_http(client, cases)
    else:
        with client.websocket_connect(scenario.path) as session:
            failures = probe_ws(ClientWs(session), scenario.probe(rng, world, samples=12))
    assert failures == [], f"seed {SEED}: " + "\n".join(failures)


def assert_not_served(client: TestClient, scenario: Scenario) -> None:
    """A scenario the spec calls not applicable really is not served (the spec tells the
    truth): a WebSocket scenario's handshake is refused."""
    assert isinstance(scenario, WsScenario), "only WebSocket scenarios can be not applicable"
    with (
        pytest.raises(Exception),  # noqa: B017 (refused how the framework refuses)
        client.websocket_connect(scenario.path),
    ):
        pass


def test_every_contract_app_is_registered() -> None:
    assert frameworks.names()[:4] == ["raw", "velocix", "starlette", "fastapi"]
    assert frameworks.import_string("raw", "app_mw") == "bench.frameworks.raw.app:app_mw"
    with pytest.raises(KeyError, match="unknown framework 'nope'; known: raw, velocix"):
        frameworks.import_string("nope")


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
@pytest.mark.parametrize("app_name", frameworks.names())
def test_query_integers_must_be_written_as_integers(
    app_name: str, path: str, client_for: ClientFor
) -> None:
    response = client_for(app_name, "app").get(path)
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
def test_get_routes_answer_head(app_name: str, template: str, client_for: ClientFor) -> None:
    path = template.format(id=random.Random(f"{SEED}-{template}").randint(1, 10_000))
    client = client_for(app_name, "app")
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code, f"seed {SEED}: HEAD {path}"
    for name in COMPARED_HEADERS:
        assert head.headers.get(name) == get.headers.get(name), f"seed {SEED}: {name} of {path}"
    if "content-length" in get.headers:
        assert int(get.headers["content-length"]) == len(get.content)
    assert head.content == b""


def test_raw_answers_a_get_route_with_head_in_its_allow_header(client_for: ClientFor) -> None:
    response = client_for("raw", "app").post("/plaintext")
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

    await frameworks.load("raw")(scope, receive, send)
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


@pytest.mark.parametrize("app_name", frameworks.names())
def test_db_id_beyond_64_bits_is_not_found(app_name: str, client_for: ClientFor) -> None:
    # SQLite and PostgreSQL ids are signed 64-bit: a larger id is a miss, not a driver error.
    response = client_for(app_name, "app").get(f"/db/{2**64 + 7}")
    assert response.status_code == 404, response.text


def test_a_world_never_closed_does_not_keep_the_process_alive(world: Context) -> None:
    # BlackSheep opens the database on its first request when no lifespan ran (the micro
    # benchmark's case), and nothing ever closes it: the process must still exit.
    script = (
        "import asyncio\n"
        "from bench.frameworks._shared.world import World\n"
        "world = World()\n"
        "asyncio.run(world.open())\n"
        "print(asyncio.run(world.random_number(1)) is not None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
