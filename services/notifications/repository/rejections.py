"""SQL of the rejections waiting to be told, grouped per source into windows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from runtime.db import Connection


@dataclass(frozen=True)
class Rejection:
    event_source: str
    event_id: str
    event_type: str | None
    reason: str
    message: str
    topic: str
    failed_at: str


async def open_window(conn: Connection, source: str, now: datetime, length: timedelta) -> tuple[str, datetime, bool]:
    """The source's open window, or a new one closing after `length`: (id, closes at, whether it is new)."""
    row = await conn.fetchrow(
        "SELECT window_id, closes_at FROM rejection_windows WHERE event_source = $1 AND told_at IS NULL", source
    )
    if row is not None:
        return row["window_id"], row["closes_at"], False
    window_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"lhl-rejections:{source}|{now.isoformat()}"))
    await conn.execute(
        "INSERT INTO rejection_windows (window_id, event_source, opened_at, closes_at) VALUES ($1, $2, $3, $4)",
        window_id,
        source,
        now,
        now + length,
    )
    return window_id, now + length, True


async def note(conn: Connection, window_id: str, rejection: Rejection, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO rejections_to_tell (window_id, event_source, event_id, event_type, reason, message, topic,"
        "   failed_at, noted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        window_id,
        rejection.event_source,
        rejection.event_id,
        rejection.event_type,
        rejection.reason,
        rejection.message,
        rejection.topic,
        rejection.failed_at,
        now,
    )


async def close_window(conn: Connection, window_id: str, now: datetime) -> tuple[datetime, list[Rejection]]:
    """Mark the window told; returns when it opened and its rejections in the order they came."""
    opened: datetime = await conn.fetchval(
        "UPDATE rejection_windows SET told_at = $2 WHERE window_id = $1 RETURNING opened_at", window_id, now
    )
    rows: Sequence[asyncpg.Record] = await conn.fetch(
        "SELECT event_source, event_id, event_type, reason, message, topic, failed_at FROM rejections_to_tell"
        " WHERE window_id = $1 ORDER BY noted_at, event_id",
        window_id,
    )
    return opened, [Rejection(**dict(r)) for r in rows]
