"""The inbox: which events this service has handled or dead-lettered, claimed in the transaction of their effects
so that a record that comes again has none twice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

import asyncpg

from contracts.envelope import CloudEvent
from runtime.db import Connection
from runtime.polling import CONTENTION
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


Claimed = set[tuple[str, int, int]]
"""The (topic, partition, offset) of the records whose events a batch's one statement claimed (`claim_batch`)."""


async def claim_processed(conn: Connection, record: Incoming, event: CloudEvent, claimed: Claimed | None) -> bool:
    """Whether the record's event is this service's to handle now: claimed by its batch already (`claimed`, from
    `claim_batch`), or claimed now."""
    if claimed is not None:
        return (record.topic, record.partition, record.offset) in claimed
    return await record_in_inbox(conn, record, event.source, event.id, event.type, "processed")


async def claim_batch(conn: Connection, claims: Sequence[tuple[Incoming, str, str, str]]) -> Claimed:
    """Claim events of a batch as processed in one round trip, in their order; returns where the records that
    claimed theirs are. Each is (record, source, event id, type); a record whose event was handled before, or
    whose event an earlier record of the batch claimed, claimed nothing: a duplicate, as `record_in_inbox` would
    find it.

    Not for replays (their claim may take a dead-lettered slot again) nor for records being dead-lettered: for
    those the claim one at a time decides."""
    rows = await conn.fetch(
        "INSERT INTO inbox (event_source, event_id, event_type, topic, kafka_partition, kafka_offset, outcome)"
        " SELECT c.source, c.event_id, c.event_type, c.topic, c.kafka_partition, c.kafka_offset, 'processed'"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::bigint[])"
        "   WITH ORDINALITY AS c(source, event_id, event_type, topic, kafka_partition, kafka_offset, n)"
        " ORDER BY c.n"
        " ON CONFLICT (event_source, event_id) DO NOTHING"
        " RETURNING topic, kafka_partition, kafka_offset",
        [source for _, source, _, _ in claims],
        [event_id for _, _, event_id, _ in claims],
        [event_type for _, _, _, event_type in claims],
        [record.topic for record, _, _, _ in claims],
        [record.partition for record, _, _, _ in claims],
        [record.offset for record, _, _, _ in claims],
    )
    return {(row["topic"], row["kafka_partition"], row["kafka_offset"]) for row in rows}


async def record_to_blame(pool: asyncpg.Pool, error: BaseException) -> bool:
    """Whether a failure counts against the record in hand: not while the database does not answer, nor when the
    record's transaction only met another (`polling.CONTENTION`)."""
    return not isinstance(error, CONTENTION) and await database_answers(pool)


async def database_answers(pool: asyncpg.Pool) -> bool:
    """Whether the database answers now: it tells a record's own failure from the infrastructure's."""
    try:
        async with asyncio.timeout(2):
            return bool(await pool.fetchval("SELECT true"))
    except Exception:
        return False
