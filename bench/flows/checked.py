"""Send one case through a Locust FastHttpUser client and judge the answer exactly."""

from __future__ import annotations

from typing import Any, cast

import locust.runners
from locust.contrib.fasthttp import FastHttpSession

from bench.flows import cases
from bench.scenarios.base import Case, Reply


def send(client: FastHttpSession, case: Case, name: str) -> Reply | None:
    """Send ``case``'s request under Locust name ``name``; the reply when it is exactly right.

    A socket error, a wrong status, header or body is reported to Locust as a failure with
    the reason as its message (``catch_response=True``), and None is returned.
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
        error = getattr(response, "error", None)  # set on socket errors and timeouts only
        if error is not None or response.headers is None:
            response.failure(error or "no response")
            return None
        got = cases.reply(response.status_code, response.headers.items(), response.content or b"")
        reason = cases.verdict(case, got)
        if reason:
            response.failure(reason)
            return None
        response.success()
        return got


def report_every(seconds: float) -> None:
    """Make workers send their statistics to the master every ``seconds`` (Locust: 3 s).

    The master's per-second history only moves when a report arrives; at 3 s it is a
    staircase. Both locustfiles call this, so it holds on remote workers too.
    """
    locust.runners.WORKER_REPORT_INTERVAL = seconds
