"""Per-client request rate limiting with a token bucket.

Each client gets a bucket of ``burst`` tokens refilled at ``limit / period`` tokens per
second; a request takes one token, and a client with an empty bucket gets ``429 Too Many
Requests`` with ``Retry-After`` and the ``RateLimit``/``RateLimit-Policy`` headers of the
IETF draft (draft-ietf-httpapi-ratelimit-headers). The key is never echoed back.

Which address is "the client": the socket peer (``scope["client"]``). Proxy headers are
believed only when that peer is one of ``trusted_proxies`` (IP addresses or CIDR networks,
plus ``"unix"`` for a peer on a Unix socket); then the chosen header (``X-Forwarded-For`` by
default, or RFC 7239 ``Forwarded``) is read right to left and the right-most hop that is not
itself a trusted proxy is the client. A client cannot pick its own key by sending the
header, because everything left of the hop its trusted proxy appended is ignored.

Keys are normalised addresses, parsed with :mod:`ipaddress`: one spelling per address
(``2001:DB8::1``, ``2001:db8:0::1`` and ``[2001:db8::1]:443`` are one client; an IPv4-mapped
IPv6 address is its IPv4 address), and IPv6 clients are keyed by their ``/64`` network by
default (``ipv6_prefix``): one subscriber usually holds a whole /64 and could otherwise take a
fresh bucket per address. A forwarded value that is not an address (``unknown``, an obfuscated
RFC 7239 identifier, garbage) is not a key anyone may pick: the request is keyed by its peer.

Memory is bounded: at most ``max_keys`` buckets are kept, least recently used first out.
An evicted bucket is recreated full, which only errs in the client's favour for keys idle
long enough to fall out of the table.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from velocix.core.exceptions import error_response
from velocix.middleware._asgi import ASGIApp, Message, RawHeaders, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_PROXY_HEADERS = {"x-forwarded-for": b"x-forwarded-for", "forwarded": b"forwarded"}


def normalize_address(value: str) -> str:
    """Strip quotes, brackets and a port from an address as found in proxy headers."""
    value = value.strip().strip('"')
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value[1:]
    if value.count(":") == 1:  # IPv4 with a port; bare IPv6 has several colons.
        return value.partition(":")[0]
    return value


def forwarded_for_hops(header: str) -> list[str]:
    """Return the ``for=`` addresses of an RFC 7239 ``Forwarded`` value, in order."""
    hops: list[str] = []
    for element in header.split(","):
        for pair in element.split(";"):
            name, _, value = pair.partition("=")
            if name.strip().lower() == "for":
                hops.append(normalize_address(value))
    return hops


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(value: str) -> IPAddress | None:
    """The address in ``value`` (quotes, brackets, port and IPv6 zone removed), or ``None``.

    An IPv4-mapped IPv6 address (``::ffff:192.0.2.1``) is returned as its IPv4 address.
    """
    text = normalize_address(value).partition("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_key(address: IPAddress, ipv4_prefix: int = 32, ipv6_prefix: int = 64) -> str:
    """The bucket key of ``address``: the address itself, or its network of the given prefix
    (``2001:db8::/64``), in the one canonical spelling :mod:`ipaddress` gives."""
    prefix = ipv4_prefix if address.version == 4 else ipv6_prefix
    if prefix == address.max_prefixlen:
        return str(address)
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


class TokenBucketTable:
    """Token buckets keyed by client, bounded to ``max_keys`` entries (LRU eviction)."""

    def __init__(self, capacity: float, rate: float, max_keys: int) -> None:
        self.capacity = capacity
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float) -> tuple[bool, float]:
        """Take one token for ``key``: return (allowed, tokens left after the attempt)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._buckets.popitem(last=False)
            bucket = [self.capacity, now]
            self._buckets[key] = bucket
        else:
            self._buckets.move_to_end(key)
            tokens = bucket[0] + (now - bucket[1]) * self.rate
            bucket[0] = min(self.capacity, tokens)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True, bucket[0]
        return False, bucket[0]


