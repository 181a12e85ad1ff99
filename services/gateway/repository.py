"""The gateway's SQL: what it has accepted, and the audit trail it reads (read-only) for receipts and the feed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from runtime.db import Connection


@dataclass(frozen=True)
class AcceptedRow:
    source: str
    event_id: str
    digest: str


@dataclass(frozen=True)
class NewAccepted:
    source: str
    event_id: str
    digest: str
    event_type: str
    organisation: str
    topic: str
    partition: int
    offset: int


async def lock(conn: Connection, keys: Sequence[tuple[str, str]]) -> None:
    """Serialise concurrent POSTs of the same events until the transaction ends; in one order, so two batches
    that share events cannot deadlock."""
    ordered = sorted(set(keys))
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(k.source || chr(10) || k.id, 0))"
        " FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(source, id, n) ORDER BY k.n",
        [s for s, _ in ordered],
        [i for _, i in ordered],
    )


async def already_accepted(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], AcceptedRow]:
    rows = await conn.fetch(
        "SELECT a.event_source, a.event_id, a.digest FROM accepted a"
        " JOIN unnest($1::text[], $2::text[]) AS k(source, id) ON a.event_source = k.source AND a.event_id = k.id",
        [s for s, _ in keys],
        [i for _, i in keys],
    )
    found = (AcceptedRow(r["event_source"], r["event_id"], r["digest"]) for r in rows)
    return {(row.source, row.event_id): row for row in found}


async def record_accepted(conn: Connection, rows: Sequence[NewAccepted]) -> None:
    await conn.executemany(
        "INSERT INTO accepted (event_source, event_id, digest, event_type, organisation, topic, kafka_partition,"
        " kafka_offset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [(r.source, r.event_id, r.digest, r.event_type, r.organisation, r.topic, r.partition, r.offset) for r in rows],
    )


@dataclass(frozen=True)
class TrailRow:
    """One record of the audit trail, as receipts and the feed show it."""

    seq: int
    recorded_at: datetime
    kind: str
    source: str
    event_id: str
    event_type: str | None
    region: str | None
    reason: str | None
    reason_message: str | None
    envelope: dict[str, Any] | None


_TRAIL_COLUMNS: Final = (
    "seq, recorded_at, kind, event_source, event_id, event_type, region, reason, reason_message, envelope"
)


def _trail(row: asyncpg.Record) -> TrailRow:
    return TrailRow(
        seq=row["seq"],
        recorded_at=row["recorded_at"],
        kind=row["kind"],
        source=row["event_source"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        region=row["region"],
        reason=row["reason"],
        reason_message=row["reason_message"],
        envelope=row["envelope"],
    )


def _log(schema: str) -> str:
    """The audit log's qualified name; the schema name is checked by the settings' pattern, so it quotes safely."""
    return f'"{schema}".audit_log'


async def was_accepted(conn: Connection, source: str, event_id: str) -> bool:
    found = await conn.fetchval("SELECT true FROM accepted WHERE event_source = $1 AND event_id = $2", source, event_id)
    return found is True


async def records_of(conn: Connection, schema: str, source: str, event_id: str) -> list[TrailRow]:
    """Every record the audit keeps under this event's identity: the event itself, its dead letters, a forgery."""
    rows = await conn.fetch(
        f"SELECT {_TRAIL_COLUMNS} FROM {_log(schema)} WHERE event_source = $1 AND event_id = $2 ORDER BY seq",
        source,
        event_id,
    )
    return [_trail(r) for r in rows]


async def correlated(conn: Connection, schema: str, correlation_id: str) -> list[TrailRow]:
    """The events of one collaboration step (by the correlation id index): what an event caused is among them."""
    rows = await conn.fetch(
        f"SELECT {_TRAIL_COLUMNS} FROM {_log(schema)} WHERE correlation_id = $1 AND kind = 'event' ORDER BY seq",
        correlation_id,
    )
    return [_trail(r) for r in rows]


async def feed_page(
    conn: Connection,
    schema: str,
    *,
    after: int,
    limit: int,
    dead_letter_topic: str,
    event_type: str | None,
    region: str | None,
    regions_visible: tuple[str, ...] | None,
) -> list[TrailRow]:
    """Verified events after a sequence number, in the order the audit recorded them (its seq has no gaps and is
    assigned under the writer's lock, so a later page never holds a record an earlier page skipped).
    `regions_visible` None: every region; otherwise those regions and the national level (no region)."""
    rows = await conn.fetch(
        f"SELECT {_TRAIL_COLUMNS} FROM {_log(schema)}"
        " WHERE seq > $1 AND kind = 'event' AND topic <> $3"
        " AND ($4::text IS NULL OR event_type = $4)"
        " AND ($5::text IS NULL OR region = $5)"
        " AND ($6::text[] IS NULL OR region IS NULL OR region = ANY($6))"
        " ORDER BY seq LIMIT $2",
        after,
        limit,
        dead_letter_topic,
        event_type,
        region,
        list(regions_visible) if regions_visible is not None else None,
    )
    return [_trail(r) for r in rows]
