"""String converters: fast paths agree with msgspec's lax conversion, errors are msgspec's."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Annotated, Any, Literal, Optional, Union

import msgspec
import pytest

from velocix.validation.convert import (
    ConversionError,
    is_optional,
    string_converter,
    strip_optional,
)


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("annotation", "raw", "expected"),
    [
        (int, "42", 42),
        (int, "-42", -42),
        (int, "0", 0),
        (float, "2.5", 2.5),
        (float, "7", 7.0),
        (float, "-1e3", -1000.0),
        (bool, "TRUE", True),
        (bool, "off", False),
        (str, " spaced ", " spaced "),
        (Any, "anything", "anything"),
        (
            uuid.UUID,
            "12345678123456781234567812345678",
            uuid.UUID(int=0x12345678123456781234567812345678),
        ),
        (decimal.Decimal, "1.10", decimal.Decimal("1.10")),
        (datetime.date, "2024-02-29", datetime.date(2024, 2, 29)),
        (Color, "red", Color.RED),
        (Literal["a", "b"], "b", "b"),
        (Annotated[int, msgspec.Meta(ge=0)], "3", 3),
    ],
)
def test_conversions(annotation: Any, raw: str, expected: Any) -> None:
    assert string_converter(annotation)(raw) == expected


@pytest.mark.parametrize(
    ("annotation", "raw", "message"),
    [
        (int, "abc", "Expected `int`, got `str`"),
        (int, " 1", "Expected `int`, got `str`"),
        (int, "1_000", "Expected `int`, got `str`"),
        (int, "٣", "Expected `int`, got `str`"),  # non-ASCII digits are not numbers here
        (int, "1e3", "Expected `int`, got `str`"),  # msgspec's lax mode would say 1000
        (int, "1.0", "Expected `int`, got `str`"),
        (int, "+5", "Expected `int`, got `str`"),
        (int, "9" * 5000, "Number out of range"),
        (float, "1_0", "Expected `float`, got `str`"),
        (bool, "maybe", "Expected `bool`, got `str`"),
        (uuid.UUID, "nope", "Invalid UUID"),
        (Color, "blue", "Invalid enum value 'blue'"),
        (Annotated[int, msgspec.Meta(ge=1)], "0", "Expected `int` >= 1"),
    ],
)
def test_conversion_errors(annotation: Any, raw: str, message: str) -> None:
    with pytest.raises(ConversionError) as error:
        string_converter(annotation)(raw)
    assert str(error.value) == message


def test_optional_helpers() -> None:
    assert is_optional(int | None) and is_optional(Optional[int])  # noqa: UP045
    assert not is_optional(int) and not is_optional(int | str)
    assert strip_optional(int | None) is int
    assert strip_optional(Union[int, str, None]) == Union[int, str]  # noqa: UP007
    assert strip_optional(str) is str
