"""uvicorn with the pure-Python h11 HTTP parser (``--http h11``), otherwise as ``uvicorn``."""

from __future__ import annotations

from bench.infra.servers.base import ServerSpec
from bench.infra.servers.uvicorn import command as uvicorn_command


def command(python: str, target: str, port: int, workers: int = 1) -> list[str]:
    argv = uvicorn_command(python, target, port, workers)
    argv[argv.index("--http") + 1] = "h11"
    return argv


SERVER = ServerSpec(
    "uvicorn-h11",
    "uvicorn (h11, uvloop)",
    command,
    {"loop": "uvloop", "http": "h11", "ws": "websockets-sansio",
     "access_log": "off"},
    in_full_matrix=False,
)  # fmt: skip
