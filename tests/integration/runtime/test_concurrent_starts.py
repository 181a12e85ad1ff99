"""Instances of one service started at once on a fresh database all start: the schema, the migrations' own table
and every migration are made once, by whichever comes first, and the others find them made.

`CREATE ... IF NOT EXISTS` is no lock: two at once both find nothing and the second fails on the catalog's unique
index, which stopped one of two benchmark instances of the meetings service at its start."""

from __future__ import annotations

import asyncio

from runtime import db
from tests.support.infra import Infra

STARTS = 6


async def _start(url: str, schema: str) -> list[str]:
    pool = await db.create_pool(url, schema, max_size=1)
    try:
        return await db.migrate(pool, [db.RUNTIME_MIGRATIONS])
    finally:
        await pool.close()


async def test_a_service_started_several_times_at_once_migrates_once(infra: Infra, run_id: str) -> None:
    url = infra.service_database_url("evaluations")
    schema = f"t{run_id}_starts"
    applied = await asyncio.gather(*(_start(url, schema) for _ in range(STARTS)))
    migrations = [name for name, _ in db._migration_files([db.RUNTIME_MIGRATIONS])]
    assert sorted(name for one in applied for name in one) == sorted(migrations)  # each once, by one of them
    assert await _start(url, schema) == []  # and a later start finds them all
