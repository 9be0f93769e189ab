"""Request validation with msgspec: string conversion, JSON bodies, and error locations.

Used by the handler plans (:mod:`velocix.core.dependencies`); usable on its own too::

    from velocix.validation import JSONBodyDecoder, string_converter
"""

from __future__ import annotations

from velocix.validation.body import InvalidBody, JSONBodyDecoder, MalformedJSON, is_pydantic_model
from velocix.validation.convert import (
    AllowInfNan,
    ConversionError,
    Converter,
    is_optional,
    string_converter,
    strip_optional,
)
from velocix.validation.errors import (
    ErrorItem,
    error_item,
    errors_from_msgspec,
    missing_item,
    split_msgspec_message,
)

__all__ = [
    "AllowInfNan",
    "ConversionError",
    "Converter",
    "ErrorItem",
    "InvalidBody",
    "JSONBodyDecoder",
    "MalformedJSON",
    "error_item",
    "errors_from_msgspec",
    "is_optional",
    "is_pydantic_model",
    "missing_item",
    "split_msgspec_message",
    "string_converter",
    "strip_optional",
]
