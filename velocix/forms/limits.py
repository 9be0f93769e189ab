"""Form limits and the form error: the bounds every parse runs under."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from velocix.core.exceptions import HTTPException

__all__ = ["DEFAULT_LIMITS", "MIB", "FormError", "FormLimits", "too_large"]

MIB = 1024 * 1024


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


def too_large(what: str, limit: int) -> NoReturn:
    """Raise the 413 for ``what`` over ``limit`` bytes."""
    raise FormError(413, f"{what} exceeds the limit of {limit} bytes")
