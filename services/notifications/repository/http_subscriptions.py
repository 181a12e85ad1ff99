"""SQL of the webhook subscriptions organisations make over the gateway: its grants, the handshake's bookkeeping,
and turning an active subscription into (or a removed one out of) a recipient, contact point and filter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from runtime.db import Connection
from services.notifications import domain, handshake
from services.notifications.repository import subscriptions

GATEWAY_INSERTS: Final = (
    "subscription_id",
    "organisation",
    "endpoint",
    "event_types",
    "regions",
    "sources",
    "agreements",
)
GATEWAY_READS: Final = (
    *GATEWAY_INSERTS,
    "created_at",
    "removed_at",
    "status",
    "reason",
    "attempts",
    "validated_at",
)
"""The gateway's interface to this table: it may request and remove, and read what it shows; the status, the
handshake and the deliveries stay this service's alone (no UPDATE of any other column)."""


async def grant_gateway(conn: Connection, schema: str, roles: Sequence[str]) -> None:
    """Column grants for the roles that manage subscriptions over HTTP; a role the installation has not made (a
    deployment without a gateway) is passed over, as the audit does for its readers."""
    for role in roles:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            continue
        statement = await conn.fetchval(
            "SELECT format('GRANT USAGE ON SCHEMA %1$I TO %2$I;"
            " GRANT INSERT (%3$s) ON %1$I.http_subscriptions TO %2$I;"
            " GRANT SELECT (%4$s) ON %1$I.http_subscriptions TO %2$I;"
            " GRANT UPDATE (removed_at) ON %1$I.http_subscriptions TO %2$I',"
            " $1::text, $2::text, $3::text, $4::text)",
            schema,
            role,
            ", ".join(GATEWAY_INSERTS),
            ", ".join(GATEWAY_READS),
        )
        await conn.execute(statement)


@dataclass(frozen=True)
class PendingSubscription:
    subscription_id: str
    organisation: str
    endpoint: str
    event_types: tuple[str, ...]
    regions: tuple[str, ...]
    sources: tuple[str, ...]
    agreements: tuple[str, ...]
    attempts: int


async def claim_pending(conn: Connection, now: datetime) -> PendingSubscription | None:
    """Lock one subscription whose handshake is due for the caller's transaction; other instances skip it."""
    row = await conn.fetchrow(
        "SELECT subscription_id, organisation, endpoint, event_types, regions, sources, agreements, attempts"
        " FROM http_subscriptions WHERE status = 'pending' AND removed_at IS NULL AND next_check_at <= $1"
        " ORDER BY next_check_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        now,
    )
    if row is None:
        return None
    return PendingSubscription(
        row["subscription_id"],
        row["organisation"],
        row["endpoint"],
        tuple(row["event_types"]),
        tuple(row["regions"]),
        tuple(row["sources"]),
        tuple(row["agreements"]),
        row["attempts"],
    )


async def record_check(
    conn: Connection, subscription_id: str, attempts: int, reason: str, next_check_at: datetime | None
) -> None:
    """A handshake that did not succeed: pending until the next check, or failed when none is left."""
    await conn.execute(
        "UPDATE http_subscriptions SET attempts = $2, reason = $3,"
        " status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,"
        " next_check_at = COALESCE($4, next_check_at) WHERE subscription_id = $1",
        subscription_id,
        attempts,
        reason,
        next_check_at,
    )


async def activate(
    conn: Connection, sub: PendingSubscription, point: domain.ContactPoint, recipient: domain.Recipient, now: datetime
) -> None:
    """The endpoint answered the handshake: from now on it is a recipient like any other, picked by its filter."""
    await subscriptions.upsert_recipient(conn, recipient, now)
    await subscriptions.upsert_contact_point(conn, point, now)
    await subscriptions.upsert_filter(
        conn,
        domain.Filter(point.contact_point_id, recipient.recipient_id, sub.event_types, sub.regions, (), sub.sources),
        now,
    )
    await conn.execute(
        "UPDATE http_subscriptions SET status = 'active', reason = NULL, attempts = attempts + 1, validated_at = $2"
        " WHERE subscription_id = $1",
        sub.subscription_id,
        now,
    )


async def retire_removed(conn: Connection, now: datetime) -> list[str]:
    """Soft-remove what removed subscriptions were made into, so nothing more is delivered to them."""
    rows = await conn.fetch(
        "UPDATE http_subscriptions SET retired_at = $1 WHERE removed_at IS NOT NULL AND retired_at IS NULL"
        " RETURNING subscription_id",
        now,
    )
    retired = [r["subscription_id"] for r in rows]
    for subscription_id in retired:
        name = handshake.name_of(subscription_id)
        for what in ("filter", "contact-point", "recipient"):
            await subscriptions.remove(conn, what, name, now)
    return retired
