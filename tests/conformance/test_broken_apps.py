"""Every deliberately broken app is flagged by the rule meant for it, and only by that fault."""

from __future__ import annotations

import pytest

from conformance import RULES, ASGIConformanceError, validate
from conformance.broken_apps import BROKEN_APPS, BrokenApp, correct_app, exercise

# A few faults unavoidably trip a second rule as well; everything else must be precise.
_ALSO_ALLOWED = {
    "body-before-start": {"http.response.missing"},
    "status-str": set(),
    "body-str": set(),
    "event-not-dict": {"http.response.missing"},
    "ws-denial-not-advertised": set(),
    "status-interim": {"http.body.forbidden-status"},
}


@pytest.mark.parametrize("broken", BROKEN_APPS, ids=[b.id for b in BROKEN_APPS])
@pytest.mark.anyio
async def test_broken_app_is_flagged_by_its_rule(broken: BrokenApp) -> None:
    wrapped = validate(broken.app, strict=False)
    await exercise(wrapped, broken.drive, broken.extensions, broken.subprotocols)
    found = wrapped.rules_violated()
    assert broken.rule in found, f"{broken.id}: expected {broken.rule}, got {found}"
    assert found - {broken.rule} <= _ALSO_ALLOWED.get(broken.id, set()), found


def test_every_broken_app_names_a_known_rule() -> None:
    assert {b.rule for b in BROKEN_APPS} <= RULES.keys()
    assert len({b.id for b in BROKEN_APPS}) == len(BROKEN_APPS)


@pytest.mark.parametrize("drive", ["GET", "HEAD", "websocket", "lifespan", "unknown"])
@pytest.mark.anyio
async def test_correct_app_has_no_violation(drive: str) -> None:
    wrapped = validate(correct_app, strict=True)
    await exercise(wrapped, drive, None, ())  # type: ignore[arg-type]
    assert wrapped.violations == []


@pytest.mark.anyio
async def test_strict_mode_raises_before_forwarding_the_event() -> None:
    from conformance.inprocess import http_call, http_scope

    broken = next(b for b in BROKEN_APPS if b.id == "uppercase-header")
    exchange = await http_call(validate(broken.app), http_scope())
    assert isinstance(exchange.error, ASGIConformanceError)
    assert exchange.error.violation.rule == "headers.name-case"
    assert exchange.sent == []  # the offending start never reached the server


@pytest.mark.anyio
async def test_warnings_do_not_raise_in_strict_mode() -> None:
    from conformance.inprocess import http_call, http_scope

    broken = next(b for b in BROKEN_APPS if b.id == "transfer-encoding")
    wrapped = validate(broken.app)
    exchange = await http_call(wrapped, http_scope())
    assert exchange.error is None
    assert [v.severity for v in wrapped.violations] == ["warning"]
