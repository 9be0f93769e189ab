"""Several Sanic apps in one process (the micro benchmark's ``app``, ``app_mw`` and ``forms``).

At its first start-up Sanic's TouchUp rewrites methods of its HTTP classes in place, from their
source; the second app's start-up cannot rewrite the rewritten methods and fails
(``KeyError: 'connection_task'``, then ``'http1_request_header'``). In its test mode, which
sanic-testing turns on the same way, TouchUp keeps the original methods and rewrites those for
each app, and a router finalised once is not an error. A server starts one app per process and
never needs this; the request path an app then serves is the same. The micro benchmark
and the test suite call it through the registry (``Framework.several_apps``).
"""

from __future__ import annotations


def allow_several_apps() -> None:
    """Let several Sanic apps start in this process (Sanic's test mode)."""
    from sanic import Sanic

    Sanic.test_mode = True
