"""The check every cell must pass, and the scenarios' randomised cases."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from bench.scenarios import get, registry
from bench.scenarios.base import (
    ANY_2XX,
    ANY_4XX,
    Case,
    Context,
    Expect,
    HttpRequest,
    HttpScenario,
    Reply,
    WsMessage,
    WsScenario,
    check,
    check_echo,
    compare_json,
)

CONTEXT = Context(world={i: i * 3 for i in range(1, 10_001)})
JSON = (("content-type", "application/json"),)


def case(expect: Expect) -> Case:
    return Case(HttpRequest("GET", "/x"), expect)


def reply(body: bytes, status: int = 200, headers: tuple[tuple[str, str], ...] = JSON) -> Reply:
    return Reply(status, headers, body)


def test_exact_json_passes() -> None:
    expect = Expect(content_type="application/json", json={"a": [1, 2.5, "x"]})
    assert check(case(expect), reply(b'{"a": [1, 2.5, "x"]}')) is None


@pytest.mark.parametrize(
    ("body", "status", "headers", "reason"),
    [
        (b'{"a": 1}', 500, JSON, "status 500"),
        (b'{"a": 1}', 200, (("content-type", "text/plain"),), "content-type"),
        (b'{"a": 2}', 200, JSON, "$.a: 2 != expected 1"),
        (b'{"a": true}', 200, JSON, "$.a: True != expected 1"),
        (b'{"a": 1, "b": 2}', 200, JSON, "keys"),
        (b"not json", 200, JSON, "not JSON"),
        (b'{"a": 1}', 200, (*JSON, ("content-encoding", "br")), "content-encoding"),
    ],
)
def test_any_difference_is_reported(
    body: bytes, status: int, headers: tuple[tuple[str, str], ...], reason: str
) -> None:
    expect = Expect(content_type="application/json", json={"a": 1})
    problem = check(case(expect), reply(body, status, headers))
    assert problem is not None and reason in problem


def test_numbers_compare_as_values_but_booleans_do_not() -> None:
    assert compare_json({"price": 10}, {"price": 10.0}) is None
    assert compare_json([True], [1]) is not None
    assert compare_json([1], [True]) is not None
    assert compare_json(["1"], [1]) is not None


def test_any_4xx_accepts_client_errors_only() -> None:
    expect = Expect(status=ANY_4XX)
    assert check(case(expect), reply(b"", 422)) is None
    assert check(case(expect), reply(b"", 400)) is None
    assert check(case(expect), reply(b"", 200)) is not None
    assert check(case(expect), reply(b"", 500)) is not None


def test_any_2xx_accepts_success_statuses_only() -> None:
    expect = Expect(status=ANY_2XX)
    assert check(case(expect), reply(b"", 200)) is None
    assert check(case(expect), reply(b"", 204)) is None
    assert check(case(expect), reply(b"", 301)) is not None
    assert check(case(expect), reply(b"", 400)) is not None


def test_gzip_is_required_and_checked_decompressed() -> None:
    expect = Expect(json={"n": 1}, gzip=True, headers={"access-control-allow-origin": "o"})
    zipped = (("content-encoding", "gzip"), ("access-control-allow-origin", "o"))
    assert check(case(expect), reply(gzip.compress(b'{"n": 1}'), headers=zipped)) is None
    plain = (("access-control-allow-origin", "o"),)
    assert "gzip" in (check(case(expect), reply(b'{"n": 1}', headers=plain)) or "")
    broken = check(case(expect), reply(b"\x1f\x8bnot gzip", headers=zipped))
    assert broken is not None and "not valid gzip" in broken
    missing = check(case(expect), reply(gzip.compress(b'{"n": 1}'), headers=zipped[:1]))
    assert missing is not None and "access-control-allow-origin" in missing


def test_header_patterns_and_absent_headers() -> None:
    expect = Expect(header_patterns={"x-request-id": "[0-9a-f]{32}"}, absent_headers=("vary",))
    good = (("x-request-id", "a" * 32),)
    assert check(case(expect), reply(b"", headers=good)) is None
    assert check(case(expect), reply(b"", headers=(("x-request-id", "short"),))) is not None
    assert check(case(expect), reply(b"", headers=(*good, ("vary", "Origin")))) is not None


def test_repeat_checks_length_and_content_without_storing_the_body() -> None:
    expect = Expect(repeat=(b"x", 5))
    assert check(case(expect), reply(b"xxxxx")) is None
    assert check(case(expect), reply(b"xxxx")) is not None
    assert check(case(expect), reply(b"xxxxy")) is not None


def test_echo_must_keep_the_frame_type() -> None:
    assert check_echo(WsMessage("hi"), "hi") is None
    assert check_echo(WsMessage("hi"), b"hi") is not None
    assert check_echo(WsMessage(b"\x00"), b"\x01") is not None


def test_registry_has_every_contract_scenario() -> None:
    assert set(registry()) >= {
        "plaintext", "json", "path_param", "query", "post_validated", "records_10k",
        "records_100k", "stream_1mb", "router_100", "middleware", "not_found", "ws_echo", "db",
    }  # fmt: skip
    with pytest.raises(KeyError, match="unknown scenario 'nope'"):
        get("nope")


RANDOMISED = [
    name
    for name, scenario in registry().items()
    if isinstance(scenario, HttpScenario) and name not in ("plaintext", "json")
]


@pytest.mark.parametrize("name", RANDOMISED)
def test_pools_are_randomised_and_expectations_follow_the_inputs(name: str) -> None:
    scenario = registry()[name]
    assert isinstance(scenario, HttpScenario)
    first = scenario.pool(random.Random(1), CONTEXT, 20)
    second = scenario.pool(random.Random(2), CONTEXT, 20)
    assert [c.request for c in first] != [c.request for c in second]
    assert scenario.pool(random.Random(1), CONTEXT, 20) == first  # seeded: reproducible
    assert len({c.request.path + c.request.body.decode() for c in first}) > 1
    assert {c.expect.status for c in first} == {scenario.load_status(random.Random(0), CONTEXT)}


def test_db_expectations_come_from_the_world_table() -> None:
    scenario = get("db")
    assert isinstance(scenario, HttpScenario)
    for db_case in scenario.pool(random.Random(3), CONTEXT, 10):
        world_id = int(db_case.request.path.rsplit("/", 1)[1])
        assert db_case.expect.json == {"id": world_id, "randomNumber": world_id * 3}


def test_post_expectation_echoes_the_body_with_default_tags() -> None:
    scenario = get("post_validated")
    assert isinstance(scenario, HttpScenario)
    for post in scenario.pool(random.Random(4), CONTEXT, 30):
        sent = json.loads(post.request.body)
        assert post.expect.json == {"tags": [], **sent}


def test_edge_cases_expect_client_errors() -> None:
    scenario = get("query")
    assert isinstance(scenario, HttpScenario)
    edges = scenario.probe(random.Random(5), CONTEXT, samples=0)
    assert edges and {c.expect.status for c in edges} == {ANY_4XX}


def test_ws_probe_has_text_and_binary_frames() -> None:
    scenario = get("ws_echo")
    assert isinstance(scenario, WsScenario)
    kinds = {type(m.data) for m in scenario.probe(random.Random(6), CONTEXT, samples=0)}
    assert kinds == {str, bytes}
