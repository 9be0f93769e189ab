"""A misbehaving ASGI server for the lab's fault-injection tests (``test_faults.py``).

    python tests/bench/lab/fault_server.py MODE module:app PORT

Registered by the tests as server plugins (a :class:`bench.infra.servers.base.ServerSpec` whose
command line runs this file), so the runner starts, probes and stops it exactly like uvicorn.

Modes:

- ``refuse``: exits at once with code 3 and a message on stderr (a server that fails to start);
- ``silent``: accepts TCP connections and never answers a byte (a hung server);
- ``crash``: serves the app with uvicorn, then SIGKILLs itself after ``FAULT_AFTER`` requests
  (a server crashing mid-run);
- ``stall``: serves the app with uvicorn, then leaves every request after ``FAULT_AFTER``
  unanswered (a server hanging mid-run).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
FAULT_AFTER = int(os.environ.get("FAULT_AFTER", "200"))


def refuse() -> None:
    print("fault: refusing to start (injected failure)", file=sys.stderr, flush=True)
    raise SystemExit(3)


def silent(port: int) -> None:
    """Listen and accept, never read or answer; connections are kept open until killed."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)


def faulty(app: ASGIApp, mode: str) -> ASGIApp:
    """``app`` with the fault armed after FAULT_AFTER HTTP requests."""
    seen = 0

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        nonlocal seen
        if scope["type"] == "http":
            seen += 1
            if seen > FAULT_AFTER:
                if mode == "crash":
                    os.kill(os.getpid(), signal.SIGKILL)
                await asyncio.Event().wait()  # stall: never answer
        await app(scope, receive, send)

    return wrapper


def serve(mode: str, target: str, port: int) -> None:
    import uvicorn
    from uvicorn.importer import import_from_string

    app = faulty(import_from_string(target), mode)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


def main(argv: list[str]) -> None:
    mode, target, port = argv[0], argv[1], int(argv[2])
    if mode == "refuse":
        refuse()
    elif mode == "silent":
        silent(port)
    elif mode in ("crash", "stall"):
        serve(mode, target, port)
    else:
        raise SystemExit(f"unknown fault mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
