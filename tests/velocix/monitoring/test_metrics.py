"""Prometheus metrics: labelled by route template, own registry per app, /metrics output."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from velocix.core.app import Velocix
from velocix.core.exceptions import HTTPException
from velocix.monitoring import Metrics, install_metrics
from velocix.testing import TestClient


def build() -> tuple[Velocix, Metrics]:
    app = Velocix()

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    @app.get("/fail")
    async def fail() -> None:
        raise HTTPException(418, "teapot")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    return app, install_metrics(app)


@pytest.fixture
def setup() -> Iterator[tuple[TestClient, Metrics]]:
    app, metrics = build()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, metrics


def samples(client: TestClient, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_requests_labelled_by_template_not_raw_path(
    setup: tuple[TestClient, Metrics],
) -> None:
    client, _ = setup
    for user_id in range(1, 51):
        client.get(f"/users/{user_id}")
    for index in range(20):
        client.get(f"/random/{index}")
    client.get("/fail")
    client.get("/crash")
    client.request("BREW", "/users/1")
    totals = samples(client, "velocix_requests_total")
    assert totals[(("method", "GET"), ("route", "/users/{user_id}"), ("status", "200"))] == 50
    assert totals[(("method", "GET"), ("route", "<unmatched>"), ("status", "404"))] == 20
    assert totals[(("method", "GET"), ("route", "/fail"), ("status", "418"))] == 1
    assert totals[(("method", "GET"), ("route", "/crash"), ("status", "500"))] == 1
    assert any(dict(labels)["method"] == "OTHER" for labels in totals)
    routes = {dict(labels)["route"] for labels in totals}
    assert not any(route.startswith("/random") or route == "/users/1" for route in routes)


def test_latency_histogram_and_in_progress(setup: tuple[TestClient, Metrics]) -> None:
    client, _ = setup
    client.get("/users/7")
    counts = samples(client, "velocix_request_duration_seconds_count")
    assert counts[(("method", "GET"), ("route", "/users/{user_id}"))] == 1
    in_progress = samples(client, "velocix_requests_in_progress")
    # The /metrics request itself is in flight while it renders.
    assert in_progress[(("method", "GET"),)] == 1


def test_each_app_has_its_own_registry() -> None:
    first_app, first = build()
    second_app, second = build()  # no "Duplicated timeseries" error
    assert first.registry is not second.registry
    with TestClient(first_app) as client:
        client.get("/users/1")
    with TestClient(second_app) as client:
        assert samples(client, "velocix_requests_total") == {}


def test_openmetrics_when_asked(setup: tuple[TestClient, Metrics]) -> None:
    client, _ = setup
    response = client.get("/metrics", headers={"accept": "application/openmetrics-text"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")
