"""The field's registry: specs found without importing frameworks, every framework pinned, and
a new framework planned in every layer by adding its package alone."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from bench import frameworks
from bench.frameworks import Framework, UnknownFramework

ROOT = Path(__file__).resolve().parents[3]
PINNED_GROUPS = ("lab", "test", "micro")


def test_the_baseline_comes_first_then_the_specs_order() -> None:
    names = frameworks.names()
    assert names[0] == frameworks.BASELINE == "raw"
    orders = [frameworks.get(name).order for name in names[1:]]
    assert orders == sorted(orders)
    assert names[:4] == ["raw", "velocix", "starlette", "fastapi"]


def test_listing_the_field_imports_no_framework() -> None:
    code = (
        "import sys; from bench import frameworks; frameworks.names(); "
        "print(sorted(m for m in ('starlette', 'fastapi', 'velocix') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownFramework, match="unknown framework 'flask'; known: raw, velocix"):
        frameworks.get("flask")
    with pytest.raises(KeyError):
        frameworks.load("flask")


@pytest.mark.parametrize("name", frameworks.names())
def test_every_package_has_its_parts(name: str) -> None:
    spec = frameworks.get(name)
    assert isinstance(spec, Framework) and spec.display and spec.summary
    assert spec.colour.startswith("#") and len(spec.colour) == 7
    assert spec.middleware.cors and spec.middleware.gzip and spec.middleware.request_id
    package = ROOT / "bench" / "frameworks" / name
    assert (package / "app.py").is_file() and (package / "conformance.py").is_file()
    assert (package / "forms.py").is_file() == spec.supports("forms")
    for reason in spec.unsupported.values():
        assert len(reason) > 10  # a reason, not a flag


def test_colours_tell_the_frameworks_apart() -> None:
    colours = [spec.colour.lower() for spec in frameworks.specs().values()]
    assert len(set(colours)) == len(colours)


@pytest.mark.parametrize("group", PINNED_GROUPS)
def test_every_framework_distribution_is_pinned(group: str) -> None:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        listed = tomllib.load(handle)["dependency-groups"][group]
    pins = frameworks.pins(group)
    for package in frameworks.packages():
        if package == "velocix":
            continue  # the source tree itself
        assert package in pins, f"{package} is not in the {group} group"
        assert "==" in pins[package], f"{pins[package]} is not an exact pin"
        assert pins[package] in listed
    names = {re.split(r"[=<>\[ ;]", entry, maxsplit=1)[0].lower() for entry in listed}
    for package in frameworks.SHARED_PACKAGES:  # the apps open the world table at start-up
        assert package in names, f"{package} (bench/frameworks/_shared) is not in {group}"


def test_a_run_records_each_framework_with_what_it_cannot_do() -> None:
    stored = frameworks.run_frameworks(["fastapi", "raw", "velocix"])
    assert [info.name for info in stored] == ["raw", "velocix", "fastapi"]  # report order
    assert stored[2].display == "FastAPI"
    assert stored[2].unsupported == dict(frameworks.get("fastapi").unsupported)


def test_not_applicable_names_the_framework_and_the_reason() -> None:
    spec = Framework(
        name="toy", display="Toy", summary="s", packages=(),
        middleware=frameworks.Middleware(cors="c", gzip="g", request_id="r"),
        colour="#123456", order=1, unsupported={"websocket": "has no WebSocket server"},
    )  # fmt: skip
    assert spec.not_applicable("websocket") == "Toy has no WebSocket server"
    assert spec.not_applicable("forms") is None and spec.not_applicable(None) is None
    assert not spec.supports("websocket") and spec.supports("forms")


TOY_SPEC = '''"""A toy framework: the registry's plug-in test."""

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="toy",
    display="Toy",
    summary="a toy plug-in reusing the raw app",
    packages=("idna",),
    middleware=Middleware(cors="raw's", gzip="raw's", request_id="raw's"),
    colour="#123456",
    order=99,
    unsupported={"websocket": "has no WebSocket support (a toy)"},
)
'''

TOY_APP = '''"""The toy's contract app: raw's, without WebSocket (as its spec says)."""

from bench.frameworks.raw import app as raw


def without_websocket(inner):
    async def app(scope, receive, send):
        if scope["type"] == "websocket":
            raise RuntimeError("the toy has no WebSocket")
        await inner(scope, receive, send)

    return app


