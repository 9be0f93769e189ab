"""uvicorn with its legacy ``websockets`` implementation (``--ws websockets``, the asyncio
protocol of websockets < 14, kept by uvicorn beside the sans-I/O one), otherwise as ``uvicorn``.
"""

from __future__ import annotations

from bench.infra.servers.base import ServerSpec
from bench.infra.servers.uvicorn import command as uvicorn_command


def command(python: str, target: str, port: int, workers: int = 1) -> list[str]:
    argv = uvicorn_command(python, target, port, workers)
    argv[argv.index("--ws") + 1] = "websockets"
    return argv


SERVER = ServerSpec(
    "uvicorn-wslegacy",
    "uvicorn (httptools, legacy websockets, uvloop)",
    command,
    {"loop": "uvloop", "http": "httptools", "ws": "websockets (legacy)",
     "access_log": "off"},
    in_full_matrix=False,
)  # fmt: skip
