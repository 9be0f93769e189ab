"""Packaging: ``pip install velocix`` pulls msgspec and orjson only, and that is enough.

The seed release imported PyJWT without declaring it, declared packages it never imported, and
had subpackages that failed on import. These tests build the real wheel and check its metadata,
walk every import in ``velocix/`` against the declared dependencies, and import the package in a
fresh interpreter where nothing but the standard library, msgspec and orjson can be imported.
"""

from __future__ import annotations

import ast
import email
import email.policy
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "velocix"
CORE = {"msgspec", "orjson"}
# Import name -> distribution name, for the third-party modules Velocix may import.
DISTRIBUTIONS = {
    "msgspec": "msgspec",
    "orjson": "orjson",
    "httpx": "httpx",
    "python_multipart": "python-multipart",
    "multipart": "python-multipart",
    "jwt": "pyjwt",
    "argon2": "argon2-cffi",
    "prometheus_client": "prometheus-client",
    "uvicorn": "uvicorn",
}


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {requirement_name(r) for r in project["dependencies"]}
    extras = {
        requirement_name(r) for group in project["optional-dependencies"].values() for r in group
    }
    return core, extras


def build_wheel(destination: Path, scratch: Path) -> Path:
    """Build the wheel from a copy of the sources (no build/ or egg-info left in the tree).

    Uses pip when the interpreter has it, else ``uv build`` (nox's uv virtualenvs have no pip).
    """
    source = scratch / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "velocix", ignore=shutil.ignore_patterns("__pycache__"))
    has_pip = (
        subprocess.run(
            [sys.executable, "-m", "pip", "--version"], capture_output=True, timeout=60
        ).returncode
        == 0
    )
    if has_pip:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(destination)]
    else:
        uv = shutil.which("uv")
        if uv is None:
            pytest.fail("building the wheel needs pip or uv")
        command = [uv, "build", "--wheel", "--out-dir", str(destination)]
    subprocess.run([*command, str(source)], check=True, timeout=300, capture_output=True)
    [wheel] = destination.glob("velocix-*.whl")
    return wheel


@pytest.mark.slow
def test_wheel_requires_only_msgspec_and_orjson(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    wheel = build_wheel(tmp_path / "dist", tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        metadata_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(
            archive.read(metadata_name), policy=email.policy.default
        )
        entry_points = archive.read(metadata_name.replace("METADATA", "entry_points.txt")).decode()
        names = archive.namelist()
    requires = metadata.get_all("Requires-Dist") or []
    unconditional = {requirement_name(r) for r in requires if "extra ==" not in r}
    assert unconditional == CORE
    assert "velocix = velocix.__main__:main" in entry_points
    assert "velocix/py.typed" in names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def module_imports(path: Path) -> tuple[set[str], set[str]]:
    """(imports executed when the module is imported, imports inside functions/guards)."""
    tree = ast.parse(path.read_text(), str(path))
    top: set[str] = set()
    deferred: set[str] = set()

    def record(node: ast.AST, target: set[str]) -> None:
        if isinstance(node, ast.Import):
            target.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            target.add(node.module.split(".")[0])

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) or (
                isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
            ):
                visit(child, True)
            else:
                record(child, deferred if lazy else top)
                visit(child, lazy)

    visit(tree, False)
    return top, deferred


def third_party(names: set[str]) -> set[str]:
    return {
        n for n in names if n not in sys.stdlib_module_names and n not in {"velocix", "__future__"}
    }


def test_every_third_party_import_is_declared() -> None:
    core, extras = declared()
    assert core == CORE
    for path in sorted(PACKAGE.rglob("*.py")):
        top, deferred = module_imports(path)
        for name in sorted(third_party(top | deferred)):
            assert name in DISTRIBUTIONS, f"{path}: imports {name!r}, unknown to this test"
            distribution = DISTRIBUTIONS[name]
            assert distribution in core | extras, f"{path}: imports undeclared {distribution!r}"


def test_core_modules_import_only_core_dependencies_at_import_time() -> None:
    """Modules ``import velocix`` loads must not need an extra."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, velocix; print('\\n'.join(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True, timeout=60, cwd=ROOT,
    ).stdout.split()  # fmt: skip
    velocix_modules = [m for m in loaded if m == "velocix" or m.startswith("velocix.")]
    assert "velocix.core.app" in velocix_modules
    for module in velocix_modules:
        parts = module.split(".")
        path = PACKAGE.joinpath(*parts[1:])
        file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        top, _ = module_imports(file)
        assert third_party(top) <= CORE, f"{module} needs {third_party(top) - CORE} at import"


BLOCKER = textwrap.dedent(
    """
    import importlib.abc, importlib.util, pkgutil, sys
    ALLOWED = {"msgspec", "orjson", "velocix"}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in ALLOWED or top.startswith("_"):
                return None
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)

    sys.meta_path.insert(0, Block())
    """
)


def test_import_with_nothing_but_the_core_dependencies() -> None:
    script = BLOCKER + textwrap.dedent(
        """
        from velocix import Velocix
        from velocix.core.response import JSONResponse
        app = Velocix()

        @app.get("/users/{user_id}")
        async def get_user(user_id: int):
            return {"user_id": user_id}

        import velocix
        failures = []
        for info in pkgutil.walk_packages(velocix.__path__, "velocix."):
            try:
                importlib.import_module(info.name)
            except ImportError as exc:
                if "pip install" not in str(exc):
                    failures.append(f"{info.name}: {exc}")
            except Exception as exc:
                failures.append(f"{info.name}: {type(exc).__name__}: {exc}")
        print("\\n".join(failures) or "ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok", result.stdout
