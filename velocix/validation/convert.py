"""Converting request strings (path segments, query values, headers, cookies) to typed values.

A converter is chosen once per parameter at registration (:func:`string_converter`) and called
per request. The common scalar types have short fast paths; everything else goes through
``msgspec.convert(value, type, strict=False)``, msgspec's "lax" mode that parses numbers,
booleans, UUIDs, decimals, datetimes, enums, literals and constrained ``Annotated`` types from
strings, so the rules and the error messages are msgspec's own ("Expected `int`, got `str`").

Floats are finite: ``nan``, ``inf``, ``-Infinity`` (and ``1e999``, out of range) in a path or
query value are a 422, as they are in a JSON body, which cannot spell them at all. A parameter
that wants them says so in its annotation: ``Annotated[float, AllowInfNan()]``.
"""

from __future__ import annotations

import decimal
import math
import re
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

__all__ = [
    "AllowInfNan",
    "ConversionError",
    "Converter",
    "identity",
    "is_optional",
    "string_converter",
    "strip_optional",
    "to_bool",
    "to_int",
]

Converter = Callable[[str], Any]


class ConversionError(ValueError):
    """A string could not be converted; ``str(exc)`` is the reason shown to the client."""


def _lax(raw: str, target: Any) -> Any:
    try:
        return msgspec.convert(raw, target, strict=False)
    except msgspec.ValidationError as exc:
        raise ConversionError(str(exc)) from None


def identity(raw: str) -> str:
    """The converter for ``str`` (and untyped) values."""
    return raw


_INT = re.compile(r"-?[0-9]{1,4300}")  # what int() accepts without raising on the length
_INT_ERROR = "Expected `int`, got `str`"  # msgspec's wording, as for every other type


def to_int(raw: str) -> int:
    """An optionally negative run of ASCII digits; nothing else.

    Stricter than msgspec's lax mode, which would read ``"1e3"`` or ``"1.0"`` as an integer:
    a path or query value that is not written as an integer is a 422.
    """
    if raw.isascii() and _INT.fullmatch(raw) is not None:
        return int(raw)
    too_long = raw.isascii() and raw.lstrip("-").isdigit()
    raise ConversionError("Number out of range" if too_long else _INT_ERROR)


class AllowInfNan:
    """``Annotated[float, AllowInfNan()]``: this parameter accepts ``nan``, ``inf`` and
    ``-inf``, which a plain ``float`` parameter answers with a 422."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "AllowInfNan()"


_NON_FINITE = "Expected a finite number, got `{}`"


def _finite(value: float, raw: str) -> float:
    if math.isfinite(value):
        return value
    raise ConversionError(_NON_FINITE.format(raw[:20]))


def _to_float(raw: str) -> float:
    if len(raw) <= 15 and raw.isdigit() and raw.isascii():
        return float(raw)
    result: float = _lax(raw, float)
    return _finite(result, raw)


def _to_float_or_non_finite(raw: str) -> float:
    result: float = _lax(raw, float)
    return result


_BOOLS = {
    "true": True, "1": True, "yes": True, "on": True,
    "false": False, "0": False, "no": False, "off": False,
}  # fmt: skip


def to_bool(raw: str) -> bool:
    """``true/1/yes/on`` and ``false/0/no/off``, any case; anything else is an error."""
    try:
        return _BOOLS[raw.lower()]
    except KeyError:
        raise ConversionError("Expected `bool`, got `str`") from None


def _to_uuid(raw: str) -> uuid.UUID:
    result: uuid.UUID = _lax(raw, uuid.UUID)
    return result


def _to_decimal(raw: str) -> decimal.Decimal:
    result: decimal.Decimal = _lax(raw, decimal.Decimal)
    return result


_FAST: dict[Any, Converter] = {
    str: identity,
    int: to_int,
    float: _to_float,
    bool: to_bool,
    uuid.UUID: _to_uuid,
    decimal.Decimal: _to_decimal,
    Any: identity,
}

_NONE_TYPES = (type(None), None)


def is_optional(annotation: Any) -> bool:
    """True for ``T | None`` / ``Optional[T]``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(arg in _NONE_TYPES for arg in typing.get_args(annotation))
    return False


def strip_optional(annotation: Any) -> Any:
    """``T | None`` -> ``T``; a union of several non-None types stays a union."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [arg for arg in typing.get_args(annotation) if arg not in _NONE_TYPES]
        if len(args) == 1:
            return args[0]
        return typing.Union[tuple(args)]  # noqa: UP007 - built from a runtime tuple
    return annotation


def string_converter(annotation: Any) -> Converter:
    """Return the converter from ``str`` to ``annotation`` (``Optional`` already stripped).

    Raises ``TypeError`` at registration when msgspec cannot convert strings to the type.
    """
    fast = _FAST.get(annotation)
    if fast is not None:
        return fast
    try:
        info = msgspec.inspect.type_info(annotation)
    except TypeError as exc:
        raise TypeError(f"Type {annotation!r} cannot be converted from a string: {exc}") from None
    allow_non_finite = _allows_inf_nan(annotation)
    if allow_non_finite and isinstance(info, msgspec.inspect.FloatType) and info == _PLAIN_FLOAT:
        return _to_float_or_non_finite

    def convert(raw: str) -> Any:
        return _lax(raw, annotation)

    if allow_non_finite or not _has_float(info):
        return convert

    def convert_finite(raw: str) -> Any:
        value = _lax(raw, annotation)
        if type(value) is float and not math.isfinite(value):
            raise ConversionError(_NON_FINITE.format(raw[:20]))
        return value

    return convert_finite


_PLAIN_FLOAT = msgspec.inspect.FloatType()


def _allows_inf_nan(annotation: Any) -> bool:
    if typing.get_origin(annotation) is not typing.Annotated:
        return False
    return any(
        extra is AllowInfNan or isinstance(extra, AllowInfNan)
        for extra in typing.get_args(annotation)[1:]
    )


def _has_float(info: Any) -> bool:
    """Whether a value of this type can be a float (float, or a union with one)."""
    if isinstance(info, msgspec.inspect.FloatType):
        return True
    if isinstance(info, msgspec.inspect.UnionType):
        return any(_has_float(member) for member in info.types)
    return False
