"""Plan a run: the ordered measurement steps, server by server, scenario by scenario.

For one server and one scenario (a :class:`Block`) every app is measured in turn, never one
app's runs back to back: primer (first use of a fresh server process only), one discarded
warm-up per app, then runs interleaved across apps — A B C D A B C D A B C D — so slow drifts
of the machine (thermal, neighbours) spread over every app instead of biasing one. Each
concurrency level repeats the warm-up + interleaved runs.

Server processes are fresh per (server, app, variant) and live for the whole server block:
they are started on first use and stopped before the next server's block. They are not
restarted between runs, because the warm-up is meant to reach the steady state the runs
measure; restarting per run would measure a cold process each time.

The plan is a pure function of the configuration, so record ids are reproducible (what a
resumed run skips).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench import frameworks
from bench.infra.results import Config, Phase, cell_id, record_id
from bench.lab.scenarios import registry as scenarios

PRIMER_CONCURRENCY = 8
GAUGED_PHASES: tuple[Phase, ...] = ("run", "calibration")
"""Steps preceded by the machine-speed gauge (:mod:`bench.infra.gauge`) on the server CPUs."""
CALIBRATION_SERVER = "granian"
CALIBRATION_APP = "raw"


@dataclass(frozen=True, slots=True)
class Step:
    """One load-driver invocation."""

    phase: Phase
    server: str
    app: str
    scenario: str
    concurrency: int
    duration: int
    run_index: int | None = None
    cell_concurrency: int | None = None
    """The cell a primer belongs to (a primer runs at low concurrency for the first cell)."""
    workers: int = 1
    """Worker processes of the server this step loads."""

    @property
    def cell_id(self) -> str:
        """The cell this step measures (or primes)."""
        concurrency = self.cell_concurrency or self.concurrency
        return cell_id(self.server, self.app, self.scenario, concurrency, self.workers)

    @property
    def record_id(self) -> str:
        """The id of the record this step writes."""
        return record_id(self.cell_id, self.phase, self.run_index)


@dataclass(frozen=True, slots=True)
class Block:
    """All steps of one (server, workers, scenario): the apps are checked once before its
    steps."""

    server: str
    scenario: str
    apps: tuple[str, ...]
    concurrency: tuple[int, ...]
    steps: tuple[Step, ...]
    workers: int = 1


def interleave(apps: Sequence[str], runs: int) -> list[tuple[str, int]]:
    """``(app, run_index)`` in interleaved order: every app's run 1, then every app's run 2..."""
    return [(app, index) for index in range(1, runs + 1) for app in apps]


def applicable(
    apps: Sequence[str], scenario: str, targets: Mapping[str, str] | None = None
) -> list[str]:
    """The apps whose framework can serve ``scenario`` (the others get a not-applicable
    record, never a stand-in); apps given by ``targets`` (not frameworks) always apply."""
    needs = scenarios()[scenario].requires
    return [
        app
        for app in apps
        if f"{app}:app" in (targets or {}) or frameworks.get(app).not_applicable(needs) is None
    ]


def block_steps(
    config: Config,
    server: str,
    scenario: str,
    primed: set[tuple[str, str, str, int]],
    workers: int = 1,
) -> list[Step]:
    """The steps of one block; ``primed`` holds the (server, app, variant, workers) already
    primed."""
    variant = scenarios()[scenario].variant
    steps: list[Step] = []
    first_level = config.concurrency[0]
    apps = applicable(config.apps, scenario, config.targets)
    for app in apps:
        key = (server, app, variant, workers)
        if config.primer_s > 0 and key not in primed:
            primer_c = min(PRIMER_CONCURRENCY, first_level)
            steps.append(
                Step(
                    "primer",
                    server,
                    app,
                    scenario,
                    primer_c,
                    int(config.primer_s),
                    None,
                    first_level,
                    workers,
                )
            )
        primed.add(key)
    for level in config.concurrency:
        if config.warmup_s > 0:
            steps += [
                Step("warmup", server, app, scenario, level, int(config.warmup_s), workers=workers)
                for app in apps
            ]
        steps += [
            Step(
                "run", server, app, scenario, level, int(config.duration_s), index, workers=workers
            )
            for app, index in interleave(apps, config.runs)
        ]
    return steps


def calibration_steps(config: Config) -> list[Step]:
    """The WebSocket driver's ceiling: raw on granian, once per concurrency level."""
    ws = [name for name in config.scenarios if scenarios()[name].protocol == "ws"]
    if not ws:
        return []
    return [
        Step(
            "calibration", CALIBRATION_SERVER, CALIBRATION_APP, ws[0], level, int(config.duration_s)
        )
        for level in config.concurrency
    ]


def plan(config: Config) -> list[Block]:
    """Every block of the run, in execution order (calibration first when needed)."""
    blocks: list[Block] = []
    calibration = calibration_steps(config)
    if calibration:
        scenario = calibration[0].scenario
        blocks.append(
            Block(
                CALIBRATION_SERVER,
                scenario,
                (CALIBRATION_APP,),
                tuple(config.concurrency),
                tuple(calibration),
            )
        )
    primed: set[tuple[str, str, str, int]] = set()
    for server in config.servers:
        for workers in config.worker_counts():
            for scenario in config.scenarios:
                steps = block_steps(config, server, scenario, primed, workers)
                blocks.append(
                    Block(
                        server,
                        scenario,
                        tuple(config.apps),
                        tuple(config.concurrency),
                        tuple(steps),
                        workers,
                    )
                )
    return blocks


def step_seconds(step: Step, gauge_s: float = 0.0) -> float:
    """Time one step takes: its load, plus the gauge before it when it is gauged."""
    return step.duration + (gauge_s if step.phase in GAUGED_PHASES else 0.0)


def planned_seconds(blocks: Sequence[Block], gauge_s: float = 0.0) -> float:
    """Total load time of the plan, with ``gauge_s`` of gauge before each gauged step (what
    the progress ETA is based on)."""
    return sum(step_seconds(step, gauge_s) for block in blocks for step in block.steps)
