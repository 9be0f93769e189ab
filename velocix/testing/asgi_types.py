"""ASGI type aliases used by the test client.

Kept local to ``velocix.testing`` so the client has no import-time dependency on the
rest of the framework: it must be able to drive any ASGI 3 application.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
#: Any ASGI 3 application. Deliberately loose: frameworks type their scopes and
#: callables in their own ways (``dict`` vs ``MutableMapping``, own Message types), and
#: the client must accept them all.
ASGIApp: TypeAlias = Callable[[Any, Any, Any], Awaitable[Any]]

#: The ``asgi`` scope key for HTTP and WebSocket connections. Spec 2.4 is the first
#: version where ``send()`` on a closed connection raises an ``OSError``, which the
#: client does (see :class:`velocix.testing.exceptions.ClientDisconnected`).
ASGI_WWW: dict[str, str] = {"version": "3.0", "spec_version": "2.4"}
#: The ``asgi`` scope key for the lifespan scope.
ASGI_LIFESPAN: dict[str, str] = {"version": "3.0", "spec_version": "2.0"}
