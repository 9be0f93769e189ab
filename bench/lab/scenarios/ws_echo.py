"""WS /ws/echo: text and binary messages echoed back on long-lived connections."""

from __future__ import annotations

import random
import string

from bench.lab.scenarios.base import WsMessage, WsScenario

ALPHABET = string.ascii_letters + string.digits + " éüß€"


def make_message(rng: random.Random) -> WsMessage:
    size = rng.randint(1, 256)
    if rng.random() < 0.5:
        return WsMessage("".join(rng.choices(ALPHABET, k=size)))
    return WsMessage(rng.randbytes(size))


SCENARIO = WsScenario(
    "ws_echo", "WebSocket echo of text and binary messages", "/ws/echo", make_message
)
