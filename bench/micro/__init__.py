"""In-process micro benchmarks: each framework's ASGI ``app`` called directly, no server.

``python -m bench.micro`` (``nox -s micro``) runs :mod:`bench.micro.bench_micro` under
pytest-benchmark in several interleaved passes (fresh processes) and prints µs/request per case
and framework with the ratio to the raw ASGI baseline of the same pass. One event loop is reused
for the whole run (``asyncio.run`` per call would cost more than the frameworks), every call's
status and body are checked, and the machine and commit are recorded by pytest-benchmark in the
JSON it writes.

Layers: :mod:`~bench.micro.cases` (what to send and expect, as data),
:mod:`bench.frameworks` (which apps: the field's registry), :mod:`~bench.micro.driver` (the
in-process "server"), :mod:`~bench.micro.table` (the renderer, reading stored results only).
"""
