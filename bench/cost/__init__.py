"""Deterministic per-request cost: the server's user-space instructions per request.

Throughput on a shared VM wanders with the machine's speed; the number of instructions a
server executes for a request does not. ``python -m bench cost`` runs each lab server command
line under valgrind/callgrind and counts the instructions (Ir) of every server process over N
sequential keep-alive requests, each answer checked:

- :mod:`bench.cost.callgrind` valgrind prefix, ``callgrind_control`` zero/dump, dump parsing
- :mod:`bench.cost.server`    a lab server under callgrind (pinned, own group, PYTHONHASHSEED=0)
- :mod:`bench.cost.measure`   one cell: warm up, zero, send and check, dump, count
- :mod:`bench.cost.plan`      configuration, profiles (smoke, quick), server process groups
- :mod:`bench.cost.runner`    a whole cost run into ``reports/runs/<ts>-<commit>-cost/``
- :mod:`bench.cost.records`   the ``cost.jsonl`` record schema and store
- :mod:`bench.cost.summary`   per-cell figures, ratio to raw, changes between runs
- :mod:`bench.cost.show`      the terminal tables of ``python -m bench show``
- :mod:`bench.cost.report`    the report's "Per-request cost" section
- :mod:`bench.cost.cli`       ``python -m bench cost``

What it counts: user-space instructions of the server process(es) only — no kernel time, no
I/O wait, one connection, requests one after another. It is a machine-independent measure of
the work per request, not a throughput.
"""
