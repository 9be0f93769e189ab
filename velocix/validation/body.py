"""Decoding and validating JSON request bodies with msgspec.

A :class:`JSONBodyDecoder` is built once per body parameter at registration. It decodes and
validates in one pass with a typed ``msgspec.json.Decoder`` (structs, dataclasses, TypedDicts,
dicts, lists, scalars, unions...). Pydantic models are accepted too, when pydantic is installed,
through their own ``model_validate_json`` - pydantic is never imported by Velocix itself.

Errors come out as two exceptions the handler plan turns into responses: :class:`MalformedJSON`
(400) and :class:`InvalidBody` (422, with the ``errors`` list located under ``"body"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from velocix.validation.errors import INVALID, ErrorItem, error_item, errors_from_msgspec

__all__ = ["InvalidBody", "JSONBodyDecoder", "MalformedJSON", "is_pydantic_model"]


class MalformedJSON(ValueError):
    """The body is not valid JSON; ``str(exc)`` says where."""


class InvalidBody(ValueError):
    """The body is valid JSON but does not match the declared type."""

    def __init__(self, errors: list[ErrorItem]) -> None:
        super().__init__(errors[0]["msg"] if errors else "Invalid body")
        self.errors = errors


def is_pydantic_model(annotation: Any) -> bool:
    """Duck-typed check, so pydantic stays an optional, never-imported dependency."""
    return (
        isinstance(annotation, type)
        and hasattr(annotation, "model_validate_json")
        and hasattr(annotation, "model_fields")
    )


class JSONBodyDecoder:
    """Decode ``bytes`` into ``annotation``; errors are located under ``loc_prefix``."""

    __slots__ = ("_decoder", "_pydantic", "annotation", "loc_prefix")

    def __init__(self, annotation: Any, loc_prefix: Sequence[str | int] = ("body",)) -> None:
        self.annotation = annotation
        self.loc_prefix = tuple(loc_prefix)
        self._pydantic = is_pydantic_model(annotation)
        self._decoder: msgspec.json.Decoder[Any] | None = None
        if not self._pydantic:
            try:
                self._decoder = msgspec.json.Decoder(annotation)
            except TypeError as exc:
                raise TypeError(f"Type {annotation!r} cannot be decoded from JSON: {exc}") from None

    @property
    def msgspec_decoder(self) -> msgspec.json.Decoder[Any] | None:
        """The underlying typed msgspec decoder (``None`` for pydantic models)."""
        return self._decoder

    def decode(self, body: bytes) -> Any:
        """Decode and validate; raise :class:`MalformedJSON` or :class:`InvalidBody`."""
        if self._decoder is not None:
            try:
                return self._decoder.decode(body)
            except msgspec.ValidationError as exc:  # subclass of DecodeError: catch it first
                raise InvalidBody(errors_from_msgspec(exc, self.loc_prefix)) from None
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
                # msgspec reports invalid UTF-8 inside a string as UnicodeDecodeError, and
                # nesting deeper than the interpreter's recursion limit as RecursionError.
                raise MalformedJSON(str(exc)) from None
        return self._decode_pydantic(body)

    def _decode_pydantic(self, body: bytes) -> Any:
        try:
            return self.annotation.model_validate_json(body)
        except ValueError as exc:  # pydantic_core.ValidationError is a ValueError
            details = getattr(exc, "errors", None)
            if details is None:
                raise
            items: list[dict[str, Any]] = details()
            if any(item.get("type") == "json_invalid" for item in items):
                raise MalformedJSON(str(items[0].get("msg", "JSON is malformed"))) from None
            raise InvalidBody(
                [
                    error_item([*self.loc_prefix, *item.get("loc", ())], item["msg"], INVALID)
                    for item in items
                ]
            ) from None
