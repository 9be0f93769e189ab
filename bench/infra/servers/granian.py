"""granian, ASGI interface, uvloop, N workers (--workers, default 1), access log off."""

from __future__ import annotations

from bench.infra.servers.base import HOST, ServerSpec


def command(python: str, target: str, port: int, workers: int = 1) -> list[str]:
    return [
        python, "-m", "granian",
        "--interface", "asgi",
        "--host", HOST, "--port", str(port),
        "--workers", str(workers),
        "--loop", "uvloop",
        "--no-access-log", "--log-level", "warning",
        target,
    ]  # fmt: skip


SERVER = ServerSpec(
    "granian",
    "granian (ASGI interface, uvloop)",
    command,
    {"loop": "uvloop", "http": "granian (Rust hyper)", "access_log": "off"},
)
