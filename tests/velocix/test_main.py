"""The ``velocix`` command line: routes listing, run, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from velocix.__main__ import main

ROOT = Path(__file__).resolve().parents[2]

APP = """
from velocix import Velocix, WebSocket

app = Velocix()

@app.get("/users/{user_id}", name="user")
async def get_user(user_id: int):
    return {"user_id": user_id}

@app.websocket("/ws")
async def ws(websocket: WebSocket):
    await websocket.accept()

async def raw(scope, receive, send):
    pass

app.mount("/static", raw, name="static")
broken = 1
"""


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cli_app.py").write_text(APP)
    (tmp_path / "cli_broken.py").write_text("raise RuntimeError('module is broken')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "cli_app", raising=False)
    return tmp_path


def test_routes_lists_every_route(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "cli_app:app"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "NAME", "ENDPOINT"]
    assert lines[1].split()[:3] == ["GET,HEAD", "/users/{user_id}", "user"]
    assert lines[2].split()[:3] == ["WEBSOCKET", "/ws", "ws"]
    assert lines[3].split()[:3] == ["MOUNT", "/static", "static"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("cli_app", "expected 'module:attribute'"),
        ("nope_module:app", "cannot import module 'nope_module'"),
        ("cli_app:missing", "has no attribute 'missing'"),
        ("cli_broken:app", "RuntimeError: module is broken"),
        ("cli_app:broken", "has no route list"),
    ],
)
def test_bad_targets_are_one_clear_line(
    app_dir: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    assert main(["routes", target]) == 2
    err = capsys.readouterr().err
    assert err.startswith("velocix: error: ") and message in err
    assert "Traceback" not in err


def test_run_without_uvicorn_says_what_to_install(
    app_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes `import uvicorn` fail
    assert main(["run", "cli_app:app"]) == 1
    assert "pip install" in capsys.readouterr().err


def test_console_script_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "velocix", "--version"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0
    assert result.stdout.startswith("velocix ")
