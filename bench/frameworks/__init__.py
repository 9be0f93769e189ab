"""The field: every framework the lab measures and checks, one package each.

``bench/frameworks/<name>/`` holds everything about one framework:

- ``__init__.py`` — ``SPEC``, a :class:`Framework`: display name, the distributions it is
  (their versions pinned in ``pyproject.toml``'s ``lab``, ``test`` and ``micro`` groups), what
  it cannot do (each with the reason), the middleware it uses for the contract's stack, its
  colour and place in reports. It imports nothing of the framework itself, so listing the field
  (``python -m bench list``) imports no framework.
- ``app.py`` — the app contract (``docs/app-contract.md``): ``app`` and ``app_mw``.
- ``conformance.py`` — the contract app plus the conformance endpoints
  (:mod:`bench.frameworks._shared.conformance`): ``FEATURES``, ``app``,
  ``app_failing_startup``.
- ``forms.py`` — the micro benchmark's ``POST /form`` app (``app``), unless ``SPEC`` says the
  framework has no form parsing.

Every consumer reads this registry: the lab's profiles and runner, the cost runner, the micro
benchmark, the Locust flows, the conformance matrix and its cross-check, the environment's
package versions, and the report's palette and order (through what each run stores: runs keep
the frameworks, baseline and order they used, and are rendered from that). Adding a framework
is adding its package plus its pins in ``pyproject.toml``.

Packages whose name starts with ``_`` (``_shared``) are not frameworks.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from bench.infra.results import FrameworkInfo

BASELINE = "raw"
"""The hand-written ASGI app every framework's throughput is divided by."""

SHARED_PACKAGES = ("aiosqlite",)
"""Distributions every framework's app imports at start-up through ``_shared`` (the world
table's SQLite driver): each group that installs the field pins them too."""

Capability = Literal["websocket", "forms"]
Target = Literal["app", "app_mw", "forms"]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Middleware:
    """What a framework uses for each layer of the contract's middleware stack (``app_mw``)."""

    cors: str
    gzip: str
    request_id: str


@dataclass(frozen=True, slots=True)
class Framework:
    """One framework of the field (``SPEC`` of ``bench/frameworks/<name>/__init__.py``)."""

    name: str
    display: str
    summary: str
    packages: tuple[str, ...]
    """Distributions that are the framework (and its add-ons): each run records their versions,
    ``pyproject.toml`` pins them."""
    middleware: Middleware
    colour: str
    """Its colour in every chart (Okabe-Ito and Tol's colours: distinguishable with the common
    colour-vision deficiencies)."""
    order: int
    """Place in tables and charts when no figure orders them (baseline first)."""
    unsupported: Mapping[Capability, str] = field(default_factory=dict)
    """What the framework cannot do, each with the reason: scenarios and micro cases needing it
    are recorded as not applicable with that reason, never served by a stand-in."""
    needs_lifespan: bool = False
    """The app answers no request before its ASGI lifespan startup (Sanic's ASGI mode): the
    micro benchmark, which calls apps without a server, runs the lifespan first."""
    several_apps: str | None = None
    """``module:function`` to call before one process starts several of this framework's apps
    (the micro benchmark runs ``app``, ``app_mw`` and ``forms`` side by side; a server runs
    one): for a framework whose start-up assumes a single app per process."""

    def supports(self, capability: Capability) -> bool:
        """True unless ``capability`` is listed in :attr:`unsupported`."""
        return capability not in self.unsupported

    def not_applicable(self, capability: Capability | None) -> str | None:
        """Why a scenario needing ``capability`` does not apply here (None: it applies)."""
        if capability is None or capability not in self.unsupported:
            return None
        return f"{self.display} {self.unsupported[capability]}"


class UnknownFramework(KeyError):
    """A framework name that no package of the registry has."""

    def __str__(self) -> str:
        return str(self.args[0])


