"""A connection goes back to the pool without a reset round trip (`db.keep_session`), still in the service's
schema, and a transaction it took an advisory lock in gives the lock back at its end."""

from __future__ import annotations

import asyncio
from typing import Any

from runtime import db
from tests.support.infra import Infra


async def test_a_release_sends_no_statement_and_the_connection_keeps_its_schema(infra: Infra, run_id: str) -> None:
    schema = f"t{run_id}_release"
    pool = await db.create_pool(infra.database_url, schema, min_size=1, max_size=1)
    other = await db.create_pool(infra.database_url, schema, min_size=1, max_size=1)
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(record.query)

    try:
        async with pool.acquire() as conn:
            conn.add_query_logger(log)
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(4242)")
        await asyncio.sleep(0.05)  # the logger is called soon after each statement, not at once
        assert sent == ["BEGIN;", "SELECT pg_advisory_xact_lock(4242)", "COMMIT;"], "the release sent some of its own"
        async with pool.acquire() as conn:
            conn.remove_query_logger(log)
            assert await conn.fetchval("SELECT current_schema()") == schema
        async with other.acquire() as conn:
            assert await conn.fetchval("SELECT pg_try_advisory_xact_lock(4242)") is True
    finally:
        await pool.close()
        await other.close()
