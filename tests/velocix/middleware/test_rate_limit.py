"""RateLimitMiddleware: token bucket per client, trusted proxies only, bounded memory."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from velocix.middleware import RateLimitMiddleware
from velocix.middleware.rate_limit import (
    TokenBucketTable,
    address_key,
    forwarded_for_hops,
    parse_address,
)

pytestmark = pytest.mark.anyio


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(**options: Any) -> tuple[RateLimitMiddleware, FakeClock]:
    middleware = RateLimitMiddleware(ok_app, **options)
    clock = FakeClock()
    middleware.clock = clock
    return middleware, clock


async def test_burst_then_429_with_retry_after_and_error_body(asgi: Any) -> None:
    app, _ = limiter(limit=2, period=10.0)
    first = await asgi(app)
    assert first.status == 200
    assert first.header("ratelimit-policy") == '"default";q=2;w=10'
    assert first.header("ratelimit") == '"default";r=1;t=5'
    assert (await asgi(app)).status == 200
    blocked = await asgi(app)
    assert blocked.status == 429
    assert blocked.header("retry-after") == "5"
    assert orjson.loads(blocked.body) == {"detail": "Too Many Requests", "status": 429}
    assert blocked.header("ratelimit") == '"default";r=0;t=10'


async def test_tokens_refill_over_time(asgi: Any) -> None:
    app, clock = limiter(limit=1, period=2.0)
    assert (await asgi(app)).status == 200
    assert (await asgi(app)).status == 429
    clock.now += 2.0
    assert (await asgi(app)).status == 200


async def test_clients_have_separate_buckets(asgi: Any) -> None:
    app, _ = limiter(limit=1, period=60.0)
    assert (await asgi(app, client=("10.0.0.1", 1))).status == 200
    assert (await asgi(app, client=("10.0.0.2", 1))).status == 200
    assert (await asgi(app, client=("10.0.0.1", 2))).status == 429


async def test_untrusted_peer_cannot_choose_its_key_with_x_forwarded_for(asgi: Any) -> None:
    app, _ = limiter(limit=1, period=60.0)
    assert (await asgi(app, headers=[("x-forwarded-for", "1.1.1.1")])).status == 200
    # A fresh spoofed address does not give a fresh bucket: the peer is the key.
    assert (await asgi(app, headers=[("x-forwarded-for", "2.2.2.2")])).status == 429


async def test_trusted_proxy_right_most_untrusted_hop_is_the_client(asgi: Any) -> None:
    app, _ = limiter(limit=1, period=60.0, trusted_proxies=["10.0.0.0/8"])
    proxy = ("10.0.0.5", 1234)
    # The client spoofs a left-most entry; the proxy appended the real address 203.0.113.7.
    spoofed = [("x-forwarded-for", "1.1.1.1, 203.0.113.7")]
    assert (await asgi(app, client=proxy, headers=spoofed)).status == 200
    other_spoof = [("x-forwarded-for", "9.9.9.9, 203.0.113.7")]
    assert (await asgi(app, client=proxy, headers=other_spoof)).status == 429
    assert (
        await asgi(app, client=proxy, headers=[("x-forwarded-for", "203.0.113.8")])
    ).status == 200


async def test_key_is_never_echoed(asgi: Any) -> None:
    app, _ = limiter(limit=1, period=60.0, trusted_proxies=["127.0.0.1"])
    headers = [("x-forwarded-for", "198.51.100.99")]
    await asgi(app, headers=headers)
    blocked = await asgi(app, headers=headers)
    assert blocked.status == 429
    everything = blocked.body + b"".join(k + v for k, v in blocked.headers)
    assert b"198.51.100.99" not in everything
    assert b"127.0.0.1" not in everything


def test_client_key_through_chain_of_trusted_proxies() -> None:
    app, _ = limiter(trusted_proxies=["10.0.0.0/8", "192.168.1.1"])
    scope = {
        "client": ("10.1.1.1", 1),
        "headers": [
            (b"x-forwarded-for", b"6.6.6.6, 198.51.100.1"),
            (b"x-forwarded-for", b"192.168.1.1, 10.2.2.2:8080"),
        ],
    }
    assert app.client_key(scope) == "198.51.100.1"
    all_trusted = {"client": ("10.1.1.1", 1), "headers": [(b"x-forwarded-for", b"10.3.3.3")]}
    assert app.client_key(all_trusted) == "10.3.3.3"
    no_header = {"client": ("10.1.1.1", 1), "headers": []}
    assert app.client_key(no_header) == "10.1.1.1"


def test_forwarded_header_mode() -> None:
    app, _ = limiter(trusted_proxies=["10.0.0.1"], forwarded_header="forwarded")
    scope = {
        "client": ("10.0.0.1", 1),
        "headers": [
            (b"forwarded", b'for=6.6.6.6, for="[2001:db8::17]:4711";proto=https'),
            (b"x-forwarded-for", b"7.7.7.7"),
        ],
    }
    assert app.client_key(scope) == "2001:db8::/64"


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        pytest.param(
            [
                "2001:db8::1",
                "2001:DB8::1",
                "2001:db8:0:0::1",
                "[2001:db8::1]:443",
                '"[2001:db8::1]"',
            ],
            "2001:db8::/64",
            id="ipv6-spellings",
        ),
        pytest.param(
            ["2001:db8::1", "2001:db8::ffff:1", "2001:db8:0:0:abcd::9"],
            "2001:db8::/64",
            id="same-64",
        ),
        pytest.param(
            ["198.51.100.7", "198.51.100.7:8080", "::ffff:198.51.100.7"],
            "198.51.100.7",
            id="ipv4-and-mapped",
        ),
        pytest.param(["fe80::1%eth0", "fe80::1"], "fe80::/64", id="zone-dropped"),
    ],
)
def test_one_key_per_client_whatever_the_spelling(spellings: list[str], key: str) -> None:
    app, _ = limiter(trusted_proxies=["10.0.0.1"])
    keys = set()
    for spelling in spellings:
        scope = {"client": ("10.0.0.1", 1), "headers": [(b"x-forwarded-for", spelling.encode())]}
        keys.add(app.client_key(scope))
    assert keys == {key}


async def test_ipv6_clients_of_one_64_share_a_bucket(asgi: Any) -> None:
    app, _ = limiter(limit=2)
    statuses = []
    for host in ("2001:db8::1", "2001:db8::2", "2001:db8::3"):
        statuses.append((await asgi(app, client=(host, 1))).status)
    assert statuses == [200, 200, 429]
    other_network = await asgi(app, client=("2001:db8:0:1::1", 1))
    assert other_network.status == 200


def test_ipv6_prefix_is_configurable() -> None:
    app, _ = limiter(ipv6_prefix=128)
    assert app.client_key({"client": ("2001:DB8::0001", 1), "headers": []}) == "2001:db8::1"
    assert address_key(parse_address("2001:db8:1:2:3::4") or pytest.fail(), ipv6_prefix=48) == (
        "2001:db8:1::/48"
    )


@pytest.mark.parametrize("value", ["unknown", "_hidden", "not-an-ip", "300.1.1.1", "1.2.3"])
def test_forwarded_value_that_is_not_an_address_falls_back_to_the_peer(value: str) -> None:
    app, _ = limiter(trusted_proxies=["10.0.0.1"])
    scope = {
        "client": ("10.0.0.1", 1),
        "headers": [(b"x-forwarded-for", f"6.6.6.6, {value}".encode())],
    }
    assert app.client_key(scope) == "10.0.0.1"
    forwarded, _ = limiter(trusted_proxies=["10.0.0.1"], forwarded_header="forwarded")
    scope = {"client": ("10.0.0.1", 1), "headers": [(b"forwarded", f"for={value}".encode())]}
    assert forwarded.client_key(scope) == "10.0.0.1"


def test_forwarded_for_parsing() -> None:
    value = 'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711"'
    assert forwarded_for_hops(value) == ["192.0.2.60", "2001:db8:cafe::17"]


def test_unix_socket_peer_is_trusted_only_when_listed() -> None:
    scope = {"client": None, "headers": [(b"x-forwarded-for", b"203.0.113.9")]}
    untrusted, _ = limiter()
    assert untrusted.client_key(scope) == "unix"
    trusted, _ = limiter(trusted_proxies=["unix"])
    assert trusted.client_key(scope) == "203.0.113.9"


def test_bucket_table_memory_is_bounded() -> None:
    table = TokenBucketTable(capacity=5.0, rate=1.0, max_keys=100)
    for index in range(10_000):
        table.take(f"client-{index}", 0.0)
    assert len(table) == 100


def test_recently_used_bucket_survives_eviction() -> None:
    table = TokenBucketTable(capacity=1.0, rate=0.001, max_keys=2)
    assert table.take("a", 0.0) == (True, 0.0)
    table.take("b", 0.0)
    table.take("a", 0.0)  # "a" is now the most recently used
    table.take("c", 0.0)  # evicts "b"
    assert table.take("a", 0.0)[0] is False


async def test_exempt_paths_and_lifespan_pass(asgi: Any) -> None:
    app, _ = limiter(limit=1, period=60.0, exempt_paths=["/health"])
    for _ in range(3):
        assert (await asgi(app, path="/health")).status == 200


async def test_sane_defaults(asgi: Any) -> None:
    app, _ = limiter()
    statuses = [(await asgi(app)).status for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


@pytest.mark.parametrize(
    "options",
    [
        {"limit": 0},
        {"period": 0},
        {"burst": 0},
        {"max_keys": 0},
        {"forwarded_header": "x-real-ip"},
        {"trusted_proxies": ["not-an-ip"]},
    ],
)
def test_bad_options_fail_at_construction(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RateLimitMiddleware(ok_app, **options)
