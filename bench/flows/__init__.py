"""User flows: Locust journeys against the app contract, run by one master and K workers.

The same journeys run against every framework (they only speak the app contract) and the
same locustfile runs with one local worker or many remote ones — Locust's own master/worker
mode over ZeroMQ, nothing home-made.

- :mod:`bench.flows.cases`        what each step sends and the exact answer it must get
- :mod:`bench.flows.journeys`     the locustfile of the journeys
- :mod:`bench.flows.ceiling`      the locustfile measuring Locust's own ceiling per worker
- :mod:`bench.flows.checked`      one checked request through a Locust HTTP client
- :mod:`bench.flows.conversation` a WebSocket client reporting to Locust like its HTTP users
- :mod:`bench.flows.topology`     master and worker command lines, CPU pinning
- :mod:`bench.flows.sampler`      CPU of the server, the master and each worker
- :mod:`bench.flows.locust_csv`   reading Locust's CSV statistics
- :mod:`bench.flows.records`      turning them into result records (``source="locust"``)
- :mod:`bench.flows.runner`       one distributed run: server, gate, master, workers, records
- :mod:`bench.flows.cli`          ``python -m bench.flows`` / ``python -m bench loadtest``

Only the locustfiles and :mod:`bench.flows.checked` import Locust, which monkey-patches the
standard library with gevent on import: everything else runs in the lab's own process and in
the test suite without it.
"""
