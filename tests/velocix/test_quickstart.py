"""The seed page's quick start, verbatim, served by a real uvicorn process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

QUICKSTART = """\
from velocix import Velocix
from velocix.core.response import JSONResponse

app = Velocix()

@app.get("/")
async def hello():
    return {"message": "Hello World"}

@app.get("/users/{user_id}")
async def get_user(user_id: int):
    return {"user_id": user_id}

if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host="0.0.0.0", port=8000)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(params=["uvicorn", "velocix-run"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "main.py").write_text(QUICKSTART)
    port = free_port()
    if request.param == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", "main:app"]
    else:
        command = [sys.executable, "-m", "velocix", "run", "main:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"server did not start: {stderr}")
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


@pytest.mark.slow
def test_quickstart_under_a_real_server(server: str) -> None:
    with httpx.Client(base_url=server, timeout=5) as client:
        hello = client.get("/")
        assert (hello.status_code, hello.json()) == (200, {"message": "Hello World"})
        assert hello.headers["content-type"] == "application/json"
        assert client.get("/users/42").json() == {"user_id": 42}
        invalid = client.get("/users/abc")
        assert invalid.status_code == 422
        assert invalid.json()["errors"][0]["loc"] == ["path", "user_id"]
        assert client.get("/missing").status_code == 404
        assert client.post("/").status_code == 405
        head = client.head("/users/42")
        assert (head.status_code, head.content) == (200, b"")
