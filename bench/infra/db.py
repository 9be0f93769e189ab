"""The lab's database: the ``world`` table every app reads in the ``db`` scenario.

The lab creates a fresh SQLite file per run (random ``randomNumber`` values, so a cached or
hard-coded answer fails the check) and the ``db`` scenario loads the same file to compute the
expected responses. With ``BENCH_PG_DSN`` the same rows are copied into PostgreSQL.
"""

from __future__ import annotations

import os
import random
import sqlite3
import tempfile
from pathlib import Path

WORLD_ROWS = 10_000
SQLITE_ENV = "BENCH_SQLITE"
PG_DSN_ENV = "BENCH_PG_DSN"


def world_rows(seed: int | None, rows: int = WORLD_ROWS) -> dict[int, int]:
    """The ``world`` rows ``{id: randomNumber}`` for ``seed``: the same seed, the same rows.

    A Locust worker on another host rebuilds the expected rows from the seed alone.
    """
    rng = random.Random(seed)
    return {i: rng.randint(1, 10_000) for i in range(1, rows + 1)}


def create_world(path: Path, *, seed: int | None = None, rows: int = WORLD_ROWS) -> dict[int, int]:
    """Create (or replace) the SQLite file at ``path``; return its rows as ``{id: randomNumber}``.

    The file is built beside its destination and renamed into place, so a server never
    opens a half-written database.
    """
    world = world_rows(seed, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(tmp) as conn:
        conn.execute("CREATE TABLE world (id INTEGER PRIMARY KEY, randomNumber INTEGER NOT NULL)")
        conn.executemany("INSERT INTO world (id, randomNumber) VALUES (?, ?)", world.items())
    conn.close()
    os.replace(tmp, path)
    return world


def load_world(path: Path) -> dict[int, int]:
    """Read every row of the SQLite ``world`` table as ``{id: randomNumber}``."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT id, randomNumber FROM world"))
    finally:
        conn.close()


def world_path() -> Path:
    """The SQLite file the apps read: ``$BENCH_SQLITE``, else a per-user default created once.

    The default lets an app module be served by hand (``uvicorn bench.frameworks.raw.app:app``)
    without the lab; the lab always sets ``BENCH_SQLITE`` to the run's own file.
    """
    configured = os.environ.get(SQLITE_ENV)
    if configured:
        return Path(configured)
    path = Path(tempfile.gettempdir()) / f"velocix-bench-{os.getuid()}" / "world.sqlite3"
    if not path.exists():
        create_world(path)
    return path


async def copy_world_to_postgres(dsn: str, world: dict[int, int]) -> None:
    """Replace the ``world`` table in PostgreSQL with ``world`` (used when BENCH_PG_DSN is set)."""
    import asyncpg  # only needed with a DSN

    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("DROP TABLE IF EXISTS world")
            await conn.execute(
                'CREATE TABLE world (id INTEGER PRIMARY KEY, "randomNumber" INTEGER NOT NULL)'
            )
            await conn.copy_records_to_table(
                "world", records=list(world.items()), columns=["id", "randomNumber"]
            )
    finally:
        await conn.close()
