"""Streaming ``multipart/form-data`` bodies through python-multipart (``velocix[forms]``).

Attack classes closed here: too many fields or files (CVE-2023-30798) -> 400; an oversized
non-file part in memory (CVE-2024-47874) -> 413; an upload rolling over from memory to disk on
the event loop (CVE-2025-54121): every write that may touch the disk runs in the thread pool;
a body cut off before its closing boundary -> 400, never a partial form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from velocix.forms.datastructures import FormData, FormValue, UploadFile
from velocix.forms.headers import filename_of, parse_options_header
from velocix.forms.limits import FormError, FormLimits, too_large
from velocix.forms.parsing import BodyCounter
from velocix.http.datastructures import Headers, RawHeaders

if TYPE_CHECKING:
    from velocix.core.request import Request

__all__ = ["MultipartReader"]


def _import_multipart() -> Any:
    try:
        import python_multipart
    except ImportError:  # pragma: no cover - exercised only without the extra installed
        raise RuntimeError(
            "Form parsing needs python-multipart: pip install 'velocix[forms]'"
        ) from None
    return python_multipart


class MultipartReader:
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
        counter = BodyCounter(self.limits)
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
        filename = filename_of(params)
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
                too_large("Form field", self.limits.max_part_size)
            return
        limit = self.limits.max_file_size
        if limit is not None and upload.size + len(data) > limit:
            too_large("Uploaded file", limit)
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
