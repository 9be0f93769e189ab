"""Response models: validating and filtering what a handler returns before it is sent.

``@app.get("/users/{id}", response_model=UserOut)`` - or a return annotation naming a model -
converts the handler's return value to the model before encoding it: fields the model does not
declare are dropped (a ``password`` in the returned dict never leaves), missing or mistyped
ones are a server error (500, logged: the handler broke its own contract), and the OpenAPI
document describes the model. A model is a msgspec Struct, a dataclass, a TypedDict, a pydantic
model, or a list/tuple/set/dict of one; plain annotations (``dict[str, int]``, ``str``) are
not used as models, so handlers annotated that way pay nothing. ``response_model=None`` turns
the annotation's model off.

Options: ``response_model_exclude_none=True`` drops ``None`` values (recursively);
``response_model_exclude_unset=True`` keeps only what the handler set: keys present in a
returned dict, a pydantic model's ``model_fields_set``, and - msgspec keeps no record of which
fields were passed - Struct and dataclass fields whose value differs from their default.

A returned value that already has the model's type (a Struct returned from ``-> Struct``) is
encoded as it is, with no conversion, when neither option is set.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from velocix.core.response import Response, json_body
from velocix.validation.body import is_pydantic_model
from velocix.validation.convert import strip_optional

__all__ = ["ResponseModel", "ResponseValidationError", "model_from_annotation"]

_encode = msgspec.json.Encoder().encode


class ResponseValidationError(TypeError):
    """The handler returned something its response model does not accept (a server error)."""


class _NoType:
    """Never the type of a value: disables the 'already the model' shortcut."""


class ResponseModel:
    """Validates, filters and encodes return values for one route (see the module doc)."""

    __slots__ = ("annotation", "exact_type", "exclude_none", "exclude_unset", "name", "pydantic")

    def __init__(
        self, annotation: Any, *, exclude_none: bool = False, exclude_unset: bool = False
    ) -> None:
        self.annotation = annotation
        self.exclude_none = exclude_none
        self.exclude_unset = exclude_unset
        self.name = getattr(annotation, "__name__", None) or repr(annotation)
        self.pydantic = is_pydantic_model(annotation)
        if not self.pydantic:
            try:
                msgspec.inspect.type_info(annotation)
            except TypeError as exc:
                raise TypeError(f"response_model {self.name} is not supported: {exc}") from None
        plain = not (exclude_none or exclude_unset)
        is_struct = isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)
        # The type a returned value may already have to be encoded as it is.
        self.exact_type: type = annotation if plain and is_struct else _NoType

    def encode(self, value: Any) -> bytes:
        """``value`` validated, filtered and encoded as JSON."""
        if type(value) is self.exact_type:
            return _encode(value)
        data = self.to_builtins(value)
        try:
            return _encode(data)
        except TypeError:
            return json_body(data)

    def to_builtins(self, value: Any) -> Any:
        """``value`` validated and filtered, as JSON-ready builtins."""
        if self.pydantic:
            return self._pydantic(value)
        try:
            validated = msgspec.convert(value, self.annotation, from_attributes=True, strict=False)
        except msgspec.ValidationError as exc:
            raise ResponseValidationError(
                f"The handler's return value does not match response_model {self.name}: {exc}"
            ) from None
        data = msgspec.to_builtins(validated)
        if self.exclude_unset:
            data = _keep_set(data, value)
        if self.exclude_none:
            data = _drop_none(data)
        return data

    def _pydantic(self, value: Any) -> Any:
        model = self.annotation
        try:
            instance = (
                value
                if isinstance(value, model)
                else model.model_validate(value, from_attributes=True)
            )
        except ValueError as exc:  # pydantic_core.ValidationError is a ValueError
            raise ResponseValidationError(
                f"The handler's return value does not match response_model {self.name}: {exc}"
            ) from None
        return instance.model_dump(
            mode="json", exclude_none=self.exclude_none, exclude_unset=self.exclude_unset
        )


def model_from_annotation(endpoint: Callable[..., Any]) -> Any | None:
    """The return annotation of ``endpoint`` when it names a model (see the module doc)."""
    target: Any = endpoint
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.ismethod(target):
        target = target.__func__
    elif not (inspect.isfunction(target) or inspect.isclass(target)) and callable(target):
        target = type(target).__call__
    try:
        annotation = typing.get_type_hints(target).get("return")
    except (NameError, TypeError):
        return None
    return annotation if annotation is not None and is_model(annotation) else None


def is_model(annotation: Any) -> bool:
    """Whether ``annotation`` names a model, or a container of models."""
    annotation = strip_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return is_model(typing.get_args(annotation)[0])
    if origin in (list, tuple, set, frozenset, dict):
        return any(is_model(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis)
    if not isinstance(annotation, type) or issubclass(annotation, Response):
        return False
    return (
        issubclass(annotation, msgspec.Struct)
        or dataclasses.is_dataclass(annotation)
        or typing.is_typeddict(annotation)
        or is_pydantic_model(annotation)
    )


def _keep_set(data: Any, source: Any) -> Any:
    """``data`` (builtins) restricted to what ``source`` (the returned value) set."""
    if isinstance(data, dict):
        kept = {}
        for key, value in data.items():
            found, inner = _set_value(source, key)
            if found:
                kept[key] = _keep_set(value, inner)
        return kept
    if isinstance(data, list) and isinstance(source, list | tuple) and len(source) == len(data):
        return [_keep_set(item, inner) for item, inner in zip(data, source, strict=True)]
    return data


_MISSING: Any = object()


def _set_value(source: Any, key: str) -> tuple[bool, Any]:
    """Whether ``source`` set ``key``, and the value it set."""
    if isinstance(source, Mapping):
        return (key in source), source.get(key)
    fields_set = getattr(source, "model_fields_set", None)
    if fields_set is not None:
        return (key in fields_set), getattr(source, key, None)
    if isinstance(source, msgspec.Struct):
        for field in msgspec.structs.fields(source):
            if field.encode_name == key or field.name == key:
                value = getattr(source, field.name)
                return not _is_default(value, field.default, field.default_factory), value
        return False, None
    if dataclasses.is_dataclass(source) and not isinstance(source, type):
        for dc_field in dataclasses.fields(source):
            if dc_field.name == key:
                value = getattr(source, key)
                factory = dc_field.default_factory
                default = dc_field.default
                return not _is_default(value, default, factory), value
        return False, None
    return True, getattr(source, key, None)


def _is_default(value: Any, default: Any, factory: Any) -> bool:
    if default is not msgspec.NODEFAULT and default is not dataclasses.MISSING:
        return bool(value == default)
    if factory is not msgspec.NODEFAULT and factory is not dataclasses.MISSING:
        return bool(value == factory())
    return False


def _drop_none(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _drop_none(value) for key, value in data.items() if value is not None}
    if isinstance(data, list):
        return [_drop_none(item) for item in data]
    return data
