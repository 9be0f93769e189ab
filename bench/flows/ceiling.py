"""Locustfile measuring Locust's own ceiling: ``locust -f bench/flows/ceiling.py``.

One :class:`CeilingUser` kind: FastHttpUser, no think time, ``GET /plaintext`` of the raw
ASGI app on granian — the cheapest answer of the fastest pairing — checked exactly as the
journeys check theirs. With one worker process on its own CPU the server has headroom to
spare, so the requests per second reached are what one Locust worker process can generate:
a journey whose rate per worker comes near it measures Locust, not the server.
"""

from __future__ import annotations

import random

from locust import FastHttpUser, constant, task

from bench.flows.checked import report_every, send
from bench.lab.scenarios import plaintext
from bench.lab.scenarios.base import Context

NAME = "/plaintext"
NO_WORLD = Context({})


report_every(1.0)


class CeilingUser(FastHttpUser):
    """Closed loop, no pause: as many checked requests as the worker can make."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def plaintext(self) -> None:
        send(self.client, plaintext.SCENARIO.make_case(self.rng, NO_WORLD), NAME)
