"""The meetings service's SQL for its write side: meetings, action items, early completions and meeting levels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from asyncpg import Record

from contracts.events.meetings import ActionItemCompleted, ContactMeetingHeld, MeetingKind, MeetingStatus
from contracts.topics import NATIONAL
from runtime.db import Connection, JsonText
from runtime.writes import Executes
from services.meetings.state import Meeting, OpenItem, Plan


@dataclass(frozen=True)
class BeforeMinutes:
    """What the rules need to record held minutes, read in one round trip (five statements cost five), with a
    batch's other minutes."""

    terminated_from: date | None
    meeting: Meeting | None
    known: dict[str, str]
    """Already assigned items among the minutes' items, mapped to the meeting they were agreed at."""
    early: dict[str, ActionItemCompleted]
    """Completions among the minutes' items that arrived before their item was assigned."""
    level_held_before: date | None


def level_key(region: str | None) -> str:
    """The key of a level's row: its region, or the national level's."""
    return region or NATIONAL


async def load_before_minutes(
    conn: Connection, held: Sequence[tuple[ContactMeetingHeld, str | None]]
) -> list[BeforeMinutes]:
    """For each held minutes (with the key of its level when that level is watched, else None), in their order:
    the termination, the meeting (locked, as load_meeting locks it), the minutes' known items, their early
    completions, and the latest held date of the level. The completions and the level are locked until the
    transaction ends, so two minutes of one level cannot both decide from one date. One round trip for them all: a
    batch's minutes are read together (services.meetings.read_ahead).

    The consumer's plans are generic and made while the tables may still be empty (`db.create_pool`), so each
    lookup has one sensible plan whatever the statistics: the items one primary-key lookup per id (a subquery
    with LIMIT is not flattened), where `action_item_id = ANY(...)` was planned as a scan of the agreement's
    items, all of them with one agreement, filtered by id. Each minutes' items are found once, grouped by minutes
    and joined to them: a subquery per minutes over all the batch's items made the statement quadratic (28 ms for
    280 minutes)."""
    items = [(n, item.action_item_id) for n, (minutes, _) in enumerate(held, 1) for item in minutes.action_items]
    rows = await conn.fetch(
        "WITH wanted AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY"
        "   AS w(agreement_id, meeting_id, level_key, n)),"
        " items AS (SELECT w.n, w.agreement_id, i.id FROM unnest($4::bigint[], $5::text[]) AS i(n, id)"
        "   JOIN wanted w ON w.n = i.n),"
        " known AS (SELECT i.n, jsonb_object_agg(i.id, a.meeting_id) AS found FROM items i"
        "   CROSS JOIN LATERAL (SELECT meeting_id FROM action_items"
        "     WHERE agreement_id = i.agreement_id AND action_item_id = i.id LIMIT 1) a GROUP BY i.n),"
        " early AS (SELECT i.n, jsonb_object_agg(i.id, e.completion) AS found FROM items i"
        "   CROSS JOIN LATERAL (SELECT completion FROM early_completions"
        "     WHERE agreement_id = i.agreement_id AND action_item_id = i.id LIMIT 1 FOR UPDATE) e GROUP BY i.n)"
        " SELECT w.n AS wanted, m.*,"
        " (SELECT terminated_from FROM agreement_terminations t WHERE t.agreement_id = w.agreement_id)"
        "   AS known_termination,"
        " k.found AS known_items, e.found AS early_items,"
        " (SELECT last_held_on FROM meeting_levels l"
        "   WHERE l.agreement_id = w.agreement_id AND l.level_key = w.level_key FOR UPDATE) AS level_held_before"
        " FROM wanted w LEFT JOIN known k ON k.n = w.n LEFT JOIN early e ON e.n = w.n"
        " LEFT JOIN LATERAL (SELECT * FROM meetings"
        "   WHERE agreement_id = w.agreement_id AND meeting_id = w.meeting_id FOR UPDATE) m ON true"
        " ORDER BY w.n",
        [minutes.agreement_id for minutes, _ in held],
        [minutes.meeting_id for minutes, _ in held],
        [level for _, level in held],
        [n for n, _ in items],
        [item for _, item in items],
    )
    if len(rows) != len(held):  # the query's FROM is one row per minutes, whatever the tables hold
        raise RuntimeError(f"load_before_minutes found {len(rows)} rows for {len(held)} minutes")
    return [_before(row) for row in rows]


def _before(row: Record) -> BeforeMinutes:
    early = row["early_items"] or {}
    return BeforeMinutes(
        terminated_from=row["known_termination"],
        meeting=_meeting_of(row) if row["meeting_id"] is not None else None,
        known=row["known_items"] or {},
        early={item: ActionItemCompleted.model_validate(completion) for item, completion in early.items()},
        level_held_before=row["level_held_before"],
    )


