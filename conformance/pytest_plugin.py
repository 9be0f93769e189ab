"""pytest plugin: validate ASGI apps under test.

Enable it with ``-p conformance.pytest_plugin`` (or ``pytest_plugins =
["conformance.pytest_plugin"]`` in a root conftest.py). The ``asgi_validate`` fixture wraps
apps with :func:`conformance.validate`; at teardown the test fails if any wrapped app broke
an error-severity rule, listing each violation with its rule id and spec reference::

    async def test_my_app(asgi_validate):
        app = asgi_validate(my_app)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app)) as client:
            await client.get("/")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conformance.validator import ValidatedApp, Violation, validate
from conformance.validator.wrapper import ASGIApp

Wrap = Callable[..., ValidatedApp]


def errors_of(apps: list[ValidatedApp]) -> list[Violation]:
    """Error-severity violations recorded by any of ``apps``."""
    return [v for app in apps for v in app.violations if v.severity == "error"]


def assert_conforming(apps: list[ValidatedApp]) -> None:
    """Fail the current test when any wrapped app recorded an error."""
    errors = errors_of(apps)
    if errors:
        listing = "\n".join(f"  {violation}" for violation in errors)
        pytest.fail(f"{len(errors)} ASGI conformance violation(s):\n{listing}", pytrace=False)


@pytest.fixture
def asgi_validate() -> Iterator[Wrap]:
    """Wrap ASGI apps for the test; violations fail the test at teardown.

    ``asgi_validate(app, strict=True)`` raises at the faulty event instead.
    """
    created: list[ValidatedApp] = []

    def wrap(app: ASGIApp, *, strict: bool = False) -> ValidatedApp:
        validated = validate(app, strict=strict)
        created.append(validated)
        return validated

    yield wrap
    assert_conforming(created)