class RateLimitMiddleware:
    """Limit each client to ``limit`` requests per ``period`` seconds (bursts up to ``burst``).

    Defaults: 60 requests per minute with bursts of 60, 10,000 tracked clients, IPv6 clients
    keyed by /64 (``ipv6_prefix``; ``ipv4_prefix`` 32). ``key_func(scope) -> str`` replaces
    the client-address key (e.g. an API key), and ``exempt_paths`` lists paths never limited
    (e.g. health checks).
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int = 60,
        period: float = 60.0,
        burst: int | None = None,
        trusted_proxies: Sequence[str] = (),
        forwarded_header: str = "x-forwarded-for",
        max_keys: int = 10_000,
        key_func: Callable[[Scope], str] | None = None,
        exempt_paths: Sequence[str] = (),
        headers_on_success: bool = True,
        ipv4_prefix: int = 32,
        ipv6_prefix: int = 64,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("RateLimitMiddleware: limit must be >= 1 and period > 0")
        if burst is not None and burst < 1:
            raise ValueError("RateLimitMiddleware: burst must be >= 1")
        if max_keys < 1:
            raise ValueError("RateLimitMiddleware: max_keys must be >= 1")
        if forwarded_header.lower() not in _PROXY_HEADERS:
            raise ValueError(
                "RateLimitMiddleware: forwarded_header must be 'x-forwarded-for' or 'forwarded'"
            )
        if not (0 <= ipv4_prefix <= 32 and 0 <= ipv6_prefix <= 128):
            raise ValueError(
                "RateLimitMiddleware: ipv4_prefix must be in 0..32 and ipv6_prefix in 0..128"
            )
        self.ipv4_prefix = ipv4_prefix
        self.ipv6_prefix = ipv6_prefix
        self.app = app
        self.capacity = float(burst if burst is not None else limit)
        self.table = TokenBucketTable(self.capacity, limit / period, max_keys)
        self.trust_unix = "unix" in trusted_proxies
        self.trusted = tuple(
            ipaddress.ip_network(p, strict=False) for p in trusted_proxies if p != "unix"
        )
        self.forwarded_header = _PROXY_HEADERS[forwarded_header.lower()]
        self.key_func = key_func
        self.exempt_paths = frozenset(exempt_paths)
        self.headers_on_success = headers_on_success
        self.policy = f'"default";q={limit};w={math.ceil(period)}'.encode()
        self.clock: Callable[[], float] = time.monotonic

    def is_trusted_proxy(self, address: str) -> bool:
        """Tell whether ``address`` is one of the configured trusted proxies."""
        ip = parse_address(address)
        return ip is not None and self._trusted(ip)

    def _trusted(self, ip: IPAddress) -> bool:
        return any(ip in network for network in self.trusted)

    def key_of(self, address: IPAddress) -> str:
        """The bucket key of a client address (see the module doc)."""
        return address_key(address, self.ipv4_prefix, self.ipv6_prefix)

    def client_key(self, scope: Scope) -> str:
        """Return the rate-limit key of the request: the client address (see module doc)."""
        if self.key_func is not None:
            return self.key_func(scope)
        client = scope.get("client")
        peer = client[0] if client else None
        peer_ip = None if peer is None else parse_address(peer)
        # A peer the server names without an address (a test client's "testclient") is used
        # as it is: it comes from the server, not from the request.
        peer_key = "unix" if peer is None else (peer if peer_ip is None else self.key_of(peer_ip))
        peer_trusted = (
            self.trust_unix if peer is None else (peer_ip is not None and self._trusted(peer_ip))
        )
        if not peer_trusted:
            return peer_key
        hops = self._forwarded_hops(scope["headers"])
        for hop in reversed(hops):
            ip = parse_address(hop)
            if ip is None:
                # Written by a trusted proxy, yet not an address ("unknown", an obfuscated
                # identifier): no key can be believed, so the request is keyed by its peer.
                return peer_key
            if not self._trusted(ip):
                return self.key_of(ip)
        # Every hop is a trusted proxy: the left-most one is the closest we know to the client.
        first = parse_address(hops[0]) if hops else None
        return peer_key if first is None else self.key_of(first)

    def _forwarded_hops(self, headers: RawHeaders) -> list[str]:
        values = [v.decode("latin-1") for k, v in headers if k == self.forwarded_header]
        if not values:
            return []
        joined = ",".join(values)
        if self.forwarded_header == b"forwarded":
            return [hop for hop in forwarded_for_hops(joined) if hop]
        return [hop for hop in (normalize_address(part) for part in joined.split(",")) if hop]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        allowed, tokens = self.table.take(self.client_key(scope), self.clock())
        if allowed:
            if self.headers_on_success and scope["type"] == "http":
                send = self._with_headers(send, tokens)
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        retry_after = max(1, math.ceil((1.0 - tokens) / self.table.rate))
        response = error_response(429, "Too Many Requests")
        response.raw_headers.append((b"retry-after", str(retry_after).encode()))
        response.raw_headers.extend(self._limit_headers(tokens))
        await response(scope, receive, send)

    def _limit_headers(self, tokens: float) -> RawHeaders:
        reset = math.ceil((self.capacity - tokens) / self.table.rate)
        state = f'"default";r={math.floor(tokens)};t={reset}'.encode()
        return [(b"ratelimit-policy", self.policy), (b"ratelimit", state)]

    def _with_headers(self, send: Send, tokens: float) -> Send:
        extra = self._limit_headers(tokens)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        return send_with_headers
