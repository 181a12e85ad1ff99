"""The inbox: which events this service has handled or dead-lettered, claimed in the transaction of their effects
so that a record that comes again has none twice."""

from __future__ import annotations

import asyncio
from typing import Literal

import asyncpg

from runtime.db import Connection
from runtime.records import Incoming

Outcome = Literal["processed", "duplicate", "dead_lettered", "skipped"]
"""How a consumed record ended; the first and third are recorded in the inbox."""


async def record_in_inbox(
    conn: Connection,
    record: Incoming,
    source: str,
    event_id: str,
    event_type: str | None,
    outcome: str,
) -> bool:
    """Claim the event for this outcome; False when it was handled before (a duplicate).

    A replay from the dead-letter topic (marked with the REPLAY_HEADER) may take a dead-lettered event through
    again, once per replayed record: its Kafka coordinates differ from those already recorded.
    """
    row = await conn.fetchrow(
        "INSERT INTO inbox (event_source, event_id, event_type, topic, kafka_partition, kafka_offset, outcome)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (event_source, event_id) DO UPDATE SET outcome = EXCLUDED.outcome, topic = EXCLUDED.topic,"
        "   kafka_partition = EXCLUDED.kafka_partition, kafka_offset = EXCLUDED.kafka_offset, processed_at = now()"
        " WHERE $8 AND inbox.outcome = 'dead_lettered'"
        "   AND (inbox.topic, inbox.kafka_partition, inbox.kafka_offset)"
        "       IS DISTINCT FROM (EXCLUDED.topic, EXCLUDED.kafka_partition, EXCLUDED.kafka_offset)"
        " RETURNING event_id",
        source,
        event_id,
        event_type,
        record.topic,
        record.partition,
        record.offset,
        outcome,
        record.is_replay,
    )
    return row is not None


async def database_answers(pool: asyncpg.Pool) -> bool:
    """Whether the database answers now: it tells a record's own failure from the infrastructure's."""
    try:
        async with asyncio.timeout(2):
            return bool(await pool.fetchval("SELECT true"))
    except Exception:
        return False
