"""msgspec error messages become ``errors`` items with a location list."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from velocix.validation.errors import errors_from_msgspec, split_msgspec_message


class Inner(msgspec.Struct):
    name: str


class Outer(msgspec.Struct):
    items: list[Inner]
    meta: dict[str, int] = {}


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        (b'{"items":[{"name":1}]}', ["body", "items", 0, "name"], "validation_error"),
        (b'{"items":[{}]}', ["body", "items", 0, "name"], "missing"),
        (b"{}", ["body", "items"], "missing"),
        (b'{"items":[],"meta":{"k":"v"}}', ["body", "meta", "..."], "validation_error"),
        (b"[]", ["body"], "validation_error"),
    ],
)
def test_locations_follow_msgspec_paths(body: bytes, loc: list[Any], kind: str) -> None:
    with pytest.raises(msgspec.ValidationError) as error:
        msgspec.json.decode(body, type=Outer)
    [item] = errors_from_msgspec(error.value, ("body",))
    assert item["loc"] == loc
    assert item["type"] == kind
    assert " - at `" not in item["msg"]


def test_split_message() -> None:
    assert split_msgspec_message("Expected `int`, got `str` - at `$.a[3].b`") == (
        "Expected `int`, got `str`",
        ["a", 3, "b"],
        False,
    )
    assert split_msgspec_message("Object missing required field `x`") == (
        "Object missing required field `x`",
        ["x"],
        True,
    )
