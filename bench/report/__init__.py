"""HTML reports of the load lab, rendered from stored result records only.

- :mod:`bench.report.load`        read ``run.json`` + ``results.jsonl`` (torn last line skipped)
- :mod:`bench.report.summary`     per-cell figures (on top of :mod:`bench.lab.summary`) and caveats
- :mod:`bench.report.ranking`     frameworks fastest first by ratio to the baseline; what the
  headline leaves out as no evidence of capacity
- :mod:`bench.report.charts`      matplotlib (Agg, lazy) charts as inline, accessible SVG
- :mod:`bench.report.conformance` the conformance matrix section, from its stored records
- :mod:`bench.report.panel`       the environment panel (machine, versions, commands, protocol)
- :mod:`bench.report.render`      ``reports/runs/<run>/index.html``; :mod:`bench.report.index`
  ``reports/index.html``; templates in ``bench/report/templates`` (jinja2, autoescaped)
- :mod:`bench.report.compare`            comparison of two runs with significance tests

Entry point: ``python -m bench report [RUN ...]`` (see :mod:`bench.report.cli`).
"""

from __future__ import annotations
