"""Locustfile of the user journeys: ``locust -f bench/flows/journeys.py``.

Three kinds of users, mixed by weight, each pausing a random think time between steps:

- :class:`CatalogUser` (weight 6) — independent weighted requests: read a row from the
  database (4), browse a listing (3), read an item by id (2), create an item (1);
- :class:`ShopperUser` (weight 3) — a dependent journey: browse a listing, read the row a
  chosen record points at from the database, create an item made from that record;
- :class:`ChatUser` (weight 1) — a WebSocket conversation of 5 to 20 echoed messages, then
  a new connection.

Every response is checked against the exact expected answer (``catch_response=True``): a
wrong status, header or body is a Locust failure with the reason as its message. Options
added to Locust's command line travel from the master to every worker with the spawn
message, so remote workers need no configuration of their own:

- ``--world-seed S``: the seed of the lab's ``world`` table (workers rebuild the expected
  rows from it); without it, ``--world-file`` or ``$BENCH_SQLITE`` is read;
- ``--think-min``/``--think-max`` (seconds, default 0.5 and 2.0).
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, SequentialTaskSet, User, events, task
from locust.exception import InterruptTaskSet

from bench.flows import cases
from bench.flows.checked import report_every, send
from bench.flows.conversation import EchoConversation
from bench.lab.scenarios.base import Context

THINK_MIN_S = 0.5
THINK_MAX_S = 2.0
MESSAGES_MIN = 5
MESSAGES_MAX = 20


report_every(1.0)


def add_options(parser: Any) -> None:
    """The journeys' own options (sent by the master to every worker)."""
    group = parser.add_argument_group("Velocix lab journeys")
    group.add_argument("--world-seed", type=int, default=None, help="seed of the world table")
    group.add_argument("--world-file", default=None, help="SQLite file of the world table")
    group.add_argument("--think-min", type=float, default=THINK_MIN_S, help="seconds")
    group.add_argument("--think-max", type=float, default=THINK_MAX_S, help="seconds")


events.init_command_line_parser.add_listener(add_options)


def _option(user: User, name: str, default: Any) -> Any:
    options = user.environment.parsed_options
    value = getattr(options, name, None) if options is not None else None
    return default if value is None else value


def think_time(user: User) -> float:
    """A uniform random pause between ``--think-min`` and ``--think-max`` seconds."""
    low = float(_option(user, "think_min", THINK_MIN_S))
    high = float(_option(user, "think_max", THINK_MAX_S))
    return random.uniform(low, max(low, high))


def world_of(user: User) -> Context:
    """The expected ``world`` rows (cached per process)."""
    return cases.context(_option(user, "world_seed", None), _option(user, "world_file", None))


class CatalogUser(FastHttpUser):
    """Independent reads and writes in the proportions of a catalogue's traffic."""

    weight = 6
    wait_time = think_time

    def on_start(self) -> None:
        self.rng = random.Random()
        self.world = world_of(self)

    @task(4)
    def read_row(self) -> None:
        send(self.client, cases.read_random_row(self.rng, self.world), cases.READ_ROW)

    @task(3)
    def browse(self) -> None:
        send(self.client, cases.browse(self.rng), cases.BROWSE)

    @task(2)
    def read_user(self) -> None:
        send(self.client, cases.read_user(self.rng, self.world), cases.READ_USER)

    @task(1)
    def create_item(self) -> None:
        send(self.client, cases.create_item(self.rng, self.world), cases.CREATE_ITEM)


class ShopperJourney(SequentialTaskSet):
    """Browse, follow one record to its database row, create an item from it; repeat.

    A failed step interrupts the journey: the next one starts again from the listing.
    """

    def on_start(self) -> None:
        self.rng = random.Random()
        self.world = world_of(self.user)
        self.record: dict[str, Any] = {}

    @task
    def browse(self) -> None:
        got = send(self.client, cases.browse(self.rng), cases.BROWSE)
        if got is None:
            raise InterruptTaskSet  # start the journey again from the listing
        self.record = cases.pick_record(got.body, self.rng)

    @task
    def read_row(self) -> None:
        case = cases.read_row(self.world, cases.row_of(self.record, self.world))
        if send(self.client, case, cases.READ_ROW) is None:
            raise InterruptTaskSet

    @task
    def create_item(self) -> None:
        send(self.client, cases.create_from_record(self.rng, self.record), cases.CREATE_ITEM)


class ShopperUser(FastHttpUser):
    """Runs :class:`ShopperJourney` over and over."""

    weight = 3
    wait_time = think_time
    tasks = [ShopperJourney]  # noqa: RUF012 - Locust's declared class attribute


class ChatUser(User):
    """A WebSocket conversation: 5 to 20 echoed messages per connection, then reconnect."""

    weight = 1
    wait_time = think_time

    def on_start(self) -> None:
        self.rng = random.Random()
        host = self.environment.host or self.host or ""
        self.conversation = EchoConversation(
            cases.ws_url(host), self.environment.events.request.fire
        )
        self.remaining = 0

    @task
    def talk(self) -> None:
        if not self.conversation.is_open or self.remaining <= 0:
            if not self.conversation.open():
                return
            self.remaining = self.rng.randint(MESSAGES_MIN, MESSAGES_MAX)
        self.remaining -= 1
        self.conversation.exchange(cases.ws_message(self.rng))

    def on_stop(self) -> None:
        self.conversation.close()
