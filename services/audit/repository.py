"""The audit service's SQL: the writer role's grants, the chain head, appending, and reading the log."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from runtime.db import Connection
from services.audit.chain import GENESIS_HASH, AuditRecord, Entry

# Every stored column but `data`, which the database derives from the envelope.
COLUMNS: Final = (
    "seq",
    "recorded_at",
    "kind",
    "event_source",
    "event_id",
    "event_type",
    "event_time",
    "correlation_id",
    "agreement_id",
    "region",
    "topic",
    "kafka_partition",
    "kafka_offset",
    "reason",
    "reason_message",
    "headers",
    "payload",
    "envelope",
    "dssematerial",
    "signed_by_key",
    "message_key",
    "prev_hash",
    "hash",
)
_SELECT: Final = f"SELECT {', '.join(COLUMNS)}, data FROM audit_log"


async def grant_readers(conn: Connection, schema: str, roles: tuple[str, ...]) -> None:
    """SELECT on the log, and nothing else, for the roles that read it (the gateway's receipts and feed). A role the
    installation has not made (a deployment without a gateway) is passed over: the owner may not create it."""
    for role in roles:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            continue
        grants = await conn.fetchval(
            "SELECT format('GRANT USAGE ON SCHEMA %1$I TO %2$I; GRANT SELECT ON %1$I.audit_log TO %2$I',"
            " $1::text, $2::text)",
            schema,
            role,
        )
        await conn.execute(grants)


async def grant_writer(conn: Connection, schema: str, role: str, password: str) -> None:
    """Give the service's login role INSERT and SELECT on the log and nothing else. The launcher (or the DBA) makes
    the role and keeps its password; the role is created here only where the owner may (a bare database)."""
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    if not exists:
        statement = await conn.fetchval(
            "SELECT format('CREATE ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD %L',"
            " $1::text, $2::text)",
            role,
            password,
        )
        # Another instance may have created it between our check and our CREATE.
        with contextlib.suppress(asyncpg.DuplicateObjectError):
            await conn.execute(statement)
    grants = await conn.fetchval(
        "SELECT format('GRANT USAGE ON SCHEMA %1$I TO %2$I; REVOKE ALL ON %1$I.audit_log FROM %2$I;"
        " GRANT SELECT, INSERT ON %1$I.audit_log TO %2$I', $1::text, $2::text)",
        schema,
        role,
    )
    await conn.execute(grants)


async def lock_chain(conn: Connection) -> None:
    """Serialise writers of this log until the transaction ends.

    An advisory lock, because a row lock (SELECT ... FOR UPDATE) would need the UPDATE privilege the writer
    role must not have.
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_log'))")


async def head(conn: Connection) -> tuple[int, str]:
    """The last record's seq and hash, or (0, the genesis hash) for an empty log."""
    row = await conn.fetchrow("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    if row is None:
        return 0, GENESIS_HASH
    return int(row["seq"]), str(row["hash"])


async def known_and_head(
    conn: Connection, keys: Collection[tuple[str, str, str]]
) -> tuple[dict[tuple[str, str, str], bytes], tuple[int, str]]:
    """Which of these (source, id, kind) keys the log already holds, with the SHA-256 of the payload recorded, and
    the head (`head`): one round trip, read after `lock_chain`, so no other writer's records come in between."""
    sources, ids, kinds = ([k[i] for k in keys] for i in range(3))
    rows = await conn.fetch(
        "SELECT event_source, event_id, kind, sha256(payload) AS digest, NULL::bigint AS seq, NULL::text AS hash"
        " FROM audit_log"
        " WHERE (event_source, event_id, kind) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))"
        " UNION ALL (SELECT NULL, NULL, NULL, NULL, seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1)",
        sources,
        ids,
        kinds,
    )
    known = {(r["event_source"], r["event_id"], r["kind"]): bytes(r["digest"]) for r in rows if r["seq"] is None}
    last = [(int(r["seq"]), str(r["hash"])) for r in rows if r["seq"] is not None]
    return known, last[0] if last else (0, GENESIS_HASH)


def _row_of(record: AuditRecord) -> tuple[Any, ...]:
    e = record.entry
    return (
        record.seq,
        record.recorded_at,
        e.kind,
        e.event_source,
        e.event_id,
        e.event_type,
        e.event_time,
        e.correlation_id,
        e.agreement_id,
        e.region,
        e.topic,
        e.kafka_partition,
        e.kafka_offset,
        e.reason,
        e.reason_message,
        [list(h) for h in e.headers],
        e.payload,
        e.envelope,
        e.dssematerial,
        e.signed_by_key,
        e.message_key,
        record.prev_hash,
        record.hash,
    )


async def append(conn: Connection, records: list[AuditRecord]) -> None:
    if records:
        await conn.copy_records_to_table("audit_log", records=[_row_of(r) for r in records], columns=COLUMNS)


def record_of(row: asyncpg.Record) -> AuditRecord:
    entry = Entry(
        kind=row["kind"],
        event_source=row["event_source"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        event_time=row["event_time"],
        correlation_id=row["correlation_id"],
        agreement_id=row["agreement_id"],
        region=row["region"],
        topic=row["topic"],
        kafka_partition=row["kafka_partition"],
        kafka_offset=row["kafka_offset"],
        reason=row["reason"],
        reason_message=row["reason_message"],
        headers=tuple((str(n), None if v is None else str(v)) for n, v in row["headers"]),
        payload=bytes(row["payload"]),
        envelope=row["envelope"],
        data=row["data"],
        dssematerial=row["dssematerial"],
        signed_by_key=row["signed_by_key"],
        message_key=None if row["message_key"] is None else bytes(row["message_key"]),
    )
    return AuditRecord(row["seq"], row["recorded_at"], entry, row["prev_hash"], row["hash"])


async def record_at(conn: Connection, seq: int) -> AuditRecord | None:
    row = await conn.fetchrow(f"{_SELECT} WHERE seq = $1", seq)
    return record_of(row) if row is not None else None


async def all_records(conn: Connection, *, prefetch: int = 2000) -> AsyncIterator[AuditRecord]:
    """Every record in chain order; the caller holds a (repeatable read) transaction open while iterating."""
    async for row in conn.cursor(f"{_SELECT} ORDER BY seq", prefetch=prefetch):
        yield record_of(row)


@dataclass(frozen=True)
class TrailFilter:
    """What an operator asks the trail for; unset fields do not filter."""

    correlation_id: str | None = None
    agreement_id: str | None = None
    region: str | None = None
    event_type: str | None = None
    event_source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None


async def trail(conn: Connection, wanted: TrailFilter) -> list[AuditRecord]:
    """Matching records in chain order; the time range is on the event's time, else the time it was recorded."""
    rows = await conn.fetch(
        f"{_SELECT}"
        " WHERE ($1::text IS NULL OR correlation_id = $1)"
        " AND ($2::text IS NULL OR agreement_id = $2)"
        " AND ($3::text IS NULL OR region = $3)"
        " AND ($4::text IS NULL OR event_type = $4)"
        " AND ($5::text IS NULL OR event_source = $5)"
        " AND ($6::timestamptz IS NULL OR coalesce(event_time, recorded_at) >= $6)"
        " AND ($7::timestamptz IS NULL OR coalesce(event_time, recorded_at) < $7)"
        " ORDER BY seq LIMIT $8",
        wanted.correlation_id,
        wanted.agreement_id,
        wanted.region,
        wanted.event_type,
        wanted.event_source,
        wanted.since,
        wanted.until,
        wanted.limit,
    )
    return [record_of(r) for r in rows]


async def log_answers(conn: Connection) -> None:
    """Raises unless the log's table exists and the connected role may read it: readiness, as the writer sees it."""
    await conn.execute("SELECT 1 FROM audit_log LIMIT 1")


async def count(conn: Connection) -> int:
    """How many records the log holds."""
    found: int = await conn.fetchval("SELECT count(*) FROM audit_log")
    return found
