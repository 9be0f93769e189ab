"""daphne (Django's ASGI server, Twisted + autobahn): a single process, access log off."""

from __future__ import annotations

from bench.infra.servers.base import HOST, ServerError, ServerSpec


def command(python: str, target: str, port: int, workers: int = 1) -> list[str]:
    # daphne has no worker processes: one process serves everything (verbosity 0: no access log).
    if workers != 1:
        raise ServerError(f"daphne has no worker processes: --workers {workers} cannot be served")
    return [python, "-m", "daphne", "-b", HOST, "-p", str(port), "-v", "0", target]


SERVER = ServerSpec(
    "daphne",
    "daphne (Twisted, autobahn), single process",
    command,
    {"loop": "twisted asyncio reactor", "http": "twisted.web", "ws": "autobahn",
     "workers": "1 (single process, no worker option)", "access_log": "off",
     # daphne never calls the app with a lifespan scope: apps that open resources at startup
     # (the lab's database scenarios) cannot serve those endpoints on it.
     "lifespan": "not supported"},
    in_full_matrix=False,
)  # fmt: skip
