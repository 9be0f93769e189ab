"""Quart: Quart routes (Flask's API on asyncio), quart-cors (details in its ``app.py``)."""

from __future__ import annotations

from bench.frameworks import Framework, Middleware

SPEC = Framework(
    name="quart",
    display="Quart",
    summary="Quart routes (Flask's API on asyncio), quart-cors",
    packages=("quart", "quart-cors"),
    middleware=Middleware(
        cors="quart-cors",
        gzip="an after_request function (quart-compress breaks the tests, quart-compress2 Quart)",
        request_id="an after_request function",
    ),
    colour="#8C6D1F",
    order=70,
)
