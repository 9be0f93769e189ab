"""hypercorn with the uvloop worker class, one worker, access log off (its default)."""

from __future__ import annotations

from bench.infra.servers.base import HOST, ServerSpec


def command(python: str, target: str, port: int) -> list[str]:
    return [
        python, "-m", "hypercorn",
        "--worker-class", "uvloop",
        "--workers", "1",
        "--bind", f"{HOST}:{port}",
        "--log-level", "warning",
        target,
    ]  # fmt: skip


SERVER = ServerSpec(
    "hypercorn",
    "hypercorn (uvloop worker, h11), 1 worker",
    command,
    {"loop": "uvloop", "http": "h11", "workers": "1", "access_log": "off (default)"},
)