app = without_websocket(raw.app)
app_mw = without_websocket(raw.app_mw)
'''

LAYERS = """
import json
from bench import frameworks
from bench.cost import cli as cost_cli, plan as cost_plan
from bench.flows import cli as flows_cli
from bench.infra import environment
from bench.lab import cli as lab_cli, plan
from bench.micro.table import grid
from bench.report import palette
from conformance import runner
from conformance.crosscheck import app_dependencies

field = lab_cli.build_config(lab_cli.run_parser().parse_args(["--profile", "field"]))
full = lab_cli.build_config(lab_cli.run_parser().parse_args(["--profile", "full"]))
steps = [s for b in plan.plan(full) for s in b.steps if s.app == "toy"]
cost = cost_cli.build_config(cost_cli.parser().parse_args(["--profile", "field"]))
flows = flows_cli.options_of(flows_cli.parser().parse_args(["--app", "toy"]))
print(json.dumps({
    "names": frameworks.names(),
    "lab_field": sorted({s.cell_id for b in plan.plan(field) for s in b.steps if s.app == "toy"}),
    "lab_full_ws": [s.cell_id for s in steps if s.scenario == "ws_echo"],
    "lab_full_db": len([s for s in steps if s.scenario == "db" and s.phase == "run"]),
    "stored": [f.name for f in frameworks.run_frameworks(field.apps)],
    "server_target": frameworks.import_string("toy", "app_mw"),
    "cost": sorted({(g.server, g.app) for g in cost_plan.groups(cost) if g.app == "toy"}),
    "micro": grid([])["toy"],
    "flows": flows.app,
    "conformance": [list(c) for c in runner.plan(runner.PROFILES["full"]) if c[0] == "toy"],
    "crosscheck": [d for d in app_dependencies() if d.startswith("idna")],
    "environment": environment.software().packages.get("idna"),
    "colour": palette.colour("toy"),
}))
"""


def toy_tree(tmp_path: Path) -> Path:
    """A copy of the checkout with one more framework package and its pins: nothing else."""
    tree = tmp_path / "checkout"
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "bench", "conformance",
         "velocix", "tests", "pyproject.toml"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout.split()  # fmt: skip
    for name in tracked:
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    toy = tree / "bench" / "frameworks" / "toy"
    toy.mkdir()
    (toy / "__init__.py").write_text(TOY_SPEC)
    (toy / "app.py").write_text(TOY_APP)
    (toy / "conformance.py").write_text(
        "from bench.frameworks.raw.conformance import FEATURES, app, app_failing_startup\n"
    )
    (toy / "forms.py").write_text("from bench.frameworks.raw.forms import app\n")
    pin = f'"idna=={metadata.version("idna")}",'
    pyproject = tree / "pyproject.toml"
    text = pyproject.read_text()
    for group in PINNED_GROUPS:
        text = text.replace(f"\n{group} = [\n", f"\n{group} = [\n    {pin}\n", 1)
    pyproject.write_text(text)
    return tree


def run_in(tree: Path, *argv: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, cwd=tree, env=env, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_a_new_framework_is_planned_in_every_layer(tmp_path: Path) -> None:
    tree = toy_tree(tmp_path)
    seen = json.loads(run_in(tree, "-c", LAYERS))
    assert seen["names"][-1] == "toy" and "toy" not in frameworks.names()
    assert seen["lab_field"] == [
        f"{server}/toy/{scenario}/c64"
        for server in ("granian", "uvicorn")
        for scenario in ("db", "json", "path_param", "post_validated")
    ]
    assert seen["lab_full_ws"] == [] and seen["lab_full_db"] == 3 * 3  # 3 servers x 3 runs
    assert seen["stored"][-1] == "toy"
    assert seen["server_target"] == "bench.frameworks.toy.app:app_mw"
    assert seen["cost"] == [["granian", "toy"], ["uvicorn", "toy"]]
    assert set(seen["micro"].values()) == {"failed/skipped"}  # a row, awaiting results
    assert seen["flows"] == "toy"
    assert ["toy", "inprocess"] in seen["conformance"] and ["toy", "uvicorn"] in seen["conformance"]
    assert seen["crosscheck"] == [f"idna=={metadata.version('idna')}"]
    assert seen["environment"] == metadata.version("idna")
    assert seen["colour"] == "#123456"
    listing = run_in(tree, "-m", "bench", "list")
    assert "toy" in listing and "no websocket" in listing
    dry = run_in(tree, "-m", "bench", "run", "--profile", "full", "--apps", "toy", "--dry-run")
    assert "n/a granian/toy/ws_echo: Toy has no WebSocket support (a toy)" in dry
    micro = run_in(tree, "-m", "pytest", "bench/micro/bench_micro.py", "--collect-only", "-q")
    assert "test_micro[json-toy]" in micro
    contract = run_in(
        tree, "-m", "pytest", "tests/bench/frameworks/test_apps.py", "-q", "-k", "toy",
        "-p", "no:cacheprovider",
    )  # fmt: skip
    assert " passed" in contract and "failed" not in contract
