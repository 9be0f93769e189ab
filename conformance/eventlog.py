"""The event log a served app writes and the wire checks read (JSON lines, append-only).

A server process runs the target app behind ``validate(app, strict=False)``; every scope it
received, every violation and the end of every application call go to this file, tagged with
the ``x-conformance-id`` the check put on its request. The check then waits for the
"finished" line of its connection and reads what happened, without trusting the framework
to report on itself.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from bench.frameworks._shared.conformance import decode, encode
from conformance.validator.rules import Violation

ENV_LOG = "CONFORMANCE_LOG"


class EventLog:
    """Append-only writer; each record is written with a single ``write`` on an O_APPEND fd."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (``t`` is added: wall-clock seconds)."""
        line = json.dumps({**record, "t": time.time()}, default=repr) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    # Observer protocol of conformance.validator.wrapper
    def violation(self, violation: Violation) -> None:
        """Log a violation."""
        self.write({"event": "violation", **violation.to_dict()})

    def started(self, connection: str, scope: dict[str, Any]) -> None:
        """Log the scope a connection started with."""
        self.write({"event": "scope", "connection": connection, "scope": encode(scope)})

    def finished(self, connection: str, scope_type: str) -> None:
        """Log the end of an application call."""
        self.write({"event": "finished", "connection": connection, "scope_type": scope_type})


class EventReader:
    """Reads the log written by the server process."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def records(self) -> list[dict[str, Any]]:
        """Every complete record so far."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.endswith("}")]

    def wait_finished(self, connection: str, timeout: float = 5.0) -> bool:
        """Wait until the application call of ``connection`` has ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(
                r.get("event") == "finished" and r.get("connection") == connection
                for r in self.records()
            ):
                return True
            time.sleep(0.02)
        return False

    def violations(self, connection: str | None = None) -> list[Violation]:
        """Violations, optionally only those of one connection."""
        found = []
        for record in self.records():
            if record.get("event") != "violation":
                continue
            if connection is not None and record.get("connection") != connection:
                continue
            data = {k: v for k, v in record.items() if k not in ("event", "t")}
            found.append(Violation.from_dict(data))
        return found

    def scope(self, connection: str) -> dict[str, Any] | None:
        """The scope a connection started with (decoded, types preserved)."""
        for record in self.records():
            if record.get("event") == "scope" and record.get("connection") == connection:
                scope: dict[str, Any] = decode(record["scope"])
                return scope
        return None

    def events(self, kind: str) -> list[dict[str, Any]]:
        """All records of one event kind (``lifespan``, ``finished``...)."""
        return [r for r in self.records() if r.get("event") == kind]
