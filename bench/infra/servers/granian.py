"""granian, ASGI interface, uvloop, one worker, access log off."""

from __future__ import annotations

from bench.infra.servers.base import HOST, ServerSpec


def command(python: str, target: str, port: int) -> list[str]:
    return [
        python, "-m", "granian",
        "--interface", "asgi",
        "--host", HOST, "--port", str(port),
        "--workers", "1",
        "--loop", "uvloop",
        "--no-access-log", "--log-level", "warning",
        target,
    ]  # fmt: skip


SERVER = ServerSpec(
    "granian",
    "granian (ASGI interface, uvloop), 1 worker",
    command,
    {"loop": "uvloop", "http": "granian (Rust hyper)", "workers": "1", "access_log": "off"},
)
