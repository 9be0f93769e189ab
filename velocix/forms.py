"""HTML forms and file uploads: ``Form()``, ``File()``, :class:`UploadFile`, :class:`FormData`.

``multipart/form-data`` bodies are parsed as they stream in by python-multipart (the optional
extra ``velocix[forms]``); ``application/x-www-form-urlencoded`` ones, small by nature and
capped by the size limits, are read whole and split exactly as the standard library's
``parse_qsl`` would, in one loop of ``str`` methods::

    @app.post("/profile")
    async def profile(name: str = Form(), avatar: UploadFile = File()) -> dict[str, Any]:
        return {"name": name, "size": avatar.size}

A handler's ``Form()``/``File()`` parameters are compiled at registration
(:meth:`Form.compile`): the form is parsed once per request, then each parameter is picked by an
extractor specialised for its annotation; all their validation errors make one 422. The
uploads of a parsed form are closed by the application right after the response is sent (also
after an error response); a finalizer on the request remains as a safety net for forms parsed
outside the application's request cycle.

Every form is parsed under :class:`FormLimits`, which closes the known attack classes:

* too many fields or files (CVE-2023-30798) -> 400, for urlencoded bodies too (CVE-2026-54283);
* an oversized non-file part kept in memory (CVE-2024-47874) -> 413;
* a ``Content-Type`` crafted to make a regex backtrack (CVE-2024-24762): it is parsed by the
  linear :func:`parse_options_header`, never by a regex;
* an upload rolling over from memory to disk on the event loop (CVE-2025-54121): any write
  that may touch the disk runs in the thread pool.

Uploaded file names are kept as sent (``UploadFile.filename``): never use one as a path.
"""

from __future__ import annotations

import functools
import tempfile
import typing
import weakref
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote

import msgspec

from velocix.core.concurrency import run_in_threadpool
from velocix.core.exceptions import HTTPException, RequestValidationError
from velocix.core.params import FORMS_KEY, MISSING, CompiledParam, CustomParam, ParamSpec
from velocix.http.datastructures import Headers, RawHeaders

if TYPE_CHECKING:
    from velocix.core.request import Request

__all__ = [
    "File",
    "Form",
    "FormData",
    "FormError",
    "FormLimits",
    "UploadFile",
    "close_form",
    "close_forms",
    "parse_form",
    "parse_options_header",
]

MIB = 1024 * 1024
_FORM_ATTRIBUTE = "_velocix_form"


def _import_multipart() -> Any:
    try:
        import python_multipart
    except ImportError:  # pragma: no cover - exercised only without the extra installed
        raise RuntimeError(
            "Form parsing needs python-multipart: pip install 'velocix[forms]'"
        ) from None
    return python_multipart


# --- Limits and errors ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormLimits:
    """Bounds applied while a form is parsed.

    ``max_fields``/``max_files``: number of non-file fields / files. ``max_part_size``: bytes of
    one non-file value (kept in memory). ``max_file_size``: bytes of one file (``None``: only the
    body limit applies). ``max_size``: bytes of the whole form body (the app's
    ``max_body_size`` applies too). ``spool_max_size``: bytes of an upload kept in memory before
    it rolls over to a temporary file.
    """

    max_fields: int = 1000
    max_files: int = 1000
    max_part_size: int = MIB
    max_file_size: int | None = None
    max_size: int | None = None
    spool_max_size: int = MIB
    max_part_headers: int = 16
    max_part_header_size: int = 8192


DEFAULT_LIMITS = FormLimits()


class FormError(HTTPException):
    """The form could not be parsed or broke a limit (400, 413 or 415)."""


def _too_large(what: str, limit: int) -> NoReturn:
    raise FormError(413, f"{what} exceeds the limit of {limit} bytes")


# --- Content-Type parsing ---------------------------------------------------------------------


