"""The batteries import their optional libraries only when used (core = msgspec + orjson)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

OPTIONAL = ("jwt", "argon2", "prometheus_client", "python_multipart")


def test_battery_modules_do_not_import_optional_libraries() -> None:
    code = (
        "import sys\n"
        "import velocix.middleware, velocix.security, velocix.monitoring, velocix.openapi\n"
        "import velocix.forms, velocix.sse, velocix.staticfiles\n"
        f"print(sorted(name for name in {OPTIONAL!r} if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout.strip() == "[]"


def test_lazy_names_resolve_on_first_use() -> None:
    import velocix.monitoring
    import velocix.security

    assert velocix.security.JWTAuth.__module__ == "velocix.security.jwt"
    assert velocix.security.hash_password.__module__ == "velocix.security.passwords"
    assert velocix.monitoring.Metrics.__module__ == "velocix.monitoring.metrics"
