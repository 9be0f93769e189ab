"""The calibration's slowed baseline: the raw app with a fixed, known extra cost per request.

``python -m bench calibrate`` (:mod:`bench.lab.calibrate`) serves the raw app twice and this
module's variants beside it: ``<server>__<name>`` (e.g. ``uvicorn__slow5``) is the raw app that
first spins a deterministic pure-Python loop of as many iterations as the load file
(``$BENCH_CALIBRATION_LOAD``) gives for that server, variant and request path. The number of
iterations was chosen so that the loop adds a set share (5%, 10%...) of the raw app's own
instructions per request on that server and scenario, measured under callgrind
(:func:`drive` is what the loop's cost is measured with).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from typing import Any

from bench.frameworks.raw.app import app as raw_app

LOAD_ENV = "BENCH_CALIBRATION_LOAD"
SCENARIO_PATHS = {
    "plaintext": "/plaintext",
    "json": "/json",
    "path_param": "/users/",
    "post_validated": "/items",
    "query": "/search",
    "db": "/db/",
    "records_10k": "/records",
    "router_100": "/r99/",
    "stream_1mb": "/stream",
}
"""The path prefix of each scenario the calibration can slow down (one load per prefix)."""

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


def spin(iterations: int) -> None:
    """The extra work: a loop whose instructions per iteration callgrind measures."""
    for _ in range(iterations):
        pass


def slowed(inner: ASGIApp, load: Mapping[str, int]) -> ASGIApp:
    """``inner`` with ``load[prefix]`` iterations of :func:`spin` before each HTTP request
    whose path starts with ``prefix`` (longest prefix first)."""
    prefixes = sorted(load.items(), key=lambda item: -len(item[0]))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            for prefix, iterations in prefixes:
                if path.startswith(prefix):
                    spin(iterations)
                    break
        await inner(scope, receive, send)

    return app


@cache
def _loads() -> dict[str, dict[str, dict[str, int]]]:
    path = os.environ.get(LOAD_ENV)
    if not path:
        raise RuntimeError(f"{LOAD_ENV} is not set: the calibration's load file is missing")
    with open(path, encoding="utf-8") as handle:
        loads: dict[str, dict[str, dict[str, int]]] = json.load(handle)
    return loads


def __getattr__(name: str) -> ASGIApp:
    """``<server>__<variant>``: the raw app slowed by that server's load of that variant."""
    server, _, variant = name.partition("__")
    if not server or not variant or name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loads = _loads()
    if not variant or variant not in loads.get(server, {}):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return slowed(raw_app, loads[server][variant])


async def _noop(scope: Any, receive: Any, send: Any) -> None:
    return None


def drive(iterations: int, calls: int, wrapped: bool = True) -> None:
    """Call the slowed wrapper (around an app doing nothing) ``calls`` times: what callgrind
    counts to price one iteration of :func:`spin` and the wrapper itself."""
    app = slowed(_noop, {"/x": iterations}) if wrapped else _noop
    scope = {"type": "http", "path": "/x"}

    async def run() -> None:
        for _ in range(calls):
            await app(scope, None, None)

    asyncio.run(run())


if __name__ == "__main__":  # ``python -m bench.lab.calibration_app ITERATIONS CALLS [bare]``
    import sys

    drive(int(sys.argv[1]), int(sys.argv[2]), wrapped=len(sys.argv) < 4)
