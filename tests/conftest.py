"""Shared fixtures for the whole test suite."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only: the lab and Velocix target asyncio."""
    return "asyncio"


@pytest.fixture(autouse=True, scope="session")
def several_apps_per_process() -> None:
    """Let each framework start several apps in this process, as the tests do (each test
    client runs an app's lifespan; a server starts one app per process): the registry's
    ``several_apps`` hooks, e.g. Sanic's test mode (``bench/frameworks/sanic/hosting.py``)."""
    from bench import frameworks

    for name in frameworks.names():
        try:
            frameworks.host_several(name)
        except ImportError:  # a framework that is not installed has no app to start
            continue
