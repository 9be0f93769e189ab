"""JSON body decoding: msgspec types, pydantic models, and the two error kinds."""

from __future__ import annotations

import dataclasses

import msgspec
import pydantic
import pytest

from velocix.validation.body import InvalidBody, JSONBodyDecoder, MalformedJSON, is_pydantic_model


class Item(msgspec.Struct):
    name: str


@dataclasses.dataclass
class Point:
    x: int


class Model(pydantic.BaseModel):
    name: str
    count: int


def test_msgspec_types_decode_and_validate() -> None:
    assert JSONBodyDecoder(Item).decode(b'{"name":"a"}') == Item("a")
    assert JSONBodyDecoder(Point).decode(b'{"x":1}') == Point(1)
    assert JSONBodyDecoder(list[int]).decode(b"[1,2]") == [1, 2]
    with pytest.raises(InvalidBody) as invalid:
        JSONBodyDecoder(Item, ("body", "item")).decode(b'{"name":5}')
    assert invalid.value.errors[0]["loc"] == ["body", "item", "name"]
    with pytest.raises(MalformedJSON, match="malformed"):
        JSONBodyDecoder(Item).decode(b"{oops")


def test_pydantic_models_use_their_own_validation() -> None:
    assert is_pydantic_model(Model) and not is_pydantic_model(Item)
    decoder = JSONBodyDecoder(Model)
    assert decoder.decode(b'{"name":"a","count":"2"}') == Model(name="a", count=2)
    with pytest.raises(InvalidBody) as invalid:
        decoder.decode(b'{"name":"a","count":"x"}')
    assert invalid.value.errors[0]["loc"] == ["body", "count"]
    with pytest.raises(MalformedJSON):
        decoder.decode(b"{oops")


def test_unsupported_types_fail_at_construction() -> None:
    with pytest.raises(TypeError, match="cannot be decoded from JSON"):
        JSONBodyDecoder(object())  # type: ignore[arg-type]
