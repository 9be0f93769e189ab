"""Parsed forms: :class:`UploadFile` and :class:`FormData`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from typing import IO

from velocix.core.concurrency import run_in_threadpool
from velocix.forms.limits import MIB
from velocix.http.datastructures import Headers

__all__ = ["FormData", "FormValue", "UploadFile"]


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
