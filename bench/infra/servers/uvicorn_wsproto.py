"""uvicorn with the wsproto WebSocket implementation (``--ws wsproto``), else as ``uvicorn``."""

from __future__ import annotations

from bench.infra.servers.base import ServerSpec
from bench.infra.servers.uvicorn import command as uvicorn_command


def command(python: str, target: str, port: int, workers: int = 1) -> list[str]:
    argv = uvicorn_command(python, target, port, workers)
    argv[argv.index("--ws") + 1] = "wsproto"
    return argv


SERVER = ServerSpec(
    "uvicorn-wsproto",
    "uvicorn (httptools, wsproto, uvloop)",
    command,
    {"loop": "uvloop", "http": "httptools", "ws": "wsproto",
     "access_log": "off"},
    in_full_matrix=False,
)  # fmt: skip
