"""Turn one distributed Locust run's statistics into result records (``source="locust"``).

A journeys run gives one record per request name (``/db/[id]``, ``/ws/echo message``…) and
one ``Aggregated`` record, all with ``phase="run"``; the ceiling measurement gives one
``phase="calibration"`` record. Each carries :class:`bench.infra.results.LocustStats`: Locust's
percentiles, failure messages, the per-second time series, the topology, and the ceiling
per worker process next to the run's own rate per worker — the report states both.

Only correct answers count: ``ok_requests`` is Locust's requests minus its failures (every
wrong status, header or body is a failure in the flows), and ``rps`` is ``ok_requests`` over
the run's elapsed time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.flows.locust_csv import AGGREGATED, FailureRow, HistoryRow, LocustOutput, RequestRow
from bench.infra.results import (
    FLAG_CONTENDED,
    FLAG_ERRORS,
    FLAG_GENERATOR_BOUND,
    FLAG_UNPINNED,
    Environment,
    Errors,
    Latency,
    LocustPoint,
    LocustStats,
    LocustTopology,
    Phase,
    Record,
    Resources,
    cell_id,
)
from bench.lab.evidence import CONTENDED_PCT, GENERATOR_BOUND_PCT

SOURCE = "locust"
DRIVER = "locust"
NEAR_CEILING = 0.9
"""A run at 90% of Locust's ceiling per worker or more measures Locust: generator-bound."""
RATE_WINDOW_S = 3
"""Requests per second over time are counted over this trailing window: workers report
once a second, so a single second can hold zero or two reports."""


@dataclass(frozen=True, slots=True)
class Ceiling:
    """Locust's measured ceiling: checked requests per second one worker process makes."""

    rps_per_worker: float
    source: str
    """``<run_id>:<record_id>`` of the calibration record it comes from."""


@dataclass(frozen=True, slots=True)
class FlowRun:
    """Everything about one Locust run that is not in Locust's own statistics."""

    run_id: str
    env: Environment
    app: str
    server: str
    scenario: str
    phase: Phase
    topology: LocustTopology
    started_at: str
    finished_at: str
    server_command: list[str]
    driver_command: list[str]
    resources: Resources | None
    worker_cpu_mean: list[float]
    generator_cpus: int
    server_cpus: int
    pinned: bool
    ceiling: Ceiling | None = None

    @property
    def cell(self) -> str:
        """``<server>/<app>/<scenario>/c<users>``."""
        return cell_id(self.server, self.app, self.scenario, self.topology.users)


# -- pieces -----------------------------------------------------------------------------------


def latency_of(row: RequestRow) -> Latency | None:
    """Locust's percentiles as the lab's :class:`Latency` (None before any answer)."""
    wanted = {"p50": "50%", "p75": "75%", "p90": "90%", "p99": "99%", "p999": "99.9%"}
    values = {field: row.percentiles.get(column) for field, column in wanted.items()}
    if row.requests == 0 or any(value is None for value in values.values()):
        return None
    return Latency(
        p50=float(values["p50"] or 0.0),
        p75=float(values["p75"] or 0.0),
        p90=float(values["p90"] or 0.0),
        p99=float(values["p99"] or 0.0),
        p999=float(values["p999"] or 0.0),
        mean=round(row.mean_ms, 3),
        max=round(row.max_ms, 3),
    )


_WRAPPED = re.compile(r"^CatchResponseError\((['\"])(?P<message>.*)\1\)$", re.DOTALL)


def failure_message(error: str) -> str:
    """The reason a flow gave, without Locust's ``CatchResponseError('...')`` wrapper."""
    match = _WRAPPED.match(error.strip())
    return match.group("message") if match else error.strip()


def failure_kind(error: str) -> str:
    """Which :class:`Errors` counter a Locust failure belongs to.

    The flows' own checks report a string (Locust wraps it in ``CatchResponseError``) or an
    ``EchoMismatch``: a wrong status is ``status``, any other wrong answer ``mismatch``.
    Anything else is an exception from the client: a timeout, a refused connection, or a
    connection that broke while reading (``read``).
    """
    message = failure_message(error)
    lowered = message.lower()
    if message.startswith("status "):
        return "status"
    if "timed out" in lowered or "timeout" in lowered:
        return "timeout"
    if "refused" in lowered or lowered.startswith(("connecterror", "connectionerror")):
        return "connect"
    if _WRAPPED.match(error.strip()) or message.startswith("EchoMismatch"):
        return "mismatch"
    return "read"


