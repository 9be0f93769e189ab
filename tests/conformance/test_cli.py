"""``python -m conformance``: readable verdicts, blame, JUnit XML and exit codes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import junitparser
import pytest

from conformance.__main__ import main
from conformance.records import ROOT

# A user's FastAPI app, as a new user would write it: no /plaintext, no lab endpoint.
USER_APP = """
from fastapi import FastAPI, WebSocket
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    price: float


@app.get("/")
async def root():
    return {"hello": "world"}


@app.get("/items/{item_id}")
async def read_item(item_id: int):
    return {"item_id": item_id}


@app.post("/items")
async def create_item(item: Item):
    return item


@app.websocket("/ws")
async def ws(websocket: WebSocket):
    await websocket.accept()
    while True:
        await websocket.send_text(await websocket.receive_text())
"""


@pytest.fixture
def user_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    """A module in a fresh directory (the current one), named after the test: ``name:app``."""
    name = f"userapp_{request.node.name.replace('[', '_').replace(']', '').replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(USER_APP)
    monkeypatch.chdir(tmp_path)
    return f"{name}:app"


def test_check_passes_a_conforming_app(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "conformance.broken_apps:correct_app", "--path", "/", "--path", "/x"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "conforms" in out and "does not conform" not in out
    assert out.strip().splitlines()[-1].startswith("conformance.broken_apps:correct_app on ")


def test_check_fails_an_app_that_mutates_the_scope(capsys: pytest.CaptureFixture[str]) -> None:
    app = "bench.frameworks.starlette.conformance:app"
    code = main(["check", app, "--case", "A17", "--path", "/json"])
    out = capsys.readouterr().out
    assert code == 1
    assert "A17" in out and "does not conform" in out
    assert "[app]" in out and "[scope.mutated]" in out  # rule ids survive the console


def test_in_process_check_of_a_user_app_finds_its_routes_in_openapi(
    user_app: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", user_app, "--skip", "A17", "--skip", "G03", "-v"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 HTTP, 1 WebSocket route(s) from the OpenAPI document" in out
    assert "the app refused scope type 'conformance.unknown' by raising" in out
    assert "needs the lab's endpoint(s) ws:/ws/echo" in out  # not a failure: not applicable
    assert "needs a real server (check --server NAME)" in out


def test_full_messages_are_never_cut(user_app: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", user_app, "--case", "A17"]) == 1
    out = capsys.readouterr().out
    # The whole list of keys FastAPI writes into the scope, last one included.
    assert "+path_params, +route, +router, +starlette.exception_handlers" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "no-colon"], "must be given as module:attribute"),
        (["check", "no_such_module_here:app"], "cannot import 'no_such_module_here'"),
        (["check", "conformance.broken_apps:no_such_app"], "has no attribute 'no_such_app'"),
        (["check", "conformance.broken_apps:BROKEN_APPS"], "not an ASGI application"),
        (["check", "conformance.broken_apps:correct_app", "--server", "nginx"], "unknown server"),
        (["check", "conformance.broken_apps:correct_app", "--case", "Z*"], "matches no case"),
        (["check", "conformance.broken_apps:correct_app", "--path", "health"], "start with '/'"),
        (["check", "conformance.broken_apps:correct_app", "--routes", "/no.toml"], "cannot read"),
        (["run", "--framework", "flask"], "unknown framework 'flask'"),
        (["run", "--case", "Z*"], "matches no case"),
        (["check"], "required: app"),
        (["frobnicate"], "invalid choice"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in captured.out + captured.err
    assert not list((ROOT / "reports" / "conformance").glob("*flask*"))


def test_usage_error_from_the_console_script_has_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conformance", "check", "missing_module:app"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: cannot import 'missing_module': No module named 'missing_module' "
        "(run from the directory that holds it)"
    )


def test_junit_file_is_read_by_a_junit_parser(tmp_path: Path) -> None:
    xml = tmp_path / "conformance.xml"
    code = main(
        ["check", "bench.frameworks.starlette.conformance:app", "--case", "A1[57]", "--case", "B21",
         "--path", "/json", "--junit", str(xml)]
    )  # fmt: skip
    assert code == 1
    suites = list(junitparser.JUnitXml.fromfile(str(xml)))
    assert len(suites) == 1
    suite = suites[0]
    assert suite.name == "bench.frameworks.starlette.conformance:app on inprocess"
    assert (suite.tests, suite.failures, suite.skipped) == (3, 1, 1)
    by_name = {case.name.split()[0]: case for case in suite}
    assert by_name["A15"].is_passed
    [failure] = by_name["A17"].result
    assert isinstance(failure, junitparser.Failure)
    assert failure.message.startswith("[app] ") and "scope.mutated" in failure.message
    assert "blame: app" in (failure.text or "") and "known deviation" in (failure.text or "")
    [skipped] = by_name["B21"].result
    assert isinstance(skipped, junitparser.Skipped)
    assert skipped.message.startswith("not applicable: needs a real server")
    properties = {p.name: p.value for p in suite.properties()}
    assert properties["verdict"] == "does not conform"


def test_routes_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes = tmp_path / "routes.toml"
    routes.write_text(
        textwrap.dedent(
            """
            [[http]]
            path = "/items/1"
            methods = ["GET", "DELETE"]

            [[http]]
            path = "/echo"
            methods = ["POST"]
            body = '{"name": "conformance"}'

            [[websocket]]
            path = "/ws"
            """
        )
    )
    code = main(
        ["check", "conformance.broken_apps:CORRECT_ROUTED_APP.app", "--routes", str(routes),
         "--case", "G*"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 HTTP, 1 WebSocket route(s) from routes file routes.toml" in out


@pytest.mark.slow
def test_user_fastapi_app_on_uvicorn_server_faults_are_the_servers(
    user_app: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xml = tmp_path / "uvicorn.xml"
    argv = ["check", user_app, "--server", "uvicorn", "--case", "B3[57]", "--case", "A0[12]"]
    assert main([*argv, "--junit", str(xml)]) == 0  # no /plaintext, yet ready at once
    out = capsys.readouterr().out
    assert "[server] (not counted) B35" in out and "[server] (not counted) B37" in out
    assert "known deviation" in out
    summary = out.strip().splitlines()[-1]
    assert "conforms: 0 app failure(s), 2 server failure(s) (not counted)" in summary
    [suite] = list(junitparser.JUnitXml.fromfile(str(xml)))
    assert (suite.tests, suite.failures, suite.skipped) == (4, 0, 2)
    assert main([*argv, "--include-server"]) == 1
    assert "does not conform: 0 app failure(s), 2 server failure(s)," in capsys.readouterr().out


@pytest.mark.slow
def test_app_failure_under_a_server_is_blamed_on_the_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--server", "uvicorn", "--case", "A17", "--path", "/json"]
    code = main(["check", "bench.frameworks.starlette.conformance:app", *argv])
    out = capsys.readouterr().out
    assert code == 1
    assert "[app] A17" in out


def test_listing_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cases"]) == 0
    assert "E66d" in capsys.readouterr().out
    assert main(["rules"]) == 0
    assert "ws.close.code" in capsys.readouterr().out
