"""uvicorn with its legacy ``websockets`` implementation (``--ws websockets``, the asyncio
protocol of websockets < 14, kept by uvicorn beside the sans-I/O one), otherwise as ``uvicorn``.
"""

from __future__ import annotations

from bench.servers.base import ServerSpec
from bench.servers.uvicorn import command as uvicorn_command


def command(python: str, target: str, port: int) -> list[str]:
    argv = uvicorn_command(python, target, port)
    argv[argv.index("--ws") + 1] = "websockets"
    return argv


SERVER = ServerSpec(
    "uvicorn-wslegacy",
    "uvicorn (httptools, legacy websockets, uvloop), 1 worker",
    command,
    {"loop": "uvloop", "http": "httptools", "ws": "websockets (legacy)", "workers": "1",
     "access_log": "off"},
    in_full_matrix=False,
)  # fmt: skip
