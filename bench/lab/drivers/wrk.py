"""wrk: C, epoll, closed loop; the lab's HTTP load generator.

``wrk -t<threads> -c<C> -d<D>s --latency --timeout 8s -s bench/lua/pool.lua <url>``, pinned
to the generator CPU set (one thread per CPU). The Lua script cycles through the scenario's
pre-generated requests and writes a JSON summary (:func:`parse_summary` reads it).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.infra import process
from bench.lab.drivers.base import (
    DriverError,
    LoadJob,
    LoadResult,
    Pool,
    latency_from_us,
    read_json_summary,
    socket_errors,
)
from bench.lab.scenarios.base import Case, WsMessage

SCRIPT = Path(__file__).resolve().parent.parent / "lua" / "pool.lua"
SOCKET_TIMEOUT = "8s"


def lua_string(value: str | bytes) -> str:
    """A Lua string literal for any bytes (printable ASCII kept, the rest as ``\\ddd``)."""
    data = value.encode() if isinstance(value, str) else value
    out = []
    for byte in data:
        char = chr(byte)
        if char in '"\\' or not 32 <= byte < 127:
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def lua_pool(cases: Sequence[Case]) -> str:
    """The Lua source of a request pool: ``return { {method=..., path=..., ...}, ... }``."""
    lines = ["return {"]
    for case in cases:
        request = case.request
        headers = ", ".join(
            f"[{lua_string(name)}] = {lua_string(value)}" for name, value in request.headers
        )
        body = lua_string(request.body) if request.body else "nil"
        lines.append(
            f"  {{method = {lua_string(request.method)}, path = {lua_string(request.path)}, "
            f"headers = {{{headers}}}, body = {body}}},"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def parse_summary(data: Mapping[str, Any]) -> LoadResult:
    """Turn the Lua ``done()`` summary into a :class:`LoadResult`.

    Correct responses are ``requests`` minus the responses with an unexpected status: wrk's
    own ``errors.status`` (status > 399) when 2xx/3xx is expected, the script's ``unexpected``
    counter when the expected status is itself >= 400.
    """
    try:
        requests = int(data["requests"])
        hooked = data["hooked"]
        unexpected = int(data["unexpected"] if hooked else data["errors"]["status"])
        elapsed = int(data["duration_us"]) / 1e6
        result = LoadResult(
            elapsed_s=elapsed,
            requests=requests,
            ok_requests=max(requests - unexpected, 0),
            bytes_read=int(data["bytes"]),
            latency=latency_from_us(data["latency_us"]),
            errors=socket_errors(data["errors"], status=unexpected),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DriverError(f"unreadable wrk summary ({exc!r}): {dict(data)!r}") from None
    if elapsed <= 0:
        raise DriverError(f"wrk reported a duration of {elapsed}s")
    return result


def read_summary(path: Path) -> LoadResult:
    """Parse the summary file written by the Lua script."""
    return parse_summary(read_json_summary(path, "wrk"))


class WrkDriver:
    """HTTP load with wrk and the lab's Lua pool script."""

    name = "wrk"
    protocol = "http"
    generator_bound = False

    def available(self) -> bool:
        return shutil.which("wrk") is not None

    def prepare(self, pool: Sequence[Case] | Sequence[WsMessage], expect: int, path: Path) -> Pool:
        cases = [case for case in pool if isinstance(case, Case)]
        if len(cases) != len(pool) or not cases:
            raise DriverError("wrk needs a non-empty pool of HTTP cases")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(lua_pool(cases))
        return Pool(path=path, expect_status=expect, size=len(cases))

    def start(
        self,
        url: str,
        pool: Pool,
        *,
        concurrency: int,
        duration: int,
        cpus: Sequence[int],
        workdir: Path,
    ) -> LoadJob:
        if not self.available():
            raise DriverError("wrk is not installed (Debian package 'wrk')")
        threads = max(1, min(len(cpus), concurrency))
        out = workdir / f"wrk-{uuid.uuid4().hex}.json"
        out.unlink(missing_ok=True)
        command = [
            *process.pin_prefix(cpus),
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            SOCKET_TIMEOUT,
            "-s",
            str(SCRIPT),
            url,
        ]
        env = process.child_env(
            {
                "BENCH_WRK_POOL": str(pool.path),
                "BENCH_WRK_OUT": str(out),
                "BENCH_WRK_EXPECT": str(pool.expect_status),
            }
        )
        job = process.spawn(command, log=workdir / "wrk.log", env=env)
        return LoadJob(command, job, lambda: read_summary(out), timeout=duration + 30.0)
