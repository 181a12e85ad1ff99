"""SQL of subscriptions: recipients, their contact points and filters, with soft removal."""

from __future__ import annotations

from datetime import datetime

from runtime.db import Connection
from services.notifications.domain import ContactPoint, Filter, Recipient, Subscriptions


async def load_subscriptions(conn: Connection) -> Subscriptions:
    recipients = await conn.fetch(
        "SELECT recipient_id, name, kind, organisation, sources, agreements FROM recipients WHERE removed_at IS NULL"
    )
    points = await conn.fetch(
        "SELECT cp.contact_point_id, cp.recipient_id, cp.channel, cp.address, cp.signing_secret_env"
        " FROM contact_points cp JOIN recipients r USING (recipient_id)"
        " WHERE cp.removed_at IS NULL AND r.removed_at IS NULL"
    )
    filters = await conn.fetch(
        "SELECT filter_id, recipient_id, event_types, regions, agreements, sources"
        " FROM filters WHERE removed_at IS NULL"
    )
    return Subscriptions(
        recipients=[
            Recipient(
                r["recipient_id"], r["name"], r["kind"], r["organisation"], tuple(r["sources"]), tuple(r["agreements"])
            )
            for r in recipients
        ],
        contact_points=[
            ContactPoint(p["contact_point_id"], p["recipient_id"], p["channel"], p["address"], p["signing_secret_env"])
            for p in points
        ],
        filters=[
            Filter(
                f["filter_id"],
                f["recipient_id"],
                tuple(f["event_types"]),
                tuple(f["regions"]),
                tuple(f["agreements"]),
                tuple(f["sources"]),
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
        "INSERT INTO contact_points (contact_point_id, recipient_id, channel, address, signing_secret_env, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (contact_point_id) DO UPDATE SET recipient_id = EXCLUDED.recipient_id,"
        "   channel = EXCLUDED.channel, address = EXCLUDED.address, signing_secret_env = EXCLUDED.signing_secret_env,"
        "   updated_at = EXCLUDED.updated_at",
        cp.contact_point_id,
        cp.recipient_id,
        cp.channel,
        cp.address,
        cp.signing_secret_env,
        now,
    )


async def upsert_filter(conn: Connection, f: Filter, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO filters (filter_id, recipient_id, event_types, regions, agreements, sources, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (filter_id) DO UPDATE SET recipient_id = EXCLUDED.recipient_id,"
        "   event_types = EXCLUDED.event_types, regions = EXCLUDED.regions, agreements = EXCLUDED.agreements,"
        "   sources = EXCLUDED.sources, updated_at = EXCLUDED.updated_at",
        f.filter_id,
        f.recipient_id,
        list(f.event_types),
        list(f.regions),
        list(f.agreements),
        list(f.sources),
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