def parse_options_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; name=value; name="quoted"`` into the lower-cased media type and
    its parameters (lower-cased names), in one linear pass (no regex, no backtracking)."""
    media_type, _, rest = value.partition(";")
    params: dict[str, str] = {}
    index, length = 0, len(rest)
    while index < length:
        while index < length and rest[index] in " \t;":
            index += 1
        start = index
        while index < length and rest[index] not in "=;":
            index += 1
        name = rest[start:index].strip().lower()
        if index >= length or rest[index] == ";":
            continue  # a parameter without a value carries nothing
        index += 1  # skip "="
        param_value, index = _read_param_value(rest, index)
        if name:
            params[name] = param_value
    return media_type.strip().lower(), params


def _read_param_value(text: str, index: int) -> tuple[str, int]:
    length = len(text)
    while index < length and text[index] in " \t":
        index += 1
    if index < length and text[index] == '"':
        chars: list[str] = []
        index += 1
        while index < length and text[index] != '"':
            if text[index] == "\\" and index + 1 < length:
                index += 1
            chars.append(text[index])
            index += 1
        return "".join(chars), index + 1
    start = index
    while index < length and text[index] != ";":
        index += 1
    return text[start:index].strip(), index


def _filename(params: Mapping[str, str]) -> str | None:
    extended = params.get("filename*")
    if extended is not None:
        # RFC 8187: charset'language'percent-encoded
        charset, _, encoded = extended.partition("'")
        _, _, encoded = encoded.partition("'")
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            return None
    return params.get("filename")


# --- UploadFile and FormData ------------------------------------------------------------------


class UploadFile:
    """An uploaded file, spooled in memory up to ``spool_max_size`` bytes, then on disk.

    The async methods never block the event loop: in-memory operations run inline, anything
    that may touch the disk (including the roll-over itself) runs in the thread pool.
    ``file`` is the underlying binary file object for sync code.
    """

    __slots__ = ("content_type", "file", "filename", "headers", "size")

    def __init__(
        self,
        file: IO[bytes] | None = None,
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
        spool_max_size: int = MIB,
    ) -> None:
        if file is None:
            # Owned by this object and closed by close() (or FormData.close()).
            file = tempfile.SpooledTemporaryFile(max_size=spool_max_size)  # noqa: SIM115
        self.file: IO[bytes] = file
        self.size = size if size is not None else 0
        self.filename = filename
        self.headers = headers if headers is not None else Headers()
        self.content_type: str | None = self.headers.get("content-type")

    @property
    def _in_memory(self) -> bool:
        return not getattr(self.file, "_rolled", True)

    def _will_roll(self, size_to_add: int) -> bool:
        max_size: int = getattr(self.file, "_max_size", 0)
        return bool(max_size) and self.file.tell() + size_to_add > max_size

    async def write(self, data: bytes) -> None:
        """Append ``data`` (the roll-over to disk, if it happens, runs in the thread pool)."""
        self.size += len(data)
        if self._in_memory and not self._will_roll(len(data)):
            self.file.write(data)
        else:
            await run_in_threadpool(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all by default) from the current position."""
        if self._in_memory:
            return self.file.read(size)
        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int) -> None:
        """Move to byte ``offset``."""
        if self._in_memory:
            self.file.seek(offset)
        else:
            await run_in_threadpool(self.file.seek, offset)

    async def close(self) -> None:
        """Close the file (a temporary file is deleted)."""
        if self._in_memory:
            self.file.close()
        else:
            await run_in_threadpool(self.file.close)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size!r}, "
            f"content_type={self.content_type!r})"
        )


FormValue = str | UploadFile


class FormData(Mapping[str, FormValue]):
    """Parsed form fields and files; repeated names kept in order.

    ``form[name]``/``get`` return the last value of a repeated name, :meth:`getlist` all of them.
    """

    __slots__ = ("_list", "_lists", "has_files")

    def __init__(
        self, items: list[tuple[str, FormValue]] | None = None, *, has_files: bool | None = None
    ) -> None:
        self._list: list[tuple[str, FormValue]] = items if items is not None else []
        # name -> every value in order: what parameter extraction and getlist() read.
        lists: dict[str, list[FormValue]] = {}
        for name, value in self._list:
            existing = lists.get(name)
            if existing is None:
                lists[name] = [value]
            else:
                existing.append(value)
        self._lists = lists
        self.has_files: bool = (
            any(isinstance(value, UploadFile) for _, value in self._list)
            if has_files is None
            else has_files
        )

    @classmethod
    def _parsed(
        cls,
        items: list[tuple[str, FormValue]],
        lists: dict[str, list[FormValue]],
        has_files: bool,
    ) -> FormData:
        """Built by a parser that grouped the values itself (no second pass)."""
        form = cls.__new__(cls)
        form._list = items
        form._lists = lists
        form.has_files = has_files
        return form

    def __getitem__(self, key: str) -> FormValue:
        return self._lists[key][-1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._lists)

    def __len__(self) -> int:
        return len(self._lists)

    def __contains__(self, key: object) -> bool:
        return key in self._lists

    def getlist(self, key: str) -> list[FormValue]:
        """Every value sent under ``key``, in order."""
        return list(self._lists.get(key, ()))

    def multi_items(self) -> list[tuple[str, FormValue]]:
        """All ``(name, value)`` pairs in order."""
        return list(self._list)

    async def close(self) -> None:
        """Close every uploaded file."""
        if not self.has_files:
            return
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()

    def __repr__(self) -> str:
        return f"FormData({self._list!r})"


