"""GET /records?n≈2000: a ~100 KB JSON array of objects encoded per request."""

from __future__ import annotations

from bench.lab.scenarios._records import records_scenario

SCENARIO = records_scenario("records_100k", 1990, 2010, "GET /records?n≈2000, ~100 KB JSON array")
