"""uvicorn with the wsproto WebSocket implementation (``--ws wsproto``), else as ``uvicorn``."""

from __future__ import annotations

from bench.servers.base import ServerSpec
from bench.servers.uvicorn import command as uvicorn_command


def command(python: str, target: str, port: int) -> list[str]:
    argv = uvicorn_command(python, target, port)
    argv[argv.index("--ws") + 1] = "wsproto"
    return argv


SERVER = ServerSpec(
    "uvicorn-wsproto",
    "uvicorn (httptools, wsproto, uvloop), 1 worker",
    command,
    {"loop": "uvloop", "http": "httptools", "ws": "wsproto", "workers": "1",
     "access_log": "off"},
    in_full_matrix=False,
)  # fmt: skip
