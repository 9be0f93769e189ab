"""The app hostile clients attack (``test_hostile_clients.py``), in process and under uvicorn.

Every route that reads a body does so through a different reader (typed JSON, ``body()``,
``stream()``, urlencoded form, multipart upload spooled to disk early), and the streaming routes
never end on their own, so only a client disconnect stops them. :data:`PROBE` counts what the
app's own cleanup did; ``GET /stats`` reports it with the process's tasks, open files and
temporary files, so a test driving a real server can check what a disconnect left behind.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from velocix import Depends, Request, StreamingResponse, Velocix
from velocix.forms import File, Form, FormLimits, UploadFile
from velocix.sse import EventSourceResponse

LIMIT = 64 * 1024
"""The body limit of the app (max_body_size)."""
SPOOL = 4 * 1024
"""Uploads larger than this roll over to a temporary file on disk."""


@dataclass
class Probe:
    """Cleanup the app performed, counted."""

    setups: int = 0
    teardowns: int = 0
    streams_started: int = 0
    streams_closed: int = 0
    bodies_read: int = 0


PROBE = Probe()


def open_fds() -> list[str]:
    """What every open file descriptor of this process points at."""
    targets = []
    for name in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{name}"))
        except OSError:
            continue  # closed between listdir and readlink (the listdir fd itself)
    return targets


def temp_files() -> list[str]:
    """Temporary files open or present in the temp directory (uploads spooled to disk)."""
    directory = os.path.realpath(tempfile.gettempdir())
    held = [target for target in open_fds() if target.startswith(directory + "/")]
    return held + [os.path.join(directory, name) for name in os.listdir(directory)]


def resource() -> Iterator[str]:
    """A generator dependency: its teardown must run whatever the client does."""
    PROBE.setups += 1
    try:
        yield "resource"
    finally:
        PROBE.teardowns += 1


async def endless() -> AsyncIterator[bytes]:
    PROBE.streams_started += 1
    try:
        index = 0
        while True:
            yield b"chunk %d\n" % index
            index += 1
            await asyncio.sleep(0)
    finally:
        PROBE.streams_closed += 1


async def endless_events() -> AsyncIterator[dict[str, str]]:
    PROBE.streams_started += 1
    try:
        while True:
            yield {"data": "tick"}
            await asyncio.sleep(0.001)
    finally:
        PROBE.streams_closed += 1


app = Velocix(max_body_size=LIMIT)


@app.post("/json")
async def json_body(payload: dict[str, Any], res: str = Depends(resource)) -> dict[str, int]:
    PROBE.bodies_read += 1
    return {"keys": len(payload)}


@app.post("/body")
async def whole_body(request: Request) -> dict[str, int]:
    data = await request.body()
    PROBE.bodies_read += 1
    return {"size": len(data)}


@app.post("/stream-in")
async def streamed_body(request: Request, res: str = Depends(resource)) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    PROBE.bodies_read += 1
    return {"size": size}


@app.post("/form")
async def form(name: str = Form()) -> dict[str, int]:
    PROBE.bodies_read += 1
    return {"name": len(name)}


@app.post("/upload")
async def upload(
    file: UploadFile = File(limits=FormLimits(spool_max_size=SPOOL)),
    res: str = Depends(resource),
) -> dict[str, Any]:
    content = await file.read()
    PROBE.bodies_read += 1
    return {"size": len(content), "filename": file.filename}


@app.get("/stream-out")
async def stream_out(res: str = Depends(resource)) -> StreamingResponse:
    return StreamingResponse(endless(), media_type="text/plain")


@app.get("/sse")
async def sse() -> EventSourceResponse:
    return EventSourceResponse(endless_events(), ping=None)


@app.get("/stats")
async def stats() -> dict[str, Any]:
    return {
        **asdict(PROBE),
        "tasks": len(asyncio.all_tasks()),
        "fds": len(open_fds()),
        "temp_files": temp_files(),
    }
