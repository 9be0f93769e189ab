"""The ``asgi_validate`` fixture wraps apps and fails the test on violations."""

from __future__ import annotations

import pytest

from conformance import validate
from conformance.broken_apps import BROKEN_APPS, correct_app
from conformance.inprocess import http_call, http_scope
from conformance.pytest_plugin import Wrap, asgi_validate, assert_conforming

__all__ = ["asgi_validate"]  # the fixture, imported so this module can use it


@pytest.mark.anyio
async def test_fixture_wraps_a_conforming_app(asgi_validate: Wrap) -> None:
    app = asgi_validate(correct_app)
    exchange = await http_call(app, http_scope())
    assert exchange.status == 200 and app.violations == []


@pytest.mark.anyio
async def test_teardown_fails_on_violations() -> None:
    broken = next(b for b in BROKEN_APPS if b.id == "body-before-start")
    app = validate(broken.app, strict=False)
    await http_call(app, http_scope())
    with pytest.raises(pytest.fail.Exception, match=r"http\.body\.before-start"):
        assert_conforming([app])


@pytest.mark.anyio
async def test_readme_example_with_httpx(asgi_validate: Wrap) -> None:
    import httpx

    from conformance.broken_apps import CORRECT_ROUTED_APP

    validated = asgi_validate(CORRECT_ROUTED_APP.app)
    transport = httpx.ASGITransport(app=validated)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/page")).text == "hello"
        assert (await client.post("/echo", content=b"x")).text == "x"
    assert validated.violations == []
