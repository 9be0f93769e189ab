"""``python -m bench``: see :mod:`bench.lab.cli`."""

from __future__ import annotations

from bench.lab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
