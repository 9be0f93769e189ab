"""hypercorn with the uvloop worker class, N workers (--workers, default 1), access log off
(its default)."""

from __future__ import annotations

from bench.infra.servers.base import HOST, ServerSpec


def command(python: str, target: str, port: int, workers: int = 1) -> list[str]:
    return [
        python, "-m", "hypercorn",
        "--worker-class", "uvloop",
        "--workers", str(workers),
        "--bind", f"{HOST}:{port}",
        "--log-level", "warning",
        target,
    ]  # fmt: skip


SERVER = ServerSpec(
    "hypercorn",
    "hypercorn (uvloop worker, h11)",
    command,
    {"loop": "uvloop", "http": "h11", "access_log": "off (default)"},
)
