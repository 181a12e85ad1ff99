"""The load before held minutes reads a handful of rows however many meetings and items the agreement has, even
with the consumer's generic plans made while the tables were empty (as they are when a service starts on a new
database and catches up on a backlog)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from contracts.events.meetings import ActionItem
from runtime import db
from services.meetings import repository
from services.meetings.app import MIGRATIONS
from tests.support.events import vestland_meeting_held
from tests.support.infra import Infra

AGREEMENT = "leve-hele-livet-2019-2023"
ROWS = 3000
READ = (
    "SELECT sum(pg_stat_get_xact_tuples_returned(c.oid)) FROM pg_class c"
    " WHERE c.oid IN ('meetings'::regclass, 'action_items'::regclass) OR c.oid IN"
    "   (SELECT indexrelid FROM pg_index WHERE indrelid IN ('meetings'::regclass, 'action_items'::regclass))"
)
"""Rows and index entries the current transaction's scans of the two tables returned."""


async def test_the_load_before_minutes_reads_its_keys_only_whatever_the_table_holds(infra: Infra, run_id: str) -> None:
    pool = await db.create_pool(infra.database_url, f"t{run_id}_bounded", min_size=1, max_size=1, generic_plans=True)
    try:
        await db.migrate(pool, [db.RUNTIME_MIGRATIONS, MIGRATIONS])
        async with pool.acquire() as conn, conn.transaction():  # the plan is made now, on empty tables
            await load(conn, ("m-new", ["m-new-a0", "m-new-a1"]))
        now = datetime(2022, 3, 10, tzinfo=UTC)
        await pool.executemany(
            "INSERT INTO meetings (agreement_id, meeting_id, kind, region, status, updated_at)"
            " VALUES ($1, $2, 'regional', 'vestland', 'held', $3)",
            [(AGREEMENT, f"m{n}", now) for n in range(ROWS)],
        )
        await pool.executemany(
            "INSERT INTO action_items (agreement_id, action_item_id, meeting_id, region, owner, text, due_on,"
            " assigned_at) VALUES ($1, $2, $3, 'vestland', 'ks-vestland', 'Kartlegge status', $4, $5)",
            [(AGREEMENT, f"m{n}-a0", f"m{n}", date(2022, 4, 1), now) for n in range(ROWS)],
        )

        async with pool.acquire() as conn, conn.transaction():
            [found] = await load(conn, ("m7", ["m7-a0", "m-new-a9"]))
            read = await conn.fetchval(READ)
        async with pool.acquire() as conn, conn.transaction():
            batch = await load(conn, ("m8", ["m8-a0"]), ("m-new", ["m-new-a1"]), ("m9", ["m9-a0", "m9-a7"]))
            read_for_batch = await conn.fetchval(READ)

        assert found.meeting is not None
        assert found.meeting.meeting_id == "m7"
        assert found.known == {"m7-a0": "m7"}
        assert read <= 4, f"the load read {read} rows of meetings and action items for one meeting and two items"
        assert [b.meeting.meeting_id if b.meeting else None for b in batch] == ["m8", None, "m9"]
        assert [b.known for b in batch] == [{"m8-a0": "m8"}, {}, {"m9-a0": "m9"}]
        assert read_for_batch <= 10, f"the load read {read_for_batch} rows for three meetings and four items"
    finally:
        await pool.close()


def item(action_item_id: str) -> ActionItem:
    return ActionItem(action_item_id=action_item_id, text="Kartlegge", owner="ks-vestland", due_on=date(2022, 4, 1))


async def load(conn: db.Connection, *wanted: tuple[str, list[str]]) -> list[repository.BeforeMinutes]:
    """Each meeting's minutes with the given items, at the watched level of Vestland, in one load."""
    held = [
        vestland_meeting_held(meeting_id).model_copy(update={"action_items": tuple(item(i) for i in item_ids)})
        for meeting_id, item_ids in wanted
    ]
    return await repository.load_before_minutes(conn, [(minutes, "vestland") for minutes in held])
