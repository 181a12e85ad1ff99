"""Read-side SQL behind the CLI: meetings and action items per agreement, region and period.

Kept apart from repository.py (the write side) to keep both near 200 lines; these are the only two modules
of the service that speak SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from runtime.db import Connection


@dataclass(frozen=True)
class Filter:
    """What to list; None means no restriction. The region 'national' selects national meetings."""

    agreement_id: str | None = None
    region: str | None = None
    start: date | None = None
    end: date | None = None
    status: str | None = None


_MEETING_DAY = "coalesce(held_on, (scheduled_for AT TIME ZONE 'Europe/Oslo')::date)"
# overdue_at is the mark the domain's overdue decision leaves (MarkOverdue); the listing reads it, it does not
# recompute when an item falls due.
_ITEM_STATUS = (
    "CASE WHEN completed_on IS NOT NULL THEN 'closed' WHEN overdue_at IS NOT NULL THEN 'overdue' ELSE 'open' END"
)


async def list_meetings(conn: Connection, where: Filter) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT agreement_id, meeting_id, kind, coalesce(region, 'national') AS region, status,"
        f"   {_MEETING_DAY} AS day, scheduled_for, held_on, title, organiser,"
        f"   coalesce(jsonb_array_length(minutes -> 'decisions'), 0) AS decisions,"
        f"   coalesce(jsonb_array_length(minutes -> 'action_items'), 0) AS action_items"
        f" FROM meetings"
        f" WHERE ($1::text IS NULL OR agreement_id = $1)"
        f"   AND ($2::text IS NULL OR coalesce(region, 'national') = $2)"
        f"   AND ($3::date IS NULL OR {_MEETING_DAY} >= $3)"
        f"   AND ($4::date IS NULL OR {_MEETING_DAY} <= $4)"
        f"   AND ($5::text IS NULL OR status = $5)"
        f" ORDER BY day NULLS LAST, agreement_id, meeting_id",
        where.agreement_id,
        where.region,
        where.start,
        where.end,
        where.status,
    )
    return [dict(r) for r in rows]


async def list_action_items(conn: Connection, where: Filter) -> list[dict[str, Any]]:
    """Items due in the period; status 'open' means not completed (overdue items are still open)."""
    rows = await conn.fetch(
        f"SELECT agreement_id, action_item_id, meeting_id, coalesce(region, 'national') AS region, owner,"
        f"   due_on, {_ITEM_STATUS} AS status, completed_on, closed_late AS late, text"
        f" FROM action_items"
        f" WHERE ($1::text IS NULL OR agreement_id = $1)"
        f"   AND ($2::text IS NULL OR coalesce(region, 'national') = $2)"
        f"   AND ($3::date IS NULL OR due_on >= $3)"
        f"   AND ($4::date IS NULL OR due_on <= $4)"
        f"   AND ($5::text IS NULL OR ($5 = 'open' AND completed_on IS NULL) OR {_ITEM_STATUS} = $5)"
        f" ORDER BY due_on, agreement_id, action_item_id",
        where.agreement_id,
        where.region,
        where.start,
        where.end,
        where.status,
    )
    return [dict(r) for r in rows]
