"""``python -m bench.flows``: see :mod:`bench.flows.cli`."""

from __future__ import annotations

from bench.flows.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
