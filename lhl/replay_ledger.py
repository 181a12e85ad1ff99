"""The operator's dead-letter replay ledger (schema `lhl_ops`): which dead letters were sent back, so each is sent
back at most once. The only module that speaks its SQL; its table comes from `lhl/migrations/`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from runtime import db
from runtime.db import Connection

SCHEMA = "lhl_ops"
MIGRATIONS = Path(__file__).parent / "migrations"
CLOSE_SECONDS = 5.0


@asynccontextmanager
async def opened(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A one-connection pool on the ledger's schema, migrated first."""
    pool = await db.create_pool(database_url, SCHEMA, min_size=1, max_size=1)
    try:
        await db.migrate(pool, [MIGRATIONS])
        yield pool
    finally:
        await db.close_pool(pool, CLOSE_SECONDS)


async def claim(conn: Connection, dlq_topic: str, partition: int, offset: int, target_topic: str) -> bool:
    """Claim the dead letter for a replay; False when it was replayed before."""
    claimed = await conn.fetchval(
        "INSERT INTO dlq_replays (dlq_topic, dlq_partition, dlq_offset, target_topic)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING dlq_offset",
        dlq_topic,
        partition,
        offset,
        target_topic,
    )
    return claimed is not None
