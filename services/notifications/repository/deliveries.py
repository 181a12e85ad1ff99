"""SQL of delivery rows and of the dead letters already turned into notifications."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from runtime.db import Connection
from services.notifications.attempts import Decision, Delivered, Failed, Retry
from services.notifications.domain import ContactPoint, Recipient, notification_id


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

    @classmethod
    def to(
        cls,
        recipient: Recipient,
        point: ContactPoint,
        *,
        about: tuple[str, str, str],
        subject: str,
        body: str,
        payload: bytes,
        correlation_id: str,
        agreement_id: str | None = None,
        region: str | None = None,
        traceparent: str | None = None,
    ) -> NewDelivery:
        """One message to one contact point, about (source, id, type). Its id is stable per (what it is about,
        recipient, contact point), so a re-derivation finds the same row; the body ends with it, so a recipient
        can quote it."""
        source, event_id, event_type = about
        nid = notification_id(source, event_id, recipient.recipient_id, point.contact_point_id)
        return NewDelivery(
            notification_id=nid,
            about_event_source=source,
            about_event_id=event_id,
            about_event_type=event_type,
            recipient_id=recipient.recipient_id,
            contact_point_id=point.contact_point_id,
            channel=point.channel,
            agreement_id=agreement_id,
            region=region,
            correlation_id=correlation_id,
            traceparent=traceparent,
            subject=subject,
            body=f"{body}\nVarsel-id: {nid}",
            payload=payload,
        )


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


@dataclass(frozen=True)
class DueDelivery(NewDelivery):
    """A pending delivery whose time has come, with its contact point as it is now, claimed for one attempt: the
    row as it was written, and what the attempt needs besides."""

    attempts: int
    """Attempts made before this one."""
    first_attempt_at: datetime | None
    accepted_at: datetime | None
    """Set when the recipient accepted the message but a crash kept the delivery from being recorded."""
    address: str
    signing_secret_env: str | None
    contact_point_removed: bool


_DUE_COLUMNS = (
    "d.notification_id, d.about_event_source, d.about_event_id, d.about_event_type, d.recipient_id,"
    " d.contact_point_id, d.channel, d.agreement_id, d.region, d.correlation_id, d.traceparent, d.subject, d.body,"
    " d.payload, d.attempts, d.first_attempt_at, d.accepted_at, cp.address, cp.signing_secret_env,"
    " cp.removed_at IS NOT NULL AS contact_point_removed"
)


async def claim_due(conn: Connection, now: datetime) -> DueDelivery | None:
    """Lock one due delivery for the caller's transaction; other workers skip it."""
    row = await conn.fetchrow(
        f"SELECT {_DUE_COLUMNS} FROM deliveries d JOIN contact_points cp USING (contact_point_id)"
        " WHERE d.status = 'pending' AND d.next_attempt_at <= $1"
        " ORDER BY d.next_attempt_at, d.notification_id LIMIT 1 FOR UPDATE OF d SKIP LOCKED",
        now,
    )
    if row is None:
        return None
    return DueDelivery(**dict(row))  # the columns are named as the fields are


async def record(conn: Connection, notification_id: str, decision: Decision) -> None:
    """Write what an attempt came to on its row, in the caller's transaction."""
    match decision:
        case Delivered(attempts, first, delivered_at):
            await record_delivered(conn, notification_id, attempts, first, delivered_at)
        case Retry(attempts, first, error, next_attempt_at):
            await record_retry(conn, notification_id, attempts, first, error, next_attempt_at)
        case Failed(attempts, first, error, permanent, failed_at):
            await record_failed(conn, notification_id, attempts, first, error, permanent, failed_at)


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


async def park(
    conn: Connection, notification_id: str, error: str, until: datetime, accepted_at: datetime | None = None
) -> None:
    """Move a row that crashed the worker out of the way, without counting an attempt; `accepted_at` remembers
    that the recipient had already accepted the message, so the retry does not send it again."""
    await conn.execute(
        "UPDATE deliveries SET next_attempt_at = $3, last_error = $2, accepted_at = coalesce(accepted_at, $4)"
        " WHERE notification_id = $1 AND status = 'pending'",
        notification_id,
        error,
        until,
        accepted_at,
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


async def any_due(conn: Connection, now: datetime) -> bool:
    """Whether a pending delivery is due at `now`: the worker has work it has not yet taken."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1)", now
        )
    )
