"""The notifications service's SQL: subscriptions, delivery rows and the dead letters already handled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from runtime.db import Connection
from services.notifications.domain import ContactPoint, Filter, Recipient, Subscriptions


async def load_subscriptions(conn: Connection) -> Subscriptions:
    recipients = await conn.fetch(
        "SELECT recipient_id, name, kind, organisation, sources, agreements FROM recipients WHERE removed_at IS NULL"
    )
    points = await conn.fetch(
        "SELECT cp.contact_point_id, cp.recipient_id, cp.channel, cp.address, cp.signing_secret"
        " FROM contact_points cp JOIN recipients r USING (recipient_id)"
        " WHERE cp.removed_at IS NULL AND r.removed_at IS NULL"
    )
    filters = await conn.fetch(
        "SELECT filter_id, recipient_id, event_types, regions, agreements FROM filters WHERE removed_at IS NULL"
    )
    return Subscriptions(
        recipients=[
            Recipient(
                r["recipient_id"], r["name"], r["kind"], r["organisation"], tuple(r["sources"]), tuple(r["agreements"])
            )
            for r in recipients
        ],
        contact_points=[
            ContactPoint(p["contact_point_id"], p["recipient_id"], p["channel"], p["address"], p["signing_secret"])
            for p in points
        ],
        filters=[
            Filter(
                f["filter_id"], f["recipient_id"], tuple(f["event_types"]), tuple(f["regions"]), tuple(f["agreements"])
            )
            for f in filters
        ],
    )


async def upsert_recipient(conn: Connection, r: Recipient, now: datetime) -> None:
    """Insert or update; a recipient removed by an operator stays removed."""
    await conn.execute(
        "INSERT INTO recipients (recipient_id, name, kind, organisation, sources, agreements, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (recipient_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,"
        "   organisation = EXCLUDED.organisation, sources = EXCLUDED.sources, agreements = EXCLUDED.agreements,"
        "   updated_at = EXCLUDED.updated_at",
        r.recipient_id,
        r.name,
        r.kind,
        r.organisation,
        list(r.sources),
        list(r.agreements),
        now,
    )


async def upsert_contact_point(conn: Connection, cp: ContactPoint, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO contact_points (contact_point_id, recipient_id, channel, address, signing_secret, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (contact_point_id) DO UPDATE SET recipient_id = EXCLUDED.recipient_id,"
        "   channel = EXCLUDED.channel, address = EXCLUDED.address, signing_secret = EXCLUDED.signing_secret,"
        "   updated_at = EXCLUDED.updated_at",
        cp.contact_point_id,
        cp.recipient_id,
        cp.channel,
        cp.address,
        cp.signing_secret,
        now,
    )


async def upsert_filter(conn: Connection, f: Filter, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO filters (filter_id, recipient_id, event_types, regions, agreements, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (filter_id) DO UPDATE SET recipient_id = EXCLUDED.recipient_id,"
        "   event_types = EXCLUDED.event_types, regions = EXCLUDED.regions, agreements = EXCLUDED.agreements,"
        "   updated_at = EXCLUDED.updated_at",
        f.filter_id,
        f.recipient_id,
        list(f.event_types),
        list(f.regions),
        list(f.agreements),
        now,
    )


async def remove(conn: Connection, what: str, ident: str, now: datetime) -> bool:
    """Soft-remove a recipient, contact point or filter, so the next seed upsert does not bring it back."""
    table, column = {
        "recipient": ("recipients", "recipient_id"),
        "contact-point": ("contact_points", "contact_point_id"),
        "filter": ("filters", "filter_id"),
    }[what]
    result: str = await conn.execute(
        f"UPDATE {table} SET removed_at = $2 WHERE {column} = $1 AND removed_at IS NULL", ident, now
    )
    return result.endswith(" 1")


@dataclass(frozen=True)
class NewDelivery:
    notification_id: str
    about_event_source: str
    about_event_id: str
    about_event_type: str
    recipient_id: str
    contact_point_id: str
    channel: str
    agreement_id: str | None
    region: str | None
    correlation_id: str
    traceparent: str | None
    subject: str
    body: str
    payload: bytes


async def add_delivery(conn: Connection, d: NewDelivery, now: datetime) -> bool:
    """One row per (event, recipient, contact point); returns False when it already exists."""
    row = await conn.fetchrow(
        "INSERT INTO deliveries (notification_id, about_event_source, about_event_id, about_event_type,"
        "   recipient_id, contact_point_id, channel, agreement_id, region, correlation_id, traceparent,"
        "   subject, body, payload, next_attempt_at, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)"
        " ON CONFLICT DO NOTHING RETURNING notification_id",
        d.notification_id,
        d.about_event_source,
        d.about_event_id,
        d.about_event_type,
        d.recipient_id,
        d.contact_point_id,
        d.channel,
        d.agreement_id,
        d.region,
        d.correlation_id,
        d.traceparent,
        d.subject,
        d.body,
        d.payload,
        now,
    )
    return row is not None


async def first_sight_of_dead_letter(
    conn: Connection, event_source: str, event_id: str, error_class: str, now: datetime
) -> bool:
    row = await conn.fetchrow(
        "INSERT INTO dead_letters_seen (event_source, event_id, error_class, seen_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        event_source,
        event_id,
        error_class,
        now,
    )
    return row is not None


_DELIVERY_COLUMNS = (
    "d.notification_id, d.about_event_source, d.about_event_id, d.about_event_type, d.recipient_id,"
    " d.contact_point_id, d.channel, d.agreement_id, d.region, d.correlation_id, d.traceparent, d.subject, d.body,"
    " d.payload, d.attempts, d.first_attempt_at, d.created_at, cp.address, cp.signing_secret,"
    " cp.removed_at IS NOT NULL AS contact_point_removed"
)


async def claim_due(conn: Connection, now: datetime) -> asyncpg.Record | None:
    """Lock one due delivery for the caller's transaction; other workers skip it."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN contact_points cp USING (contact_point_id)"
        " WHERE d.status = 'pending' AND d.next_attempt_at <= $1"
        " ORDER BY d.next_attempt_at, d.notification_id LIMIT 1 FOR UPDATE OF d SKIP LOCKED",
        now,
    )
    return row


