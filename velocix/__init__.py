"""Velocix: a fast, correct ASGI web framework built on msgspec and orjson."""

from __future__ import annotations

__version__ = "0.2.0"
