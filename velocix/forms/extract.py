"""Picking ``Form()``/``File()`` parameters out of a parsed form.

The markers (:class:`velocix.core.params.Form`, :class:`~velocix.core.params.File`) compile
each parameter at registration into a shared per-request ``load`` (one parse for every
parameter with the same limits) and an ``extract`` specialised for the parameter's annotation.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from velocix.core.exceptions import RequestValidationError
from velocix.core.params import MISSING, CompiledParam, ParamSpec
from velocix.forms.datastructures import FormData, FormValue, UploadFile
from velocix.forms.limits import FormLimits
from velocix.forms.parsing import parse_form

if TYPE_CHECKING:
    from velocix.core.request import Request

__all__ = ["field_extractor", "form_load", "read_uploads", "upload_extractor"]


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (list, tuple, set, frozenset)


def _validation_error(spec: ParamSpec, message: str, kind: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": [spec.location, spec.alias], "msg": message, "type": kind}]
    )


def _convert(value: Any, annotation: Any, spec: ParamSpec) -> Any:
    try:
        return msgspec.convert(value, annotation, strict=False)
    except msgspec.ValidationError as exc:
        raise _validation_error(spec, str(exc), "value_error") from None


def _is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


def _has_upload(values: list[FormValue]) -> bool:
    return any(isinstance(value, UploadFile) for value in values)


_FormLoad = Callable[["Request"], typing.Awaitable[FormData]]
_LOADS: dict[FormLimits, _FormLoad] = {}


def form_load(limits: FormLimits | None) -> _FormLoad:
    """One ``load`` per limits, so markers with the same limits share one parse per request."""
    if limits is None:
        return parse_form  # called directly: no partial, no keyword arguments per request
    load = _LOADS.get(limits)
    if load is None:
        load = _LOADS[limits] = functools.partial(parse_form, limits=limits)
    return load


def field_extractor(spec: ParamSpec) -> Callable[[FormData], Any]:
    """``extract(form)`` for a ``Form()`` parameter, specialised for its annotation."""
    annotation, alias = spec.annotation, spec.alias

    def file_error() -> RequestValidationError:
        return _validation_error(spec, "Expected a form field, got a file", "type_error")

    if _is_struct(annotation):

        def extract_struct(form: FormData) -> Any:
            fields = {key: value for key, value in form.items() if isinstance(value, str)}
            return _convert(fields, annotation, spec)

        return extract_struct
    if _is_list(annotation):
        # Values are already str: list[str] needs a copy, not a conversion.
        text_items = typing.get_origin(annotation) is list and typing.get_args(annotation) in (
            (str,),
            (Any,),
            (),
        )

        def extract_list(form: FormData) -> Any:
            values = form._lists.get(alias)
            if values is None:
                return MISSING
            if form.has_files and _has_upload(values):
                raise file_error()
            return list(values) if text_items else _convert(values, annotation, spec)

        return extract_list
    if annotation is Any or annotation is str or annotation == str | None:

        def extract_text(form: FormData) -> Any:
            values = form._lists.get(alias)
            if values is None:
                return MISSING
            value = values[-1]
            if form.has_files and _has_upload(values):
                raise file_error()
            return value

        return extract_text

    def extract_scalar(form: FormData) -> Any:
        values = form._lists.get(alias)
        if values is None:
            return MISSING
        if form.has_files and _has_upload(values):
            raise file_error()
        try:
            return msgspec.convert(values[-1], annotation, strict=False)
        except msgspec.ValidationError as exc:
            raise _validation_error(spec, str(exc), "value_error") from None

    return extract_scalar


def upload_extractor(spec: ParamSpec, limits: FormLimits | None) -> CompiledParam | None:
    """The compiled ``File()`` parameter; ``None`` for ``bytes`` (read from the upload, async)."""
    many, item_type = _file_shape(spec.annotation)
    if item_type is bytes:
        return None
    alias = spec.alias

    def extract_uploads(form: FormData) -> Any:
        values = form._lists.get(alias)
        if values is None:
            return MISSING
        uploads = _uploads(values, spec)
        return uploads if many else uploads[-1]

    return CompiledParam(form_load(limits), extract_uploads)


async def read_uploads(request: Request, spec: ParamSpec, limits: FormLimits | None) -> Any:
    """The content (``bytes``) of the upload(s) under ``spec.alias``, or MISSING."""
    form = await parse_form(request, limits)
    values = form._lists.get(spec.alias)
    if values is None:
        return MISSING
    many, _ = _file_shape(spec.annotation)
    contents = [await upload.read() for upload in _uploads(values, spec)]
    return contents if many else contents[-1]


def _uploads(values: list[FormValue], spec: ParamSpec) -> list[UploadFile]:
    uploads = [value for value in values if isinstance(value, UploadFile)]
    if len(uploads) != len(values):
        raise _validation_error(spec, "Expected a file upload, got a form field", "type_error")
    return uploads


def _file_shape(annotation: Any) -> tuple[bool, Any]:
    """(several files?, the item type) of a ``File()`` annotation, ``Optional`` stripped."""
    annotation = _strip_optional(annotation)
    many = _is_list(annotation)
    args = typing.get_args(annotation)
    return many, (args[0] if many and args else annotation)


def _strip_optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation
