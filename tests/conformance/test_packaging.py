"""The conformance checker ships in the distribution: ``pip install velocix[conformance]`` gives
a working ``asgi-conformance`` command, while the core install still needs msgspec and orjson
only (tests/velocix/test_packaging.py)."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources the distribution is made of."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("building the wheel needs uv")
    scratch = tmp_path_factory.mktemp("build")
    source = scratch / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("velocix", "conformance", "bench"):
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(scratch / "dist"), str(source)],
        check=True, capture_output=True, timeout=240,
    )  # fmt: skip
    [built] = (scratch / "dist").glob("velocix-*.whl")
    return built


def test_wheel_carries_the_checker_and_only_the_lab_modules_it_runs_on(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(
            archive.read(metadata_name), policy=email.policy.default
        )
        entry_points = archive.read(metadata_name.replace("METADATA", "entry_points.txt")).decode()
    assert "asgi-conformance = conformance.__main__:console_script" in entry_points
    assert {
        "conformance/__main__.py",
        "conformance/expectations.toml",
        "conformance/templates/matrix.html.j2",
        "conformance/cases/group_g.py",
        "bench/infra/servers/uvicorn.py",
        "bench/infra/servers/daphne.py",
        "bench/frameworks/raw/app.py",
        "bench/frameworks/raw/conformance.py",
        "bench/frameworks/_shared/conformance.py",
        "bench/infra/process.py",
    } <= names
    assert not any(
        n.startswith(
            (
                "tests/",
                "bench/flows/",
                "bench/report/",
                "bench/cost/",
                "bench/lab/",
                "bench/frameworks/velocix/",
                "bench/frameworks/fastapi/",
            )
        )
        for n in names
    )
    requires = metadata.get_all("Requires-Dist") or []
    extra = {
        r.split(";")[0].split(">")[0].strip() for r in requires if 'extra == "conformance"' in r
    }
    assert {"rich", "psutil", "websockets", "aiosqlite"} <= extra
    core = {r.split(">")[0].strip() for r in requires if "extra ==" not in r}
    assert core == {"msgspec", "orjson"}


def test_installed_console_script_checks_an_app(wheel: Path, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv is not None
    venv = tmp_path / "venv"
    subprocess.run(
        [uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=60
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), "--no-deps", str(wheel)],
        check=True, timeout=120,
    )  # fmt: skip
    # Dependencies from this test environment; the checker itself only from the wheel.
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    locate = "import bench, conformance; print(conformance.__file__, bench.__file__)"
    where = subprocess.run(
        [str(python), "-c", locate],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env, check=True,
    ).stdout  # fmt: skip
    assert where.count(str(venv)) == 2, where
    (tmp_path / "myapp.py").write_text(
        "from conformance.broken_apps import correct_app as app\n", encoding="utf-8"
    )
    result = subprocess.run(
        [str(venv / "bin" / "asgi-conformance"), "check", "myapp:app", "--path", "/"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("myapp:app on inprocess: conforms")
    usage = subprocess.run(
        [str(venv / "bin" / "asgi-conformance"), "check"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert usage.returncode == 2
    assert usage.stderr.strip().startswith("error: the following arguments are required: app")
    assert "asgi-conformance check -h" in usage.stderr