# --- Parsing ----------------------------------------------------------------------------------

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
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
            form = await _MultipartReader(request, params, limits).read()
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
    counter = _BodyCounter(limits)
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
            _too_large("Form field", max_part)
        items.append((name, value))
        existing = lists.get(name)
        if existing is None:
            lists[name] = [value]
        else:
            existing.append(value)
    return FormData._parsed(items, lists, False)


class _BodyCounter:
    """Counts body bytes against ``FormLimits.max_size``."""

    def __init__(self, limits: FormLimits) -> None:
        self.limit = limits.max_size
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.limit is not None and self.total > self.limit:
            _too_large("Form body", self.limit)


class _MultipartReader:
    """Streams a multipart body through python-multipart's ``MultipartParser``.

    The parser's callbacks only record events; the events are then handled between chunks,
    where awaiting (file writes in the thread pool) is possible.
    """

    def __init__(self, request: Request, params: Mapping[str, str], limits: FormLimits) -> None:
        boundary = params.get("boundary", "")
        if not 1 <= len(boundary) <= 200:
            raise FormError(400, "multipart/form-data needs a boundary of 1 to 200 characters")
        self.boundary = boundary.encode("latin-1", "replace")
        self.request = request
        self.limits = limits
        self.items: list[tuple[str, FormValue]] = []
        self.events: list[tuple[str, bytes]] = []
        self.fields = 0
        self.files = 0
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.part_headers: RawHeaders = []
        self.part_name = ""
        self.part_data = bytearray()
        self.part_file: UploadFile | None = None
        self.ended = False  # the closing boundary was seen

    # Parser callbacks: record only (they cannot await).
    def on_part_begin(self) -> None:
        self.events.append(("begin", b""))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.events.append(("data", data[start:end]))

    def on_part_end(self) -> None:
        self.events.append(("end", b""))

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.events.append(("header", bytes(self.header_field) + b"\0" + self.header_value))
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        self.events.append(("headers_done", b""))

    def on_end(self) -> None:
        self.ended = True

    async def read(self) -> FormData:
        multipart = _import_multipart()
        callbacks = {
            name: getattr(self, name)
            for name in (
                "on_part_begin",
                "on_part_data",
                "on_part_end",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_end",
            )
        }
        parser = multipart.MultipartParser(
            self.boundary,
            callbacks,
            max_header_count=self.limits.max_part_headers,
            max_header_size=self.limits.max_part_header_size,
        )
        counter = _BodyCounter(self.limits)
        try:
            async for chunk in self.request.stream():
                counter.add(chunk)
                parser.write(chunk)
                await self._handle_events()
            parser.finalize()
            await self._handle_events()
            if not self.ended:
                # Cut off before the closing boundary (a dropped connection, a proxy's limit):
                # what was parsed is a partial form, never handed to the handler as if whole.
                # An upload still open never joined the form; it is closed below.
                raise FormError(
                    400, "Malformed multipart body: it ends before the closing boundary"
                )
        except multipart.exceptions.FormParserError as exc:
            await self._close_files()
            raise FormError(400, f"Malformed multipart body: {exc}") from None
        except BaseException:
            await self._close_files()
            raise
        return FormData(self.items)

    async def _close_files(self) -> None:
        for value in [*(v for _, v in self.items), self.part_file]:
            if isinstance(value, UploadFile):
                await value.close()

    async def _handle_events(self) -> None:
        events, self.events = self.events, []
        for kind, data in events:
            if kind == "begin":
                self.part_headers = []
                self.part_data.clear()
                self.part_file = None
            elif kind == "header":
                name, _, value = data.partition(b"\0")
                self.part_headers.append((name.lower(), value))
            elif kind == "headers_done":
                self._start_part()
            elif kind == "data":
                await self._part_data(data)
            else:
                await self._end_part()

    def _start_part(self) -> None:
        headers = Headers(raw=self.part_headers)
        disposition = headers.get("content-disposition")
        if disposition is None:
            raise FormError(400, "Multipart part without a Content-Disposition header")
        _, params = parse_options_header(disposition)
        if "name" not in params:
            raise FormError(400, "Multipart part without a field name")
        self.part_name = params["name"]
        filename = _filename(params)
        if filename is None and "filename" not in params and "filename*" not in params:
            self.fields += 1
            if self.fields > self.limits.max_fields:
                raise FormError(400, f"Too many fields: the limit is {self.limits.max_fields}")
            return
        self.files += 1
        if self.files > self.limits.max_files:
            raise FormError(400, f"Too many files: the limit is {self.limits.max_files}")
        self.part_file = UploadFile(
            filename=filename, headers=headers, spool_max_size=self.limits.spool_max_size
        )

    async def _part_data(self, data: bytes) -> None:
        upload = self.part_file
        if upload is None:
            self.part_data += data
            if len(self.part_data) > self.limits.max_part_size:
                _too_large("Form field", self.limits.max_part_size)
            return
        limit = self.limits.max_file_size
        if limit is not None and upload.size + len(data) > limit:
            _too_large("Uploaded file", limit)
        await upload.write(data)

    async def _end_part(self) -> None:
        upload = self.part_file
        if upload is not None:
            await upload.seek(0)
            self.items.append((self.part_name, upload))
            self.part_file = None
            return
        try:
            value = self.part_data.decode("utf-8")
        except UnicodeDecodeError:
            raise FormError(400, f"Form field {self.part_name!r} is not valid UTF-8") from None
        self.items.append((self.part_name, value))


