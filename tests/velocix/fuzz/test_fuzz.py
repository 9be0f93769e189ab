"""Property: no generated request breaks Velocix (see ``fuzz_driver.judge`` for the property).

One test per focus, so each part of the request gets a full budget of examples: the request
target (paths and query strings), headers and cookies, JSON bodies, forms and uploads, and
everything mixed. The number of examples comes from the hypothesis profile (conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from fuzz_requests import raw_requests
from hypothesis import given, settings

FUZZ = settings(deadline=None)


@pytest.mark.parametrize("focus", ["target", "headers", "json", "forms", "any"])
def test_no_request_breaks_the_app(fuzz_target: Any, focus: str) -> None:
    @FUZZ
    @given(request=raw_requests(focus))
    def property_holds(request: Any) -> None:
        fuzz_target.check(request)

    property_holds()


def test_fuzzed_app_answers_a_plain_request(fuzz_target: Any) -> None:
    """The target is alive: a valid request gets its normal answer (guards a vacuous fuzz)."""
    from fuzz_driver import RawRequest

    result = fuzz_target.check(
        RawRequest(raw_path=b"/items/42", query_string=b"tags=a&tags=b&max=3")
    )
    assert result.status == 200
    assert result.body == b'{"id":42,"q":null,"tags":["a","b"],"max":3,"ratio":1.0,"on":false}'
