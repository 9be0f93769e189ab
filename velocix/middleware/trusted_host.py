"""Reject requests whose ``Host`` header names a host this application does not serve.

Guards against Host-header attacks (poisoned password-reset links, cache poisoning, DNS
rebinding). Patterns are exact host names or ``*.example.com`` (any subdomain, not the bare
domain); ``"*"`` allows everything. A missing, duplicated or unlisted host gets a 400.
With ``www_redirect`` (the default), a request for ``example.com`` is redirected to
``www.example.com`` when only the latter is listed (as an exact name, not a wildcard).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from velocix.core.exceptions import error_response
from velocix.middleware._asgi import ASGIApp, Receive, Scope, Send


def split_host(host: str) -> str:
    """Return the host name of a ``Host`` value without its port, lower-cased.

    ``[::1]:8000`` -> ``[::1]``; ``Example.COM:80`` -> ``example.com``.
    """
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        return name
    return host


class TrustedHostMiddleware:
    """Allow only requests for the configured hosts (Starlette-compatible options)."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] = ("*",),
        www_redirect: bool = True,
    ) -> None:
        if isinstance(allowed_hosts, str):
            raise TypeError("TrustedHostMiddleware: allowed_hosts must be a sequence of strings")
        exact: set[str] = set()
        suffixes: list[str] = []
        for pattern in allowed_hosts:
            pattern = pattern.strip().lower()
            if pattern == "*":
                continue
            if pattern.startswith("*."):
                suffixes.append(pattern[1:])
            elif "*" in pattern:
                raise ValueError(
                    f"TrustedHostMiddleware: invalid pattern {pattern!r}: a wildcard is only "
                    "allowed as the leading '*.' label"
                )
            else:
                exact.add(pattern)
        self.app = app
        self.allow_any = "*" in allowed_hosts
        self.exact = frozenset(exact)
        self.suffixes = tuple(suffixes)
        self.www_redirect = www_redirect

    def is_allowed(self, host: str) -> bool:
        """Tell whether ``host`` (no port, lower-case) matches an allowed pattern."""
        return self.allow_any or host in self.exact or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [value for key, value in scope["headers"] if key == b"host"]
        host = split_host(hosts[0].decode("latin-1")) if len(hosts) == 1 else ""
        if host and self.is_allowed(host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        if host and self.www_redirect and "www." + host in self.exact:
            await send_www_redirect(scope, receive, send, hosts[0].decode("latin-1"))
            return
        await error_response(400, "Invalid host header")(scope, receive, send)


async def send_www_redirect(scope: Scope, receive: Receive, send: Send, host: str) -> None:
    """Redirect (301) to the same URL on ``www.`` + ``host``."""
    path = scope.get("raw_path") or quote(scope.get("root_path", "") + scope["path"]).encode()
    location = f"{scope.get('scheme', 'http')}://www.{host.strip()}".encode("latin-1") + path
    if scope.get("query_string"):
        location += b"?" + scope["query_string"]
    headers = [(b"location", location), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 301, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
