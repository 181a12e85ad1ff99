"""The meetings service's SQL: the only module that speaks to its tables."""

from __future__ import annotations

from datetime import datetime

from contracts.events.meetings import ActionItem, ContactMeetingHeld
from runtime.db import Connection


async def record_held(conn: Connection, meeting: ContactMeetingHeld, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO meetings (agreement_id, meeting_id, kind, region, status, held_on, minutes, updated_at)"
        " VALUES ($1, $2, $3, $4, 'held', $5, $6, $7)"
        " ON CONFLICT (agreement_id, meeting_id) DO UPDATE SET kind = EXCLUDED.kind, region = EXCLUDED.region,"
        "   status = 'held', held_on = EXCLUDED.held_on, minutes = EXCLUDED.minutes, updated_at = EXCLUDED.updated_at",
        meeting.agreement_id,
        meeting.meeting_id,
        meeting.kind.value,
        meeting.region,
        meeting.held_on,
        meeting.model_dump(mode="json"),
        now,
    )


async def known_action_items(conn: Connection, agreement_id: str, ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT action_item_id FROM action_items WHERE agreement_id = $1 AND action_item_id = ANY($2::text[])",
        agreement_id,
        ids,
    )
    return {r["action_item_id"] for r in rows}


async def add_action_item(conn: Connection, meeting: ContactMeetingHeld, item: ActionItem, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO action_items"
        " (agreement_id, action_item_id, meeting_id, region, owner, text, due_on, assigned_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        meeting.agreement_id,
        item.action_item_id,
        meeting.meeting_id,
        meeting.region,
        item.owner,
        item.text,
        item.due_on,
        now,
    )


async def meeting_status(conn: Connection, agreement_id: str, meeting_id: str) -> str | None:
    status: str | None = await conn.fetchval(
        "SELECT status FROM meetings WHERE agreement_id = $1 AND meeting_id = $2", agreement_id, meeting_id
    )
    return status
