"""uvicorn with httptools + uvloop, N workers (--workers, default 1), access log off."""

from __future__ import annotations

from bench.infra.servers.base import HOST, ServerSpec


def command(python: str, target: str, port: int, workers: int = 1) -> list[str]:
    return [
        python, "-m", "uvicorn", target,
        "--host", HOST, "--port", str(port),
        "--workers", str(workers),
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
    "uvicorn (httptools, uvloop)",
    command,
    {"loop": "uvloop", "http": "httptools", "access_log": "off"},
)