@cache
def specs() -> dict[str, Framework]:
    """Every framework's spec by name, in report order (baseline first)."""
    found: list[Framework] = []
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        spec = getattr(importlib.import_module(f"{__name__}.{info.name}"), "SPEC", None)
        if not isinstance(spec, Framework) or spec.name != info.name:
            raise TypeError(f"{__name__}.{info.name} must define SPEC = Framework({info.name!r})")
        found.append(spec)
    found.sort(key=lambda spec: (spec.name != BASELINE, spec.order, spec.name))
    return {spec.name: spec for spec in found}


def names() -> list[str]:
    """Every framework name, in report order (the baseline first)."""
    return list(specs())


def get(name: str) -> Framework:
    """The spec of framework ``name`` (:class:`UnknownFramework` names the known ones)."""
    try:
        return specs()[name]
    except KeyError:
        raise UnknownFramework(f"unknown framework {name!r}; known: {', '.join(names())}") from None


def packages() -> list[str]:
    """Every distribution of the field, in report order, without repeats."""
    return list(dict.fromkeys(package for spec in specs().values() for package in spec.packages))


def module_name(name: str, part: Literal["app", "conformance", "forms"] = "app") -> str:
    """The import path of one part of framework ``name``'s package."""
    get(name)
    return f"{__name__}.{name}.{part}"


def import_string(name: str, target: Target = "app") -> str:
    """The ``module:attribute`` a server (or the micro benchmark) is given."""
    if target == "forms":
        return f"{module_name(name, 'forms')}:app"
    return f"{module_name(name, 'app')}:{target}"


def load(name: str, target: Target = "app") -> ASGIApp:
    """Import and return one of framework ``name``'s ASGI apps (ImportError when the framework
    or the attribute is missing)."""
    module, _, attribute = import_string(name, target).partition(":")
    try:
        app: ASGIApp = getattr(importlib.import_module(module), attribute)
    except AttributeError as exc:
        raise ImportError(f"{module} has no {attribute!r}: {exc}") from None
    return app


def host_several(name: str) -> None:
    """Prepare this process to start several of framework ``name``'s apps (its
    :attr:`Framework.several_apps` hook; nothing for most frameworks)."""
    hook = get(name).several_apps
    if hook is not None:
        module, _, function = hook.partition(":")
        getattr(importlib.import_module(module), function)()


def load_conformance(name: str) -> ModuleType:
    """Import framework ``name``'s conformance module (ImportError if the framework is
    missing)."""
    return importlib.import_module(module_name(name, "conformance"))


def run_frameworks(chosen: list[str]) -> list[FrameworkInfo]:
    """What a run stores about the frameworks it measures, in report order."""
    from bench.infra.results import FrameworkInfo

    return [
        FrameworkInfo(name=spec.name, display=spec.display, unsupported=dict(spec.unsupported))
        for spec in specs().values()
        if spec.name in chosen
    ]


def pins(group: str = "lab") -> dict[str, str]:
    """The field's pinned requirements in ``pyproject.toml``'s dependency ``group``, by
    distribution name (``velocix`` itself is the source tree and never pinned)."""
    import re
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    with open(pyproject, "rb") as handle:
        listed = tomllib.load(handle).get("dependency-groups", {}).get(group, [])
    found: dict[str, str] = {}
    for entry in listed:
        name = re.match(r"[A-Za-z0-9._-]+", entry) if isinstance(entry, str) else None
        if name is not None:  # PEP 508: the name leads; normalised as PEP 503 says
            found[re.sub(r"[-_.]+", "-", name.group(0)).lower()] = entry
    return {name: found[name] for name in packages() if name in found}


def conformance_features(name: str) -> frozenset[str]:
    """What the conformance cases may use of framework ``name``: its conformance module's
    ``FEATURES`` (optional APIs), plus ``websocket`` unless its spec says it has none."""
    features = frozenset(load_conformance(name).FEATURES)
    return features | {"websocket"} if get(name).supports("websocket") else features
