"""Locust user for the wrk fallback: cycles the scenario's request pool, checks the status.

Read by ``locust -f`` in :mod:`bench.lab.drivers.locust` (the pool path and the expected status
come from the environment). FastHttpUser with no wait time: closed loop, like wrk.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, task

POOL: list[dict[str, Any]] = json.loads(Path(os.environ["BENCH_LOCUST_POOL"]).read_text())
EXPECT = int(os.environ.get("BENCH_LOCUST_EXPECT", "200"))
_counter = itertools.count()


class PoolUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def pooled_request(self) -> None:
        spec = POOL[next(_counter) % len(POOL)]
        with self.client.request(
            spec["method"],
            spec["path"],
            headers=spec["headers"],
            # FastHttpSession sends bytes as they are (its annotation only says str).
            data=base64.b64decode(spec["body"]) or None,  # type: ignore[arg-type]
            name=spec["method"],
            catch_response=True,
        ) as response:
            if response.status_code == EXPECT:
                response.success()
            else:
                response.failure(f"status {response.status_code}, expected {EXPECT}")
