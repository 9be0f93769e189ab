"""Database access shared by every app, so the ``db`` endpoint does the same I/O everywhere.

Each app opens one :class:`World` at lifespan startup and closes it at shutdown. SQLite
(aiosqlite, one read-only connection; aiosqlite runs it on its own thread) is the default;
``BENCH_PG_DSN`` switches to an asyncpg pool.
"""

from __future__ import annotations

import os
from typing import Any

from bench.infra.db import PG_DSN_ENV, world_path

SQLITE_QUERY = "SELECT randomNumber FROM world WHERE id = ?"
PG_QUERY = 'SELECT "randomNumber" FROM world WHERE id = $1'
WORLD_IDS = range(1, 10_001)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class World:
    """Reads ``randomNumber`` by id from the lab's ``world`` table."""

    def __init__(self) -> None:
        self._sqlite: Any = None
        self._pg: Any = None

    async def open(self) -> None:
        """Connect (at lifespan startup): asyncpg pool when BENCH_PG_DSN is set, else aiosqlite."""
        dsn = os.environ.get(PG_DSN_ENV)
        if dsn:
            import asyncpg

            self._pg = await asyncpg.create_pool(dsn, min_size=1, max_size=8)
            return
        import aiosqlite

        connection = aiosqlite.connect(f"file:{world_path()}?mode=ro", uri=True)
        # aiosqlite's worker thread is not a daemon, so an open connection keeps the process
        # alive at exit. An app started without a lifespan is never shut down: BlackSheep
        # starts itself (and opens this) on its first request, and the micro benchmark sends
        # no lifespan. The thread serves only this read-only connection; nothing is lost.
        connection._thread.daemon = True
        self._sqlite = await connection

    async def close(self) -> None:
        """Disconnect (at lifespan shutdown)."""
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            await self._pg.close()
            self._pg = None

    async def random_number(self, world_id: int) -> int | None:
        """The row's ``randomNumber``, or None when no row has that id (also for an id no
        64-bit integer column can hold: the database driver would raise, not miss)."""
        if not INT64_MIN <= world_id <= INT64_MAX:
            return None
        if self._pg is not None:
            value: int | None = await self._pg.fetchval(PG_QUERY, world_id)
            return value
        if self._sqlite is None:
            raise RuntimeError("World.open() was not awaited: the app's lifespan did not run")
        async with self._sqlite.execute(SQLITE_QUERY, (world_id,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else int(row[0])