def errors_of(failures: Iterable[FailureRow]) -> Errors:
    """Failure occurrences by kind."""
    counts = {"status": 0, "connect": 0, "read": 0, "timeout": 0, "mismatch": 0}
    for failure in failures:
        counts[failure_kind(failure.error)] += failure.occurrences
    return Errors(**counts)


def messages_of(failures: Iterable[FailureRow]) -> dict[str, int]:
    """Occurrences by failure message (the most frequent first)."""
    totals: dict[str, int] = {}
    for failure in failures:
        message = failure_message(failure.error)
        totals[message] = totals.get(message, 0) + failure.occurrences
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def test_start(history: Sequence[HistoryRow]) -> int | None:
    """The first second with users running (before it the master waited for workers)."""
    for row in history:
        if row.users > 0 or row.total_requests > 0:
            return row.timestamp
    return None


def history_points(history: Sequence[HistoryRow], key: tuple[str, str]) -> list[LocustPoint]:
    """One point per second of one entry: users, req/s and failures/s over the trailing
    :data:`RATE_WINDOW_S` (from Locust's cumulative counts), p50/p95 as Locust reports them."""
    start = test_start(history)
    if start is None:
        return []
    rows = [row for row in history if row.key == key and row.timestamp >= start]
    points = []
    for index, row in enumerate(rows):
        earlier = _row_before(rows, index, row.timestamp - RATE_WINDOW_S)
        span = row.timestamp - earlier.timestamp if earlier else 0
        requests = row.total_requests - earlier.total_requests if earlier else 0
        failures = row.total_failures - earlier.total_failures if earlier else 0
        points.append(
            LocustPoint(
                t=float(row.timestamp - start),
                users=row.users,
                rps=round(requests / span, 3) if span else 0.0,
                failures_per_s=round(failures / span, 3) if span else 0.0,
                p50=row.percentiles.get("50%"),
                p95=row.percentiles.get("95%"),
            )
        )
    return points


def _row_before(rows: Sequence[HistoryRow], index: int, since: int) -> HistoryRow | None:
    """The earliest row at or after ``since`` among rows before ``index`` (None: no span)."""
    candidates = [row for row in rows[:index] if row.timestamp >= since]
    if candidates:
        return candidates[0]
    return rows[index - 1] if index else None


# -- verdicts ---------------------------------------------------------------------------------


def rps_per_worker(output: LocustOutput, topology: LocustTopology) -> float:
    """Correct answers per second per worker process over the whole run."""
    return ok_rps(output.aggregated) / max(topology.workers, 1)


def ok_rps(row: RequestRow) -> float:
    """Locust's requests per second, counting only correct answers."""
    return row.rps * row.ok_requests / row.requests if row.requests else 0.0


def rps_per_worker_cpu(output: LocustOutput, run: FlowRun) -> float | None:
    """Correct answers per second per CPU the local workers actually used (None: unknown).

    Only local workers are sampled, so their share of the answers is assumed even.
    """
    local = run.topology.workers - run.topology.remote_workers
    used = sum(run.worker_cpu_mean) / 100.0
    if not run.worker_cpu_mean or used <= 0 or local <= 0:
        return None
    local_rps = ok_rps(output.aggregated) * local / max(run.topology.workers, 1)
    return local_rps / used


def starved_note(run: FlowRun, per_cpu: float | None) -> str | None:
    """Why a ceiling is understated: its worker did not get a whole CPU (None: it did)."""
    if not run.worker_cpu_mean or per_cpu is None:
        return None
    cpu = max(run.worker_cpu_mean)
    if cpu >= GENERATOR_BOUND_PCT:
        return None
    return (
        f"the worker got only {cpu:.0f}% of a CPU (other processes shared it), so this ceiling "
        f"is understated: at a whole CPU Locust makes about {per_cpu:,.0f} req/s"
    )


