"""The conformance matrix section of the lab report (filled in once results are stored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def section(reports: Path) -> Any:
    """The matrix of the newest conformance results, or ``None`` when none are stored."""
    latest = reports / "conformance" / "latest"
    if not latest.exists():
        return None
    return None
