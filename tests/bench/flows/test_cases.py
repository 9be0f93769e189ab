"""The journeys' steps and their checks: the exact answer passes, any wrong one fails."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bench.flows import cases
from bench.infra.db import create_world
from bench.lab.scenarios.base import Case, Context, Reply, WsMessage, check_echo

JSON = (("content-type", "application/json"),)
SEED = 11


@pytest.fixture(scope="module")
def world() -> Context:
    return cases.context(SEED)


def answer(case: Case) -> Reply:
    """The exact response the contract requires for ``case``."""
    return cases.reply(200, JSON, json.dumps(case.expect.json).encode())


def corrupt(case: Case) -> Reply:
    """The right shape with one value off: what a wrong app or a stale cache would answer."""
    value = case.expect.json
    if isinstance(value, list):
        value = value[:-1]
    elif "randomNumber" in value:
        value = {**value, "randomNumber": value["randomNumber"] + 1}
    elif "price" in value:
        value = {**value, "price": value["price"] + 0.01}
    else:
        value = {**value, "user_id": value["user_id"] + 1}
    return cases.reply(200, JSON, json.dumps(value).encode())


def steps(world: Context) -> list[Case]:
    rng = random.Random(3)
    record = cases.pick_record(answer(cases.browse(rng)).body, rng)
    return [
        cases.browse(rng),
        cases.read_user(rng, world),
        cases.read_random_row(rng, world),
        cases.read_row(world, cases.row_of(record, world)),
        cases.create_item(rng, world),
        cases.create_from_record(rng, record),
    ]


def test_the_exact_answer_passes_every_step(world: Context) -> None:
    for case in steps(world):
        assert cases.verdict(case, answer(case)) is None, case.request


def test_a_wrong_value_fails_every_step(world: Context) -> None:
    for case in steps(world):
        reason = cases.verdict(case, corrupt(case))
        assert reason is not None and "expected" in reason, case.request


def test_a_wrong_status_or_content_type_fails(world: Context) -> None:
    case = cases.read_random_row(random.Random(1), world)
    good = answer(case)
    reason = cases.verdict(case, Reply(500, good.headers, good.body))
    assert reason is not None and reason.startswith("status 500")
    text = cases.reply(200, (("Content-Type", "text/plain"),), good.body)
    assert "content-type" in (cases.verdict(case, text) or "")


def test_rows_come_from_the_seed_exactly_as_the_lab_writes_them(tmp_path: Path) -> None:
    written = create_world(tmp_path / "world.sqlite3", seed=SEED)
    assert cases.context(SEED).world == written
    assert cases.context(None, str(tmp_path / "world.sqlite3")).world == written


def test_db_step_expects_the_row_of_the_world_table(world: Context) -> None:
    case = cases.read_row(world, 42)
    assert case.request.path == "/db/42"
    assert case.expect.json == {"id": 42, "randomNumber": world.world[42]}
    with pytest.raises(cases.StepError, match="not in the world table"):
        cases.read_row(world, 0)


def test_browsed_record_leads_to_a_row_and_an_item(world: Context) -> None:
    rng = random.Random(5)
    listing = answer(cases.browse(rng)).body
    record = cases.pick_record(listing, rng)
    assert record in json.loads(listing)
    assert 1 <= cases.row_of(record, world) <= len(world.world)
    created = cases.create_from_record(rng, record)
    sent = json.loads(created.request.body)
    assert sent["name"].startswith(record["name"]) and sent["price"] == record["price"]
    assert created.expect.json == sent
    with pytest.raises(cases.StepError):
        cases.pick_record(b"[]", rng)


def test_browse_sizes_stay_in_range() -> None:
    rng = random.Random(9)
    sizes = {len(cases.browse(rng).expect.json) for _ in range(200)}
    assert min(sizes) >= cases.BROWSE_MIN and max(sizes) <= cases.BROWSE_MAX


def test_websocket_echo_must_match_bytes_and_frame_type() -> None:
    message = cases.ws_message(random.Random(2))
    assert check_echo(message, message.data) is None
    other = (
        message.data.encode() if isinstance(message.data, str) else message.data.decode("latin-1")
    )
    assert check_echo(message, other) is not None
    assert check_echo(WsMessage("abc"), "abd") is not None


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws/echo"),
        ("http://127.0.0.1:8000/", "ws://127.0.0.1:8000/ws/echo"),
        ("https://example.com", "wss://example.com/ws/echo"),
    ],
)
def test_ws_url_follows_the_http_host(host: str, url: str) -> None:
    assert cases.ws_url(host) == url


def test_ws_url_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="http"):
        cases.ws_url("ftp://example.com")


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("$.randomNumber: 5455 != expected 5454", "$.randomNumber: N != expected N"),
        ("$: 59 items != expected 60", "$: N items != expected N"),
        ("$[3].price: 4.5 != expected 4.51", "$[N].price: N != expected N"),
        ("status 503, expected 200 (b'unavailable')", "status 503, expected 200"),
        ("echo b'ab\\'c' != sent 'abc'", "echo '…' != sent '…'"),
        ("sent a str frame, got bytes back", "sent a str frame, got bytes back"),
    ],
)
def test_failure_labels_drop_per_request_values(reason: str, label: str) -> None:
    assert cases.failure_label(reason) == label


def test_wrong_answers_of_one_kind_share_one_label(world: Context) -> None:
    rng = random.Random(8)
    labels = set()
    for _ in range(50):
        case = cases.read_random_row(rng, world)
        labels.add(cases.failure_label(cases.verdict(case, corrupt(case)) or ""))
    assert labels == {"$.randomNumber: N != expected N"}