def generator_bound_reasons(per_worker: float, run: FlowRun) -> list[str]:
    """Why this run may measure Locust rather than the server (empty: it had headroom)."""
    reasons = []
    if run.ceiling is not None and per_worker >= NEAR_CEILING * run.ceiling.rps_per_worker:
        share = 100.0 * per_worker / run.ceiling.rps_per_worker
        reasons.append(
            f"{per_worker:.0f} req/s per worker is {share:.0f}% of Locust's ceiling "
            f"({run.ceiling.rps_per_worker:.0f} req/s per worker)"
        )
    for index, cpu in enumerate(run.worker_cpu_mean):
        if cpu >= GENERATOR_BOUND_PCT:
            reasons.append(f"worker {index} used {cpu:.0f}% of a CPU")
    resources = run.resources
    if resources and resources.generator_cpu_mean >= GENERATOR_BOUND_PCT * run.generator_cpus:
        reasons.append(
            f"Locust used {resources.generator_cpu_mean:.0f}% CPU of its "
            f"{run.generator_cpus} CPU(s)"
        )
    return reasons


def ceiling_note(per_worker: float, ceiling: Ceiling | None) -> str:
    """The sentence stated next to every Locust result."""
    if ceiling is None:
        return (
            f"{per_worker:.0f} req/s per worker; Locust's ceiling was not measured "
            "(run with --ceiling measure)"
        )
    share = 100.0 * per_worker / ceiling.rps_per_worker if ceiling.rps_per_worker else 0.0
    return (
        f"{per_worker:.0f} req/s per worker = {share:.0f}% of Locust's ceiling of "
        f"{ceiling.rps_per_worker:.0f} req/s per worker ({ceiling.source})"
    )


def run_flags(run: FlowRun, reasons: Sequence[str], failures: int) -> list[str]:
    """The ``FLAG_*`` values of every record of the run."""
    flags = []
    if reasons:
        flags.append(FLAG_GENERATOR_BOUND)
    account = run.resources.cpu if run.resources is not None else None
    if account is not None and (
        max(account.server_set.foreign, account.generator_set.foreign) >= CONTENDED_PCT
    ):
        flags.append(FLAG_CONTENDED)  # other processes used the server's or Locust's CPUs
    if not run.pinned:
        flags.append(FLAG_UNPINNED)
    if failures:
        flags.append(FLAG_ERRORS)
    return flags


# -- records ----------------------------------------------------------------------------------


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _protocol(row: RequestRow, output: LocustOutput) -> str:
    if row.request_type:
        return "ws" if row.request_type == "WS" else "http"
    kinds = {("ws" if entry.request_type == "WS" else "http") for entry in output.entries}
    return "+".join(sorted(kinds)) or "http"


def record_of(
    row: RequestRow,
    output: LocustOutput,
    run: FlowRun,
    *,
    record_id: str,
    flags: list[str],
    note: str,
) -> Record:
    """One record for one Locust statistics row."""
    aggregated = output.aggregated
    elapsed = aggregated.requests / aggregated.rps if aggregated.rps else run.topology.run_time_s
    failures = [f for f in output.failures if row.name == AGGREGATED or f.key == row.key]
    per_worker = rps_per_worker(output, run.topology)
    return Record(
        run_id=run.run_id,
        record_id=record_id,
        cell_id=run.cell,
        source=SOURCE,
        kind="measurement",
        phase=run.phase,
        run_index=1 if run.phase == "run" else None,
        app=run.app,
        server=run.server,
        scenario=run.scenario,
        variant="app",
        protocol=_protocol(row, output),
        concurrency=run.topology.users,
        driver=DRIVER,
        duration_s=run.topology.run_time_s,
        started_at=run.started_at,
        finished_at=run.finished_at,
        elapsed_s=round(elapsed, 3),
        requests=row.requests,
        ok_requests=row.ok_requests,
        rps=round(row.ok_requests / elapsed, 3) if elapsed else 0.0,
        bytes_read=round(row.mean_bytes * row.requests),
        latency=latency_of(row),
        errors=errors_of(failures),
        resources=run.resources,
        flags=flags,
        reason=note,
        server_command=run.server_command,
        driver_command=run.driver_command,
        env=run.env,
        locust=LocustStats(
            request_type=row.request_type,
            name=row.name,
            failures=row.failures,
            failure_messages=messages_of(failures),
            percentiles_ms={k: v for k, v in row.percentiles.items() if v is not None},
            rps_per_worker=round(per_worker, 3),
            rps_per_worker_cpu=_rounded(rps_per_worker_cpu(output, run)),
            ceiling_rps_per_worker=run.ceiling.rps_per_worker if run.ceiling else None,
            ceiling_source=run.ceiling.source if run.ceiling else None,
            worker_cpu_mean=run.worker_cpu_mean,
            history=history_points(output.history, row.key),
            topology=run.topology,
        ),
    )