# --- Parameter markers ------------------------------------------------------------------------


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


def _form_load(limits: FormLimits | None) -> _FormLoad:
    """One ``load`` per limits, so markers with the same limits share one parse per request."""
    if limits is None:
        return parse_form  # called directly: no partial, no keyword arguments per request
    load = _LOADS.get(limits)
    if load is None:
        load = _LOADS[limits] = functools.partial(parse_form, limits=limits)
    return load


def _field_extractor(spec: ParamSpec) -> Callable[[FormData], Any]:
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


class Form(CustomParam):
    """A form field (urlencoded or multipart), converted to the parameter's annotation.

    ``list[T]`` collects repeated fields; a :class:`msgspec.Struct` annotation receives the
    whole form as one object. The form is parsed under ``limits`` (see :class:`FormLimits`);
    the first marker to read a request's form fixes the limits for that request.
    """

    location = "form"
    __slots__ = ("_compiled", "limits", "media_type")

    def __init__(
        self,
        default: Any = MISSING,
        *,
        alias: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        limits: FormLimits | None = None,
        media_type: str = URLENCODED,
    ) -> None:
        super().__init__(
            default, alias=alias, description=description, include_in_schema=include_in_schema
        )
        self.limits = limits
        self.media_type = media_type
        self._compiled: dict[tuple[str, str, Any], CompiledParam | None] = {}

    def compile(self, spec: ParamSpec) -> CompiledParam | None:
        """Parse the form once per request (shared by markers with the same limits), then pick
        this parameter's value with an extractor specialised for its annotation."""
        return CompiledParam(_form_load(self.limits), _field_extractor(spec))

    def _compiled_for(self, spec: ParamSpec) -> CompiledParam | None:
        # resolve() is the general path's entry; the compiled form is kept per parameter.
        key = (spec.location, spec.alias, spec.annotation)
        try:
            return self._compiled[key]
        except KeyError:
            compiled = self._compiled[key] = self.compile(spec)
            return compiled
        except TypeError:  # an unhashable annotation: compile every time
            return self.compile(spec)

    async def resolve(self, request: Request, spec: ParamSpec) -> Any:
        """Read ``spec.alias`` from the request's form (MISSING when absent)."""
        compiled = self._compiled_for(spec)
        assert compiled is not None  # Form always compiles
        return compiled.extract(await compiled.load(request))


class File(Form):
    """An uploaded file: annotate with :class:`UploadFile`, ``bytes`` (the content) or a list
    of either for several files under one name. Makes the route's body ``multipart/form-data``.
    """

    location = "file"
    __slots__ = ()

    def __init__(
        self,
        default: Any = MISSING,
        *,
        alias: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        limits: FormLimits | None = None,
    ) -> None:
        super().__init__(
            default,
            alias=alias,
            description=description,
            include_in_schema=include_in_schema,
            limits=limits,
            media_type=MULTIPART,
        )

    def compile(self, spec: ParamSpec) -> CompiledParam | None:
        """Uploads are picked synchronously; ``bytes`` (read from the upload) is not compiled."""
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

        return CompiledParam(_form_load(self.limits), extract_uploads)

    async def resolve(self, request: Request, spec: ParamSpec) -> Any:
        """Return the upload(s) under ``spec.alias`` (MISSING when absent)."""
        compiled = self._compiled_for(spec)
        if compiled is not None:
            return compiled.extract(await compiled.load(request))
        form = await parse_form(request, self.limits)
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
