"""The Velocix load lab: the same endpoints per framework, served by several servers, measured.

Layout (one module per plugin; adding a framework, server, scenario or driver is adding a module):

- ``bench.apps``       the app contract implemented per framework (``app`` and ``app_mw``)
- ``bench.scenarios``  requests + exact expected responses, randomised per run
- ``bench.servers``    how to start, probe and stop each ASGI server
- ``bench.drivers``    load generators (wrk, Locust fallback, WebSocket client)
- ``bench.runner``     plans the matrix and runs it; ``bench.results`` the record schema and store
- ``bench.stats``      medians and bootstrap confidence intervals
- ``bench.flows``      Locust user flows, one master + K workers (``python -m bench loadtest``)

Entry point: ``python -m bench list | run | show RUN | report RUN``.
"""
