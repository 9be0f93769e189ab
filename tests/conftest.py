"""Shared fixtures for the whole test suite."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only: the lab and Velocix target asyncio."""
    return "asyncio"


@pytest.fixture(autouse=True, scope="session")
def sanic_repeatable_startup() -> None:
    """Let one Sanic app go through ASGI lifespan startup more than once, as tests need.

    Sanic builds its routers at startup and refuses a second one on the same app ("Cannot
    finalize router more than once") outside its test mode, which sanic-testing turns on the
    same way. The lab's tests start each module-level app once per test client; a server
    starts it once per process.
    """
    from sanic import Sanic

    Sanic.test_mode = True
