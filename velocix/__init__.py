"""Velocix: a fast, correct ASGI web framework built on msgspec and orjson.

::

    from velocix import Velocix

    app = Velocix()

    @app.get("/users/{user_id}")
    async def get_user(user_id: int):
        return {"user_id": user_id}

The core needs only msgspec and orjson. Batteries that need more are imported on first use
(``Form``/``File`` parameters need python-multipart for multipart bodies,
``velocix.TestClient``/``AsyncTestClient`` need httpx: ``pip install velocix[testing]``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from velocix.core import status
from velocix.core.app import Velocix
from velocix.core.background import BackgroundTask, BackgroundTasks
from velocix.core.exceptions import HTTPException, RequestValidationError, WebSocketException
from velocix.core.middleware import Middleware
from velocix.core.params import Body, Cookie, Depends, File, Form, Header, Path, Query
from velocix.core.request import Request
from velocix.core.response import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from velocix.core.routers import Router
from velocix.websocket import WebSocket, WebSocketDisconnect, WebSocketState

if TYPE_CHECKING:
    from velocix.forms import UploadFile
    from velocix.testing import AsyncTestClient, TestClient

__version__ = "0.2.0"

__all__ = [
    "AsyncTestClient",
    "BackgroundTask",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "File",
    "FileResponse",
    "Form",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "JSONResponse",
    "Middleware",
    "Path",
    "PlainTextResponse",
    "Query",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "StreamingResponse",
    "TestClient",
    "UploadFile",
    "Velocix",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketState",
    "status",
]

# Names whose modules need optional dependencies, imported on first access.
_LAZY = {
    "UploadFile": "velocix.forms",
    "TestClient": "velocix.testing",
    "AsyncTestClient": "velocix.testing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'velocix' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
