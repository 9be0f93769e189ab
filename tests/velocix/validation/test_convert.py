"""String converters: fast paths agree with msgspec's lax conversion, errors are msgspec's."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Annotated, Any, Literal, Optional, Union

import msgspec
import pytest

from velocix import Velocix
from velocix.testing import TestClient
from velocix.validation import AllowInfNan
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


NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "1e999"]


@pytest.mark.parametrize("raw", NON_FINITE)
@pytest.mark.parametrize(
    "annotation",
    [float, float | None, Annotated[float, msgspec.Meta(le=10)], int | float],
    ids=["float", "optional", "constrained", "union"],
)
def test_non_finite_floats_are_refused(annotation: Any, raw: str) -> None:
    with pytest.raises(ConversionError, match=r"finite|out of range|Expected"):
        string_converter(strip_optional(annotation))(raw)


@pytest.mark.parametrize("marker", [AllowInfNan(), AllowInfNan])
def test_annotation_can_allow_inf_and_nan(marker: Any) -> None:
    convert = string_converter(Annotated[float, marker])
    assert convert("inf") == float("inf")
    assert convert("-Infinity") == float("-inf")
    assert convert("nan") != convert("nan")  # nan
    assert convert("2.5") == 2.5


nan_app = Velocix()


@nan_app.get("/ratio/{value}")
async def ratio(
    value: float, scale: float = 1.0, limits: list[float] | None = None
) -> dict[str, Any]:
    return {"value": value, "scale": scale, "limits": limits}


@nan_app.get("/raw")
async def raw_float(x: Annotated[float, AllowInfNan()] = 0.0) -> dict[str, str]:
    return {"x": repr(x)}


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/ratio/nan", ["path", "value"]),
        ("/ratio/inf", ["path", "value"]),
        ("/ratio/1?scale=-inf", ["query", "scale"]),
        ("/ratio/1?scale=NaN", ["query", "scale"]),
        ("/ratio/1?limits=1&limits=inf", ["query", "limits", 1]),
    ],
)
def test_non_finite_float_in_path_or_query_is_422(url: str, loc: list[Any]) -> None:
    with TestClient(nan_app) as client:
        response = client.get(url)
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == 422
    assert body["errors"][0]["loc"] == loc
    assert "finite" in body["errors"][0]["msg"]


def test_allowed_non_finite_float_reaches_the_handler() -> None:
    with TestClient(nan_app) as client:
        assert client.get("/raw?x=inf").json() == {"x": "inf"}
        assert client.get("/raw?x=nan").json() == {"x": "nan"}
        assert client.get("/ratio/2.5?scale=2").json() == {
            "value": 2.5,
            "scale": 2.0,
            "limits": None,
        }
