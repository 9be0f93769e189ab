"""uvicorn with httptools + uvloop, one worker, access log off."""

from __future__ import annotations

from bench.infra.servers.base import HOST, ServerSpec


def command(python: str, target: str, port: int) -> list[str]:
    return [
        python, "-m", "uvicorn", target,
        "--host", HOST, "--port", str(port),
        "--workers", "1",
        "--loop", "uvloop",
        "--http", "httptools",
        # The sans-I/O websockets implementation; per-message deflate off as on every server.
        "--ws", "websockets-sansio", "--ws-per-message-deflate", "false",
        "--lifespan", "on",
        "--no-access-log", "--log-level", "warning",
        "--timeout-graceful-shutdown", "3",
    ]  # fmt: skip


SERVER = ServerSpec(
    "uvicorn",
    "uvicorn (httptools, uvloop), 1 worker",
    command,
    {"loop": "uvloop", "http": "httptools", "workers": "1", "access_log": "off"},
)
