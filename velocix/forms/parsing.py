"""Reading a request body as a form: urlencoded in one loop, multipart streamed.

:func:`parse_form` parses once per request (later calls return the same data) under
:class:`~velocix.forms.limits.FormLimits`; the uploads of a parsed form are listed under
``scope[FORMS_KEY]`` and closed by the application once the response is sent
(:func:`close_forms`).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from velocix.core.params import FORMS_KEY, MULTIPART, URLENCODED
from velocix.forms.datastructures import FormData, FormValue, UploadFile
from velocix.forms.headers import parse_options_header
from velocix.forms.limits import DEFAULT_LIMITS, FormError, FormLimits, too_large

if TYPE_CHECKING:
    from velocix.core.request import Request

__all__ = ["BodyCounter", "close_form", "close_forms", "parse_form"]

_FORM_ATTRIBUTE = "_velocix_form"
_URLENCODED_BYTES = URLENCODED.encode()


def _content_type(scope: Mapping[str, Any]) -> bytes:
    """The first ``Content-Type`` value (ASGI header names are lower case), ``b""`` if none."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type: bytes = value
            return content_type
    return b""


async def parse_form(request: Request, limits: FormLimits | None = None) -> FormData:
    """Parse the request body as a form (once per request; later calls return the same data).

    Raises :class:`FormError`: 415 for a body that is not a form, 400 for a malformed one or too
    many fields/files, 413 for a part or the whole form over its limit.

    A form holding uploads is listed under ``scope[FORMS_KEY]``: the application closes its
    files once the response is sent (:func:`close_forms`).
    """
    cached: FormData | None = request.__dict__.get(_FORM_ATTRIBUTE)
    if cached is not None:
        return cached
    limits = limits or DEFAULT_LIMITS
    content_type = _content_type(request.scope)
    if content_type == _URLENCODED_BYTES:  # the common case, without parameters
        body = await (request.body() if limits.max_size is None else _read_limited(request, limits))
        form = _parse_urlencoded(body, limits)
    else:
        media_type, params = parse_options_header(content_type.decode("latin-1"))
        if media_type == MULTIPART:
            form = await _read_multipart(request, params, limits)
        elif media_type == URLENCODED:
            body = await (
                request.body() if limits.max_size is None else _read_limited(request, limits)
            )
            form = _parse_urlencoded(body, limits)
        elif not media_type and not await request.body():
            form = FormData()
        else:
            raise FormError(415, f"Expected {URLENCODED} or {MULTIPART}, got {media_type!r}")
    setattr(request, _FORM_ATTRIBUTE, form)
    if form.has_files:
        request.scope.setdefault(FORMS_KEY, []).append(form)
        # Safety net for a Request used outside the application's request cycle: uploads are
        # closed when the request object goes away, even if nothing awaited ``form.close()``.
        weakref.finalize(request, _close_files_now, form)
    return form


def _close_files_now(form: FormData) -> None:
    for _, value in form.multi_items():
        if isinstance(value, UploadFile):
            value.file.close()


async def close_form(request: Request) -> None:
    """Close the uploads of ``request``'s parsed form, if it was parsed (after the response)."""
    form: FormData | None = request.__dict__.get(_FORM_ATTRIBUTE)
    if form is not None:
        await form.close()


async def close_forms(scope: MutableMapping[str, Any]) -> None:
    """Close the uploads of every form parsed for this request (``scope[FORMS_KEY]``).

    Called by the application once the response is sent, also after an error response; the
    list is removed, so a second call does nothing. Every file is closed even if one fails.
    """
    forms: list[FormData] | None = scope.pop(FORMS_KEY, None)
    failure: BaseException | None = None
    for form in forms or ():
        try:
            await form.close()
        except Exception as exc:  # close the rest first, then report the first failure
            failure = failure or exc
    if failure is not None:
        raise failure


async def _read_limited(request: Request, limits: FormLimits) -> bytes:
    """The body of an urlencoded form with a ``max_size``: reading stops as soon as the form is
    over it, keeping nothing past it (``request.body()``, used without ``max_size``, honours
    the app's ``max_body_size`` and ``Content-Length`` the same way)."""
    counter = BodyCounter(limits)
    chunks: list[bytes] = []
    async for chunk in request.stream():
        counter.add(chunk)
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_urlencoded(body: bytes, limits: FormLimits) -> FormData:
    """Split an urlencoded body as ``parse_qsl(keep_blank_values=True, errors="strict")`` does.

    Urlencoded values are small and the body is capped by ``max_size`` and the app's body
    limit, so it is read whole and split with ``str`` methods in one loop (about twice as fast
    as ``parse_qsl``): the field count is checked before splitting, a field's size only when
    the body is larger than the field limit, and only a body containing ``+`` or ``%`` is
    unquoted at all.
    """
    if not body:
        return FormData._parsed([], {}, False)
    if body.count(b"&") >= limits.max_fields:
        raise FormError(400, f"Too many fields: the limit is {limits.max_fields}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FormError(400, "Form field is not valid UTF-8") from None
    unquoted = "+" in text or "%" in text
    max_part = limits.max_part_size
    check_size = len(body) > max_part  # no field is longer than the body it came from
    items: list[tuple[str, FormValue]] = []
    lists: dict[str, list[FormValue]] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if unquoted:
            try:
                name = unquote(name.replace("+", " "), errors="strict")
                value = unquote(value.replace("+", " "), errors="strict")
            except UnicodeDecodeError:
                raise FormError(400, "Form field is not valid percent-encoded UTF-8") from None
        if check_size and len(name) + len(value) > max_part:
            too_large("Form field", max_part)
        items.append((name, value))
        existing = lists.get(name)
        if existing is None:
            lists[name] = [value]
        else:
            existing.append(value)
    return FormData._parsed(items, lists, False)


class BodyCounter:
    """Counts body bytes against ``FormLimits.max_size``."""

    def __init__(self, limits: FormLimits) -> None:
        self.limit = limits.max_size
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.limit is not None and self.total > self.limit:
            too_large("Form body", self.limit)


async def _read_multipart(
    request: Request, params: Mapping[str, str], limits: FormLimits
) -> FormData:
    # Imported on first use: python-multipart is an optional extra.
    from velocix.forms.multipart import MultipartReader

    return await MultipartReader(request, params, limits).read()