def flow_records(output: LocustOutput, run: FlowRun) -> list[Record]:
    """A journeys run: one record per request name, then the ``Aggregated`` one."""
    per_worker = rps_per_worker(output, run.topology)
    reasons = generator_bound_reasons(per_worker, run)
    flags = run_flags(run, reasons, output.aggregated.failures)
    note = ceiling_note(per_worker, run.ceiling)
    if reasons:
        note += "; GENERATOR-BOUND: " + "; ".join(reasons)
    if output.exceptions:
        note += "; errors in the locustfile: " + "; ".join(output.exceptions)
    base = f"{run.cell}/run1"
    return [
        record_of(
            row,
            output,
            run,
            record_id=f"{base}/{row.name}" if row.name == AGGREGATED and not row.request_type
            else f"{base}/{row.request_type} {row.name}",
            flags=flags,
            note=note,
        )
        for row in (*output.entries, output.aggregated)
    ]  # fmt: skip


def ceiling_record(output: LocustOutput, run: FlowRun) -> Record:
    """The calibration record: the aggregated rate of one worker with no think time."""
    per_worker = rps_per_worker(output, run.topology)
    note = (
        f"Locust's ceiling: {per_worker:.0f} checked req/s per worker process "
        "(FastHttpUser, no think time); generator-bound by design"
    )
    resources = run.resources
    if resources is not None and resources.server_cpu_mean >= GENERATOR_BOUND_PCT:
        note += (
            f"; the server used {resources.server_cpu_mean:.0f}% CPU, so this is a lower "
            "bound of Locust's ceiling"
        )
    starved = starved_note(run, rps_per_worker_cpu(output, run))
    if starved:
        note += f"; {starved}"
    if output.aggregated.failures:
        note += f"; {output.aggregated.failures} failures"
    flags = [FLAG_GENERATOR_BOUND, *run_flags(run, [], output.aggregated.failures)]
    return record_of(
        output.aggregated,
        output,
        run,
        record_id=f"{run.cell}/calibration",
        flags=flags,
        note=note,
    )


def ceiling_from(record: Record) -> Ceiling | None:
    """The ceiling a stored calibration record measured (None if it is not one)."""
    if record.source != SOURCE or record.phase != "calibration" or record.kind != "measurement":
        return None
    if record.locust is None or record.locust.rps_per_worker <= 0:
        return None
    return Ceiling(record.locust.rps_per_worker, f"{record.run_id}:{record.record_id}")


def failure_record(run: FlowRun, record_id: str, phase: Phase, reason: str) -> Record:
    """A run or check that could not produce figures, with the reason."""
    return Record(
        run_id=run.run_id,
        record_id=record_id,
        cell_id=run.cell,
        source=SOURCE,
        kind="failure",
        phase=phase,
        app=run.app,
        server=run.server,
        scenario=run.scenario,
        variant="app",
        protocol="http+ws" if run.scenario == "flows" else "http",
        concurrency=run.topology.users,
        driver=DRIVER,
        duration_s=run.topology.run_time_s,
        started_at=run.started_at,
        finished_at=run.finished_at,
        reason=reason,
        server_command=run.server_command,
        driver_command=run.driver_command,
        env=run.env,
    )
