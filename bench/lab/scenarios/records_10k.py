"""GET /records?n≈200: a ~10 KB JSON array of objects encoded per request."""

from __future__ import annotations

from bench.lab.scenarios._records import records_scenario

SCENARIO = records_scenario("records_10k", 190, 210, "GET /records?n≈200, ~10 KB JSON array")
