"""The applier writes a decision's changes in their order, a meeting together with the items agreed at it: one
statement where a held meeting took two, each item as assigned (and overdue when the decision says so)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from contracts.events.meetings import MeetingKind, MeetingStatus
from runtime import db
from services.meetings import applier
from services.meetings.app import MIGRATIONS
from services.meetings.decisions import AddActionItem, Decision, MarkOverdue, RecordLevelHeld, SaveMeeting
from services.meetings.state import Meeting, OpenItem
from tests.support.infra import Infra

AGREEMENT = "leve-hele-livet-2019-2023"
NOW = datetime(2022, 5, 2, 8, tzinfo=UTC)


class Counting:
    """The real connection, counting the statements sent through it (each a round trip)."""

    def __init__(self, conn: db.Connection) -> None:
        self._conn = conn
        self.statements: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._conn, name)
        if name not in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
            return method

        async def counted(query: str, *args: Any, **kwargs: Any) -> Any:
            self.statements.append(query)
            return await method(query, *args, **kwargs)

        return counted


@pytest.fixture
async def pool(infra: Infra, run_id: str) -> AsyncIterator[db.Pool]:
    created = await db.create_pool(infra.database_url, f"t{run_id}_applier", min_size=1, max_size=1)
    await db.migrate(created, [db.RUNTIME_MIGRATIONS, MIGRATIONS])
    try:
        yield created
    finally:
        await created.close()


def meeting(meeting_id: str) -> Meeting:
    return Meeting(meeting_id, AGREEMENT, MeetingKind.REGIONAL, "vestland", MeetingStatus.HELD, title="Kontaktmøte")


def item(meeting_id: str, n: int, due_on: date) -> OpenItem:
    return OpenItem(f"{meeting_id}-a{n}", meeting_id, AGREEMENT, "vestland", "ks-vestland", f"Oppgave {n}", due_on)


async def apply(pool: db.Pool, decision: Decision) -> list[str]:
    async with pool.acquire() as conn, conn.transaction():
        counting = Counting(conn)
        await applier.apply(decision, conn=cast(db.Connection, counting), emitter=None, now=NOW)
    return counting.statements


async def items_of(pool: db.Pool, meeting_id: str) -> dict[str, tuple[datetime, datetime | None]]:
    rows = await pool.fetch(
        "SELECT action_item_id, assigned_at, overdue_at FROM action_items WHERE meeting_id = $1", meeting_id
    )
    return {r["action_item_id"]: (r["assigned_at"], r["overdue_at"]) for r in rows}


async def test_a_meeting_and_the_items_agreed_at_it_are_one_statement_with_the_overdue_one_marked(
    pool: db.Pool,
) -> None:
    past, future = item("m1", 0, date(2022, 4, 1)), item("m1", 1, date(2022, 9, 1))
    decision = Decision(
        changes=(SaveMeeting(meeting("m1")), AddActionItem(past), AddActionItem(future), MarkOverdue(past))
    )

    statements = await apply(pool, decision)

    assert len(statements) == 1, statements
    assert await pool.fetchval("SELECT status FROM meetings WHERE meeting_id = 'm1'") == "held"
    assert await items_of(pool, "m1") == {past.action_item_id: (NOW, NOW), future.action_item_id: (NOW, None)}


async def test_a_meeting_without_new_items_and_items_without_a_meeting_are_written_in_their_order(
    pool: db.Pool,
) -> None:
    first, second = item("m2", 0, date(2022, 9, 1)), item("m2", 1, date(2022, 4, 1))
    decision = Decision(
        changes=(
            AddActionItem(first),
            SaveMeeting(meeting("m2")),
            RecordLevelHeld(AGREEMENT, "vestland", date(2022, 5, 1)),
            AddActionItem(second),
            MarkOverdue(second),
        )
    )

    statements = await apply(pool, decision)

    tables = [s.split("INTO ")[1].split(" ")[0] for s in statements]
    assert tables == ["action_items", "meetings", "meeting_levels", "action_items"]
    assert "action_items" not in statements[1], "a meeting with no new items after it is saved alone"
    assert await items_of(pool, "m2") == {first.action_item_id: (NOW, None), second.action_item_id: (NOW, NOW)}
    assert await pool.fetchval("SELECT last_held_on FROM meeting_levels") == date(2022, 5, 1)


async def test_saving_a_meeting_again_with_more_items_updates_it_and_adds_only_those(pool: db.Pool) -> None:
    await apply(pool, Decision(changes=(SaveMeeting(meeting("m3")), AddActionItem(item("m3", 0, date(2022, 9, 1))))))
    cancelled = Meeting("m3", AGREEMENT, MeetingKind.REGIONAL, "vestland", MeetingStatus.CANCELLED, cancel_reason="x")

    await apply(pool, Decision(changes=(SaveMeeting(cancelled), AddActionItem(item("m3", 1, date(2022, 9, 1))))))

    assert await pool.fetchval("SELECT status FROM meetings WHERE meeting_id = 'm3'") == "cancelled"
    assert set(await items_of(pool, "m3")) == {"m3-a0", "m3-a1"}
