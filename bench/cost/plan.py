"""What a cost run measures: its configuration, its profiles and the server processes it needs.

The profiles follow the lab's (:mod:`bench.lab.profiles`): ``quick`` is the lab's quick matrix
(4 apps x uvicorn, granian x plaintext, json, path_param, post_validated); ``field`` the lab's
field profile (every framework of :mod:`bench.frameworks` x uvicorn, granian x json,
path_param, post_validated, db); ``smoke`` is raw and velocix on uvicorn with the quick
profile's four scenarios (CI and the cost gate, :mod:`bench.cost.gate`: a minute or two, most
of it valgrind start-up).
Only HTTP scenarios are counted (a WebSocket echo has no request/response pair to divide by).

One server process serves every scenario of its (server, app, variant) — starting Python
under valgrind is the slow part — and each scenario is warmed up before it is counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.lab import profiles
from bench.lab.scenarios import registry as scenarios
from bench.lab.scenarios.base import HttpScenario

DEFAULT_REQUESTS = 1000
DEFAULT_WARMUP = 200
DEFAULT_SEED = 1
"""Fixed, unlike the lab's random seed: the same requests in every cost run of a cell."""
DEFAULT_POOL_SIZE = 512
DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class CostProfile:
    """Default selection of a cost run."""

    name: str
    summary: str
    apps: tuple[str, ...] | None
    """``None``: every framework of the registry."""
    servers: tuple[str, ...]
    scenarios: tuple[str, ...]


_QUICK = profiles.PROFILES["quick"]
_FIELD = profiles.PROFILES["field"]
PROFILES = {
    profile.name: profile
    for profile in (
        CostProfile(
            "smoke",
            "CI and the cost gate: raw + velocix on uvicorn x 4 scenarios",
            ("raw", "velocix"),
            ("uvicorn",),
            ("plaintext", "json", "path_param", "post_validated"),
        ),
        CostProfile(
            "quick",
            "the lab's quick matrix: 4 apps x uvicorn, granian x 4 scenarios",
            tuple(_QUICK.apps or ()),
            tuple(_QUICK.servers or ()),
            tuple(_QUICK.scenarios or ()),
        ),
        CostProfile(
            "field",
            "the lab's field profile: every framework x uvicorn, granian x 4 scenarios",
            None,
            tuple(_FIELD.servers or ()),
            tuple(_FIELD.scenarios or ()),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class CostConfig:
    """A cost run's configuration after the profile and the options are applied."""

    profile: str
    apps: tuple[str, ...]
    servers: tuple[str, ...]
    scenarios: tuple[str, ...]
    requests: int = DEFAULT_REQUESTS
    warmup: int = DEFAULT_WARMUP
    seed: int = DEFAULT_SEED
    pool_size: int = DEFAULT_POOL_SIZE
    server_cpus: tuple[int, ...] = (0,)
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class Group:
    """The scenarios one server process (server, app, variant) serves."""

    server: str
    app: str
    variant: str
    scenarios: tuple[str, ...]


def http_scenarios(names: tuple[str, ...]) -> tuple[str, ...]:
    """The names of HTTP scenarios among ``names`` (order kept)."""
    return tuple(name for name in names if isinstance(scenarios()[name], HttpScenario))


def groups(config: CostConfig) -> list[Group]:
    """Server processes in execution order: server by server, app by app, variant by variant."""
    found = []
    for server in config.servers:
        for app in config.apps:
            variants: dict[str, list[str]] = {}
            for name in config.scenarios:
                variants.setdefault(scenarios()[name].variant, []).append(name)
            found += [
                Group(server, app, variant, tuple(names)) for variant, names in variants.items()
            ]
    return found