async def load_meeting(conn: Connection, agreement_id: str, meeting_id: str) -> Meeting | None:
    # Locked so two events about one meeting on different partitions cannot interleave their read and write.
    row = await conn.fetchrow(
        "SELECT * FROM meetings WHERE agreement_id = $1 AND meeting_id = $2 FOR UPDATE", agreement_id, meeting_id
    )
    return _meeting_of(row) if row is not None else None


def _meeting_of(row: Record) -> Meeting:
    plan = None
    if row["scheduled_for"] is not None:
        plan = Plan(row["scheduled_for"], row["plan_stated_at"], bool(row["plan_rescheduling"]))
    minutes = ContactMeetingHeld.model_validate(row["minutes"]) if row["minutes"] is not None else None
    return Meeting(
        meeting_id=row["meeting_id"],
        agreement_id=row["agreement_id"],
        kind=MeetingKind(row["kind"]),
        region=row["region"],
        status=MeetingStatus(row["status"]),
        plan=plan,
        title=row["title"],
        organiser=row["organiser"],
        county=row["county"],
        minutes=minutes,
        cancel_reason=row["cancel_reason"],
    )


_SAVE_MEETING = (
    "INSERT INTO meetings (agreement_id, meeting_id, kind, region, status, scheduled_for, held_on, minutes,"
    "   updated_at, title, organiser, county, plan_stated_at, plan_rescheduling, cancel_reason)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    " ON CONFLICT (agreement_id, meeting_id) DO UPDATE SET status = EXCLUDED.status,"
    "   scheduled_for = EXCLUDED.scheduled_for, held_on = EXCLUDED.held_on, minutes = EXCLUDED.minutes,"
    "   updated_at = EXCLUDED.updated_at, title = EXCLUDED.title, organiser = EXCLUDED.organiser,"
    "   county = EXCLUDED.county, plan_stated_at = EXCLUDED.plan_stated_at,"
    "   plan_rescheduling = EXCLUDED.plan_rescheduling, cancel_reason = EXCLUDED.cancel_reason"
)


def _add_items(first: int, now: str) -> str:
    """INSERT of the items given as eight arrays, parameters `first` on, assigned at `now`."""
    arrays = ", ".join(f"${first + n}::{kind}[]" for n, kind in enumerate(("text",) * 6 + ("date", "boolean")))
    return (
        "INSERT INTO action_items"
        " (agreement_id, action_item_id, meeting_id, region, owner, text, due_on, assigned_at, overdue_at)"
        f" SELECT i.agreement_id, i.action_item_id, i.meeting_id, i.region, i.owner, i.text, i.due_on, {now},"
        f"   CASE WHEN i.overdue THEN {now} END"
        f" FROM unnest({arrays}) AS i(agreement_id, action_item_id, meeting_id, region, owner, text, due_on, overdue)"
    )


_SAVE_MEETING_WITH_ITEMS = f"WITH saved AS ({_SAVE_MEETING}) {_add_items(16, '$9')}"
"""The meeting and the items agreed at it in one statement, so one round trip: a held meeting took three (the
load before it, the meeting, its items), and a round trip costs the service about 0.1 ms of CPU on this machine."""
_ADD_ITEMS = _add_items(1, "$9::timestamptz")


async def save_meeting(
    writes: Executes, meeting: Meeting, now: datetime, new_items: Mapping[OpenItem, bool] | None = None
) -> None:
    """The meeting, and the items newly agreed at it (each with whether it is overdue already) in the same
    statement."""
    plan = meeting.plan
    columns = (
        meeting.agreement_id,
        meeting.meeting_id,
        meeting.kind.value,
        meeting.region,
        meeting.status.value,
        plan.scheduled_for if plan else None,
        meeting.minutes.held_on if meeting.minutes else None,
        JsonText(meeting.minutes.model_dump_json()) if meeting.minutes else None,
        now,
        meeting.title,
        meeting.organiser,
        meeting.county,
        plan.stated_at if plan else None,
        plan.rescheduling if plan else None,
        meeting.cancel_reason,
    )
    if new_items:
        await writes.execute(_SAVE_MEETING_WITH_ITEMS, *columns, *_item_columns(new_items))
    else:
        await writes.execute(_SAVE_MEETING, *columns)


async def add_action_items(writes: Executes, items: Mapping[OpenItem, bool], now: datetime) -> None:
    """The items, each with whether it is overdue already, in one statement."""
    await writes.execute(_ADD_ITEMS, *_item_columns(items), now)


