"""Load driver registry and selection.

HTTP scenarios use wrk; when wrk is missing the Locust fallback runs instead and every
result is flagged generator-bound. WebSocket scenarios use the lab's ``websockets`` client.
"""

from __future__ import annotations

from bench.lab.drivers.base import Driver, DriverError
from bench.lab.drivers.locust import LocustDriver
from bench.lab.drivers.wrk import WrkDriver
from bench.lab.drivers.ws import WsDriver

__all__ = ["DRIVERS", "Driver", "DriverError", "driver_for", "http_driver"]

DRIVERS: dict[str, Driver] = {
    driver.name: driver for driver in (WrkDriver(), LocustDriver(), WsDriver())
}


def http_driver(preference: str = "auto") -> Driver:
    """The HTTP driver: ``wrk`` (or Locust when wrk is absent and ``preference`` is auto)."""
    if preference not in ("auto", "wrk", "locust"):
        raise DriverError(f"unknown HTTP driver {preference!r}: choose auto, wrk or locust")
    wrk, locust = DRIVERS["wrk"], DRIVERS["locust"]
    if preference in ("auto", "wrk") and wrk.available():
        return wrk
    if preference == "wrk":
        raise DriverError("wrk is not installed (Debian package 'wrk'); try --driver auto")
    if not locust.available():
        raise DriverError("neither wrk nor Locust is available to generate HTTP load")
    return locust


def driver_for(protocol: str, preference: str = "auto") -> Driver:
    """The driver for a scenario's protocol."""
    return DRIVERS["ws-client"] if protocol == "ws" else http_driver(preference)
