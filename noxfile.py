"""Front door of the Velocix lab: tests, lint, typecheck, micro benchmarks and the load lab.

``nox -l`` lists the sessions. Each installs what it needs from the dependency groups in
``pyproject.toml`` into its own virtualenv (uv when available, reused between runs).
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON = "3.11"


def install_groups(session: nox.Session, *groups: str, editable: bool = True) -> None:
    """Install the project (editable) and the named dependency groups."""
    requirements: list[str] = []
    for group in groups:
        requirements.extend(nox.project.dependency_groups(PYPROJECT, group))
    session.install(*requirements)
    if editable:
        session.install("-e", ".")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the project's test suite (framework, lab, conformance checker)."""
    install_groups(session, "test")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint and check formatting of the whole tree with ruff."""
    install_groups(session, "lint", editable=False)
    session.run("ruff", "check", ".")
    # Python sources only: Markdown code blocks (README's quick start) keep their own layout.
    session.run(
        "ruff", "format", "--check", "velocix", "bench", "conformance", "tests", "noxfile.py"
    )


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Type-check the framework with mypy --strict."""
    install_groups(session, "typecheck")
    session.run("mypy", "--strict", "velocix", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Load lab: the quick matrix (4 apps x uvicorn, granian x 4 scenarios, <5 min), then the
    report. Options go after ``--``: ``-- --profile full``, ``-- --profile smoke``,
    ``-- --apps raw,velocix --scenarios db --concurrency 16,64,256`` (``python -m bench run -h``).
    """
    install_groups(session, "lab")
    options = list(session.posargs)
    session.run("python", "-m", "bench", "run", "--profile", "quick", *options)
    # Render the run just stored (in the --output directory when one was given).
    report = ["latest"]
    if "--output" in options:
        report += ["--output", options[options.index("--output") + 1]]
    session.run("python", "-m", "bench", "report", *report)


@nox.session(python=PYTHON, default=False)
def cost(session: nox.Session) -> None:
    """Per-request cost: each cell's user-space instructions per request under valgrind
    callgrind (machine-speed independent), quick profile, then the report. Needs valgrind.
    Options after ``--``: ``-- --profile smoke --gate`` (CI: fail when Velocix's Ir/request
    ratio to raw grows > 3% over bench/cost/baseline.json), ``-- --profile smoke
    --update-baseline``, ``-- --apps raw,velocix --requests 2000`` (``python -m bench cost -h``).
    """
    install_groups(session, "lab")
    options = list(session.posargs)
    session.run("python", "-m", "bench", "cost", "--profile", "quick", *options)
    report = ["latest"]
    if "--output" in options:
        report += ["--output", options[options.index("--output") + 1]]
    session.run("python", "-m", "bench", "report", *report)


@nox.session(python=PYTHON, default=False)
def calibrate(session: nox.Session) -> None:
    """The lab's resolving power on this machine: raw twice and raw slowed by +5%/+10% of its
    instructions through the quick protocol (about 15 minutes; needs valgrind and a quiet
    machine). Options after ``--``: ``-- --servers uvicorn --repeats 4``
    (``python -m bench calibrate -h``).
    """
    install_groups(session, "lab")
    session.run("python", "-m", "bench", "calibrate", *session.posargs)


@nox.session(python=PYTHON, default=False)
def report(session: nox.Session) -> None:
    """Re-render HTML reports from stored results, no measuring: ``-- RUN ...`` (run ids,
    ``latest``) or every stored run by default; other options: ``python -m bench report -h``.
    """
    install_groups(session, "lab")
    session.run("python", "-m", "bench", "report", *(session.posargs or ["--all"]))


@nox.session(python=PYTHON, default=False)
def loadtest(session: nox.Session) -> None:
    """User flows with Locust (1 master + K workers) stored as lab records, then the report.
    ``-- --app velocix --server granian --users 20 --spawn-rate 5 --time 20s --workers 2``;
    Locust's ceiling per worker is measured first (``--ceiling reuse|off``); workers on other
    hosts: ``--remote-workers N --target URL`` (README); all options: ``python -m bench.flows -h``.
    """
    install_groups(session, "lab")
    options = list(session.posargs)
    session.run("python", "-m", "bench.flows", *options)
    if "-h" in options or "--help" in options:
        return
    # Render the run just stored (its "User flows" section), as nox -s bench does.
    report = ["latest"]
    if "--output" in options:
        report += ["--output", options[options.index("--output") + 1]]
    session.run("python", "-m", "bench", "report", *report)


@nox.session(python=PYTHON, default=False)
def conformance(session: nox.Session) -> None:
    """ASGI/HTTP/WebSocket/lifespan conformance matrix (frameworks x servers), gated by
    conformance/expectations.toml; fails on unexpected failures and unexpected passes.
    Default ``--profile full``; options after ``--``: ``-- --profile quick``,
    ``-- --framework velocix --server granian --case 'B*'`` (``python -m conformance run -h``).
    """
    install_groups(session, "test")
    options = list(session.posargs)
    if not any(option.startswith("--profile") for option in options):
        options = ["--profile", "full", *options]
    session.run("python", "-m", "conformance", "run", *options)


@nox.session(python=PYTHON, default=False)
def fuzz(session: nox.Session) -> None:
    """Fuzz Velocix through its ASGI interface (hypothesis, conformance-validated): over
    100,000 generated requests with the ``velocix-fuzz`` profile, counted and printed at the
    end. CI's short profile: ``-- --hypothesis-profile=velocix-ci``.
    """
    install_groups(session, "test")
    session.run(
        "pytest", "tests/velocix/fuzz", "--timeout=3600", "--hypothesis-profile=velocix-fuzz",
        *session.posargs,
    )  # fmt: skip


@nox.session(python=PYTHON, default=False)
def micro(session: nox.Session) -> None:
    """In-process micro benchmarks: µs/request and ratio to raw ASGI (pytest-benchmark)."""
    install_groups(session, "micro")
    session.run("python", "-m", "bench.micro", *session.posargs)
