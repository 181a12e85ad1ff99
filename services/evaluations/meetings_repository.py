"""SQL of the meetings service's facts, kept only as far as the evaluation packet needs them."""

from __future__ import annotations

from datetime import date

from contracts.events.meetings import ActionItemAssigned, ActionItemClosed, ActionItemOverdue, ContactMeetingRecorded
from runtime.db import Connection
from runtime.writes import Writes
from services.evaluations.packet import HeldMeeting, OpenActionItem


async def record_meeting(writes: Writes, meeting: ContactMeetingRecorded) -> None:
    """Write-only (runtime.writes): no handler of the meetings' events reads these tables back."""
    await writes.execute(
        "INSERT INTO meetings_seen (agreement_id, meeting_id, kind, region, status, held_on)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (agreement_id, meeting_id) DO UPDATE SET"
        "   kind = EXCLUDED.kind, region = EXCLUDED.region, status = EXCLUDED.status, held_on = EXCLUDED.held_on",
        meeting.agreement_id,
        meeting.meeting_id,
        meeting.kind.value,
        meeting.region,
        meeting.status.value,
        meeting.held_on,
    )


async def meetings_held(conn: Connection, agreement_id: str, year: int) -> list[HeldMeeting]:
    rows = await conn.fetch(
        "SELECT kind, region, held_on FROM meetings_seen WHERE agreement_id = $1 AND status = 'held'"
        " AND held_on BETWEEN make_date($2, 1, 1) AND make_date($2, 12, 31) ORDER BY held_on, meeting_id",
        agreement_id,
        year,
    )
    return [HeldMeeting(r["kind"], r["region"], r["held_on"]) for r in rows]


async def record_action_item(
    writes: Writes,
    item: ActionItemAssigned | ActionItemOverdue | ActionItemClosed,
    *,
    overdue: bool = False,
    closed_on: date | None = None,
) -> None:
    """Upsert from any action-item event; flags only ever move forward (overdue stays, closed stays).

    `overdue` is set only from the meetings service's ActionItemOverdue: this service does not decide when an item
    falls due (see packet.OpenActionItem.overdue_on for the one place it reads a due date itself, and why). Write-only,
    as `record_meeting`.
    """
    await writes.execute(
        "INSERT INTO action_items_seen (agreement_id, action_item_id, owner, region, due_on, overdue, closed_on)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agreement_id, action_item_id) DO UPDATE SET"
        "   owner = EXCLUDED.owner, due_on = EXCLUDED.due_on,"
        "   overdue = action_items_seen.overdue OR EXCLUDED.overdue,"
        "   closed_on = COALESCE(action_items_seen.closed_on, EXCLUDED.closed_on)",
        item.agreement_id,
        item.action_item_id,
        item.owner,
        item.region,
        item.due_on,
        overdue,
        closed_on,
    )


async def open_action_items(conn: Connection, agreement_id: str) -> list[OpenActionItem]:
    rows = await conn.fetch(
        "SELECT action_item_id, owner, due_on, overdue FROM action_items_seen"
        " WHERE agreement_id = $1 AND closed_on IS NULL ORDER BY due_on, action_item_id",
        agreement_id,
    )
    return [OpenActionItem(r["action_item_id"], r["owner"], r["due_on"], r["overdue"]) for r in rows]
