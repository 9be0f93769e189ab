"""The ``velocix`` command line.

::

    velocix run main:app --host 127.0.0.1 --port 8000   # serve with uvicorn
    velocix routes main:app                             # list the routes
    velocix --version

``module:attribute`` is imported with the current directory first on ``sys.path`` (like
uvicorn's own command). ``run`` needs an ASGI server, which the core does not install:
``pip install uvicorn``. Errors (bad target, missing server, port in use) are one clear line on
stderr and exit status 2 (usage) or 1 (runtime), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["CommandError", "load_target", "main", "route_table"]


class CommandError(Exception):
    """A user error: printed as one line, exit status ``code``."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def load_target(target: str) -> Any:
    """Import ``module:attribute`` (dotted attributes allowed) and return the object."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise CommandError(f"expected 'module:attribute' (e.g. main:app), got {target!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise CommandError(f"cannot import module {module_name!r}: no such module") from None
        raise CommandError(f"importing {module_name!r} failed: {exc}") from None
    except Exception as exc:
        raise CommandError(
            f"importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise CommandError(f"module {module_name!r} has no attribute {attribute!r}") from None
    return value


def _routes_of(app: Any) -> list[Any]:
    routes = getattr(app, "routes", None)
    if not isinstance(routes, list):
        raise CommandError(f"{type(app).__name__} object has no route list (is it a Velocix app?)")
    return routes


def route_table(app: Any) -> list[tuple[str, str, str, str]]:
    """``(methods, path, name, endpoint)`` for every route of ``app``, in registration order."""
    rows = []
    for route in _routes_of(app):
        methods = getattr(route, "methods", None)
        endpoint = getattr(route, "endpoint", None)
        if methods is not None:
            shown = set(methods) | ({"HEAD"} if "GET" in methods else set())
            kind = ",".join(sorted(shown))
        elif endpoint is not None:
            kind = "WEBSOCKET"
        else:
            kind = "MOUNT"
            endpoint = getattr(route, "app", None)
        target = endpoint if endpoint is not None else route
        where = getattr(target, "__module__", None) or type(target).__module__
        qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
        rows.append((kind, route.path or "/", str(route.name or ""), f"{where}.{qualname}"))
    return rows


def _print_routes(target: str, out: TextIO) -> None:
    rows = route_table(load_target(target))
    if not rows:
        print("(no routes)", file=out)
        return
    header = ("METHODS", "PATH", "NAME", "ENDPOINT")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[3],
            file=out,
        )


def _run(args: argparse.Namespace) -> None:
    load_target(args.target)  # fail here with a clear message rather than inside the server
    try:
        # Imported by name: uvicorn is an optional extra (velocix[server]), not a dependency
        # of the core or of its type check.
        uvicorn: Any = importlib.import_module("uvicorn")
    except ModuleNotFoundError:
        raise CommandError(
            "'velocix run' needs an ASGI server and uvicorn is not installed:"
            " pip install 'velocix[server]' (or pip install uvicorn; granian and hypercorn"
            " can serve the app directly)",
            code=1,
        ) from None
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be between 0 and 65535, got {args.port}")
    uvicorn.run(
        args.target,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=args.workers,
        log_level=args.log_level,
        root_path=args.root_path,
    )


def _parser() -> argparse.ArgumentParser:
    from velocix import __version__

    parser = argparse.ArgumentParser(prog="velocix", description="Velocix command line.")
    parser.add_argument("--version", action="version", version=f"velocix {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an app with uvicorn")
    run.add_argument("target", help="the app to serve, as module:attribute (e.g. main:app)")
    run.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    run.add_argument("--reload", action="store_true", help="restart on code changes")
    run.add_argument("--workers", type=int, default=None, help="worker processes")
    run.add_argument("--root-path", default="", help="ASGI root_path (behind a proxy prefix)")
    run.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="server log level",
    )
    routes = commands.add_parser("routes", help="list an app's routes")
    routes.add_argument("target", help="the app, as module:attribute")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``velocix`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "routes":
            _print_routes(args.target, sys.stdout)
        else:
            _run(args)
    except CommandError as exc:
        print(f"velocix: error: {exc}", file=sys.stderr)
        return exc.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