def _item_columns(items: Mapping[OpenItem, bool]) -> tuple[list[object], ...]:
    """The items as the eight arrays `_add_items` unnests."""
    return (
        [i.agreement_id for i in items],
        [i.action_item_id for i in items],
        [i.meeting_id for i in items],
        [i.region for i in items],
        [i.owner for i in items],
        [i.text for i in items],
        [i.due_on for i in items],
        list(items.values()),
    )


async def load_action_item(conn: Connection, agreement_id: str, action_item_id: str) -> OpenItem | None:
    row = await conn.fetchrow(
        "SELECT * FROM action_items WHERE agreement_id = $1 AND action_item_id = $2 FOR UPDATE",
        agreement_id,
        action_item_id,
    )
    if row is None:
        return None
    return OpenItem(
        action_item_id=row["action_item_id"],
        meeting_id=row["meeting_id"],
        agreement_id=row["agreement_id"],
        region=row["region"],
        owner=row["owner"],
        text=row["text"],
        due_on=row["due_on"],
        completed_on=row["completed_on"],
    )


async def close_action_item(writes: Executes, item: OpenItem, completed: ActionItemCompleted, late: bool) -> None:
    await writes.execute(
        "UPDATE action_items SET completed_on = $3, completed_by = $4, closed_late = $5"
        " WHERE agreement_id = $1 AND action_item_id = $2",
        item.agreement_id,
        item.action_item_id,
        completed.completed_on,
        completed.completed_by,
        late,
    )


async def mark_overdue(writes: Executes, item: OpenItem, now: datetime) -> None:
    await writes.execute(
        "UPDATE action_items SET overdue_at = $3 WHERE agreement_id = $1 AND action_item_id = $2",
        item.agreement_id,
        item.action_item_id,
        now,
    )


async def remember_completion(writes: Executes, completed: ActionItemCompleted, now: datetime) -> None:
    """Keep a completion whose item is not assigned yet; the first one reported wins."""
    await writes.execute(
        "INSERT INTO early_completions (agreement_id, action_item_id, completion, received_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        completed.agreement_id,
        completed.action_item_id,
        completed.model_dump(mode="json"),
        now,
    )


async def forget_early_completion(writes: Executes, agreement_id: str, action_item_id: str) -> None:
    await writes.execute(
        "DELETE FROM early_completions WHERE agreement_id = $1 AND action_item_id = $2", agreement_id, action_item_id
    )


async def start_watching_level(conn: Connection, agreement_id: str, region: str | None, now: datetime) -> bool:
    """Start watching a level that has no row yet; returns whether it was new."""
    row = await conn.fetchrow(
        "INSERT INTO meeting_levels (agreement_id, level_key, region, last_held_on, updated_at)"
        " VALUES ($1, $2, $3, NULL, $4) ON CONFLICT DO NOTHING RETURNING level_key",
        agreement_id,
        level_key(region),
        region,
        now,
    )
    return row is not None


async def record_level_held(
    writes: Executes, agreement_id: str, region: str | None, held_on: date, now: datetime
) -> None:
    """Note a meeting held at the level; the level keeps its latest held date."""
    await writes.execute(
        "INSERT INTO meeting_levels (agreement_id, level_key, region, last_held_on, updated_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agreement_id, level_key) DO UPDATE SET"
        "   last_held_on = GREATEST(meeting_levels.last_held_on, EXCLUDED.last_held_on),"
        "   updated_at = EXCLUDED.updated_at",
        agreement_id,
        level_key(region),
        region,
        held_on,
        now,
    )


async def last_held_on(conn: Connection, agreement_id: str, region: str | None) -> date | None:
    found: date | None = await conn.fetchval(
        "SELECT last_held_on FROM meeting_levels WHERE agreement_id = $1 AND level_key = $2",
        agreement_id,
        level_key(region),
    )
    return found


async def record_termination(
    writes: Executes, agreement_id: str, terminated_from: date, given_by: str, learnt_from: str, now: datetime
) -> None:
    """Note an accepted termination; the earliest effective date stands."""
    await writes.execute(
        "INSERT INTO agreement_terminations (agreement_id, terminated_from, given_by, learnt_from, recorded_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agreement_id) DO UPDATE SET"
        "   terminated_from = LEAST(agreement_terminations.terminated_from, EXCLUDED.terminated_from)",
        agreement_id,
        terminated_from,
        given_by,
        learnt_from,
        now,
    )


async def terminated_from(conn: Connection, agreement_id: str) -> date | None:
    found: date | None = await conn.fetchval(
        "SELECT terminated_from FROM agreement_terminations WHERE agreement_id = $1", agreement_id
    )
    return found
