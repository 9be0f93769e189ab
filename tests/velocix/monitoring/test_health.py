"""HealthChecks: concurrent checks with timeouts, 200/503 reports, latched startup probe."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from velocix.core.app import Velocix
from velocix.monitoring import HealthChecks
from velocix.testing import TestClient


def make_app(health: HealthChecks) -> Velocix:
    app = Velocix()
    health.register(app)
    return app


@pytest.fixture
def health() -> HealthChecks:
    return HealthChecks(timeout=0.05)


@pytest.fixture
def client(health: HealthChecks) -> Iterator[TestClient]:
    with TestClient(make_app(health)) as client:
        yield client


def test_no_checks_means_healthy_ready_and_started(client: TestClient) -> None:
    for path in ("/health", "/ready", "/startup"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json()["checks"] == {}
        assert response.headers["cache-control"] == "no-store"


def test_passing_checks_report_details(health: HealthChecks, client: TestClient) -> None:
    @health.check("database")
    async def database() -> dict[str, Any]:
        return {"pool": 5}

    @health.check()
    def cache() -> bool:  # sync checks run in the thread pool
        return True

    body = client.get("/ready").json()
    assert body["status"] == 200
    assert body["checks"]["database"]["status"] == "pass"
    assert body["checks"]["database"]["details"] == {"pool": 5}
    assert body["checks"]["cache"]["status"] == "pass"


def test_failures_and_timeouts_are_503_with_details(
    health: HealthChecks, client: TestClient
) -> None:
    @health.check("slow")
    async def slow() -> None:
        await asyncio.sleep(30)

    @health.check("broken")
    async def broken() -> None:
        raise ConnectionError("db.internal:5432 refused")

    @health.check("false")
    async def false() -> bool:
        return False

    @health.check("fine")
    async def fine() -> None:
        return None

    response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "3 of 4 checks failed"
    checks = body["checks"]
    assert checks["slow"]["status"] == "timeout"
    assert checks["slow"]["error"] == "timed out after 0.05s"
    assert checks["broken"] == {
        "status": "fail",
        "duration_ms": checks["broken"]["duration_ms"],
        "error": "ConnectionError",
    }  # no internal host leaked
    assert checks["false"]["status"] == "fail"
    assert checks["fine"]["status"] == "pass"
    # Liveness does not run readiness checks.
    assert client.get("/health").status_code == 200


@pytest.mark.anyio
async def test_show_errors_includes_messages() -> None:
    health = HealthChecks(show_errors=True)

    @health.check("broken")
    async def broken() -> None:
        raise ValueError("details")

    [result] = await health.run("readiness")
    assert result.error == "ValueError: details"


def test_startup_latches_once_passed(health: HealthChecks, client: TestClient) -> None:
    ready = {"value": False}
    calls: list[int] = []

    @health.check("warmup", kind="startup")
    async def warmup() -> bool:
        calls.append(1)
        return ready["value"]

    assert client.get("/startup").status_code == 503
    ready["value"] = True
    assert client.get("/startup").status_code == 200
    ready["value"] = False  # startup done: not re-checked, never 503 again
    assert client.get("/startup").status_code == 200
    assert len(calls) == 2


def test_registration_errors() -> None:
    health = HealthChecks()
    health.add("a", lambda: True)
    with pytest.raises(ValueError, match="already exists"):
        health.add("a", lambda: True)
    with pytest.raises(ValueError, match="kind"):
        health.add("b", lambda: True, kind="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        HealthChecks(timeout=0)
