"""Send one case through a Locust FastHttpUser client and judge the answer exactly."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, cast

import locust.runners
from locust.contrib.fasthttp import FastHttpSession

from bench.flows import cases
from bench.lab.scenarios.base import Case, Reply

logger = logging.getLogger("bench.flows")
LOGGED_REASONS = 5
"""Full reasons logged per request name and process (Locust keeps only their labels)."""
_logged: Counter[str] = Counter()


def report_reason(name: str, reason: str) -> str:
    """Log the first full reasons of ``name``; the label Locust should count it under."""
    if _logged[name] < LOGGED_REASONS:
        _logged[name] += 1
        logger.warning("wrong answer to %s: %s", name, reason)
    return cases.failure_label(reason)


def send(client: FastHttpSession, case: Case, name: str) -> Reply | None:
    """Send ``case``'s request under Locust name ``name``; the reply when it is exactly right.

    A socket error, a wrong status, header or body is reported to Locust as a failure
    (``catch_response=True``) under the reason's label, and None is returned.
    """
    request = case.request
    with client.request(
        request.method,
        request.path,
        headers=dict(request.headers),
        # Locust annotates str/dict, but geventhttpclient sends bytes as they are.
        data=cast(Any, request.body or None),
        name=name,
        catch_response=True,
    ) as response:
        if not response.status_code or response.headers is None:
            # No answer at all: a socket error or a timeout, reported as Locust caught it.
            response.failure(getattr(response, "error", None) or "no response")
            return None
        got = cases.reply(response.status_code, response.headers.items(), response.content or b"")
        reason = cases.verdict(case, got)
        if reason:
            response.failure(report_reason(name, reason))
            return None
        response.success()
        return got


def report_every(seconds: float) -> None:
    """Make workers send their statistics to the master every ``seconds`` (Locust: 3 s).

    The master's per-second history only moves when a report arrives; at 3 s it is a
    staircase. Both locustfiles call this, so it holds on remote workers too.
    """
    locust.runners.WORKER_REPORT_INTERVAL = seconds
