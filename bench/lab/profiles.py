"""Named run profiles: which apps x servers x scenarios, and how long each measurement lasts.

- ``smoke``: seconds end to end through real servers and wrk (CI): 2 apps, 1 server, 2
  scenarios, one 1-second run each, no warm-up.
- ``quick``: the default of ``nox -s bench`` — {raw, velocix, starlette, fastapi} x
  {uvicorn, granian} x {plaintext, json, path_param, post_validated}; 1 s primer per server
  process, 1 s warm-up, 3 interleaved runs of 2 s at c=64: under 5 minutes on 2 cores.
- ``field``: every framework of the registry (:mod:`bench.frameworks`) x {uvicorn, granian} x
  {json, path_param, post_validated, db}; the quick profile's timings (about 12 minutes for
  ten frameworks on 2 cores).
- ``scaling``: the quick profile's apps and servers on json at 1, 2, 4 ... worker processes up
  to the number of server CPUs (``--server-cpus``), with a throughput-versus-workers chart. On
  2 CPUs that is 1 worker; on a 16-core host give the server half the CPUs
  (``--server-cpus 0-7 --generator-cpus 8-15``: 1, 2, 4 and 8 workers, wrk with 8 threads).
- ``full``: every registered app, server and scenario; 2 s primer, 3 s warm-up, 3 runs of
  10 s (hours for the whole field).

Command-line options override any field.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Profile:
    """Defaults of a run; ``None`` selections mean "every registered one"."""

    name: str
    summary: str
    apps: tuple[str, ...] | None
    servers: tuple[str, ...] | None
    scenarios: tuple[str, ...] | None
    duration: int
    warmup: int
    primer: int
    runs: int
    concurrency: tuple[int, ...] = (64,)
    scaling: bool = False
    """Measure 1, 2, 4 ... worker processes, up to the number of server CPUs."""


QUICK_APPS = ("raw", "velocix", "starlette", "fastapi")
"""The quick profile's apps: the baseline, Velocix and its two nearest relatives."""

PROFILES = {
    profile.name: profile
    for profile in (
        Profile(
            "smoke",
            "CI: raw + velocix on uvicorn, plaintext + post_validated, 1 run of 1 s",
            apps=("raw", "velocix"),
            servers=("uvicorn",),
            scenarios=("plaintext", "post_validated"),
            duration=1,
            warmup=0,
            primer=0,
            runs=1,
            concurrency=(16,),
        ),
        Profile(
            "quick",
            "4 apps x uvicorn, granian x 4 scenarios, 3 runs of 2 s (under 5 minutes)",
            apps=QUICK_APPS,
            servers=("uvicorn", "granian"),
            scenarios=("plaintext", "json", "path_param", "post_validated"),
            duration=2,
            warmup=1,
            primer=1,
            runs=3,
        ),
        Profile(
            "field",
            "every framework x uvicorn, granian x json, path_param, post_validated, db",
            apps=None,
            servers=("uvicorn", "granian"),
            scenarios=("json", "path_param", "post_validated", "db"),
            duration=2,
            warmup=1,
            primer=1,
            runs=3,
        ),
        Profile(
            "scaling",
            "raw, velocix, starlette, fastapi x uvicorn, granian x json at 1, 2, 4 ... workers "
            "(up to the server CPUs)",
            apps=QUICK_APPS,
            servers=("uvicorn", "granian"),
            scenarios=("json",),
            duration=2,
            warmup=1,
            primer=1,
            runs=3,
            scaling=True,
        ),
        Profile(
            "full",
            "every app x server x scenario, 3 runs of 10 s",
            apps=None,
            servers=None,
            scenarios=None,
            duration=10,
            warmup=3,
            primer=2,
            runs=3,
        ),
    )
}


def worker_levels(cpus: int) -> list[int]:
    """1, 2, 4 ... up to ``cpus``, and ``cpus`` itself (the scaling profile's worker counts)."""
    levels, count = [], 1
    while count <= cpus:
        levels.append(count)
        count *= 2
    if levels[-1] != cpus:
        levels.append(cpus)
    return levels
