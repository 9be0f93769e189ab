"""Health probes (:mod:`.health`) and Prometheus metrics (:mod:`.metrics`, needs the
``velocix[metrics]`` extra and is imported on first use)."""

from __future__ import annotations

import importlib
from typing import Any

from velocix.monitoring.health import CheckResult, HealthChecks

_LAZY = dict.fromkeys(
    ("Metrics", "PrometheusMiddleware", "install_metrics"), "velocix.monitoring.metrics"
)

__all__ = ["CheckResult", "HealthChecks", "Metrics", "PrometheusMiddleware", "install_metrics"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'velocix.monitoring' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
