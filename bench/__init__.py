"""The Velocix load lab: the same endpoints per framework, served by several servers, measured.

Layout, by part (one module per plugin; adding a framework, server, scenario or driver is
adding a module):

- ``bench.infra``       what every suite shares: child processes, the servers, the machine's
  environment and speed gauge, the world table, the record schema and store
- ``bench.lab``         the load lab: profiles, planning, the runner and its monitor, load
  drivers, scenarios, statistics and the terminal tables (``python -m bench run|show``)
- ``bench.cost``        instructions per request under valgrind (``python -m bench cost``)
- ``bench.micro``       in-process micro benchmarks (``python -m bench.micro``)
- ``bench.flows``       Locust user flows, one master + K workers (``python -m bench loadtest``)
- ``bench.report``      HTML reports and run comparison (``python -m bench report|compare``)

Entry point: ``python -m bench`` (:mod:`bench.cli`).
"""
