"""The gateway's SQL: what it has accepted, and the audit trail it reads (read-only) for receipts and the feed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    for source, event_id in sorted(set(keys)):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(10) || $2, 0))", source, event_id)


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