async def record_delivered(
    conn: Connection, notification_id: str, attempts: int, first: datetime, now: datetime
) -> None:
    await conn.execute(
        "UPDATE deliveries SET status = 'delivered', attempts = $2, first_attempt_at = $3, finished_at = $4,"
        "   last_error = NULL WHERE notification_id = $1",
        notification_id,
        attempts,
        first,
        now,
    )


async def record_retry(
    conn: Connection, notification_id: str, attempts: int, first: datetime, error: str, next_at: datetime
) -> None:
    await conn.execute(
        "UPDATE deliveries SET attempts = $2, first_attempt_at = $3, last_error = $4, next_attempt_at = $5"
        " WHERE notification_id = $1",
        notification_id,
        attempts,
        first,
        error,
        next_at,
    )


async def record_failed(
    conn: Connection, notification_id: str, attempts: int, first: datetime, error: str, permanent: bool, now: datetime
) -> None:
    await conn.execute(
        "UPDATE deliveries SET status = 'failed', attempts = $2, first_attempt_at = $3, last_error = $4,"
        "   permanent = $5, finished_at = $6 WHERE notification_id = $1",
        notification_id,
        attempts,
        first,
        error,
        permanent,
        now,
    )


async def failures(conn: Connection) -> Sequence[asyncpg.Record]:
    rows: Sequence[asyncpg.Record] = await conn.fetch(
        "SELECT notification_id, about_event_type, about_event_id, recipient_id, contact_point_id, channel,"
        "   attempts, permanent, last_error, finished_at FROM deliveries WHERE status = 'failed'"
        " ORDER BY finished_at, notification_id"
    )
    return rows


async def requeue(conn: Connection, notification_ids: Sequence[str], now: datetime) -> list[str]:
    """Failed deliveries back to pending, due now, with a fresh attempt budget and horizon."""
    rows = await conn.fetch(
        "UPDATE deliveries SET status = 'pending', attempts = 0, first_attempt_at = NULL, permanent = false,"
        "   finished_at = NULL, next_attempt_at = $2"
        " WHERE status = 'failed' AND (cardinality($1::text[]) = 0 OR notification_id = ANY($1::text[]))"
        " RETURNING notification_id",
        list(notification_ids),
        now,
    )
    return [r["notification_id"] for r in rows]
