"""Action items of a held meeting: assigned, reminded and warned at the right clock times, closed on completion."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from contracts import topics
from runtime.clock import ManualClock
from services.meetings import read_model
from tests.integration.meetings.helpers import meetings_app, of_type, publish
from tests.support.infra import Infra
from tests.support.kafka import Bus
from tests.support.services import running
from tests.unit.meetings.builders import completed, held, item, new_id

START = datetime(2022, 3, 10, 12, tzinfo=UTC)
DUE = date(2022, 4, 8)
DUE_SOON_AT = datetime(2022, 3, 31, 22, tzinfo=UTC)  # 00:00 in Oslo (summer time) seven days before DUE
OVERDUE_AT = datetime(2022, 4, 8, 22, tzinfo=UTC)  # 00:00 in Oslo the day after DUE


def at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["time"])


async def test_a_held_meeting_assigns_its_items_reminds_at_oslo_midnight_and_warns_when_overdue(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(START)
    meeting_id, open_id, done_id = new_id("m"), new_id("a"), new_id("a")
    minutes = held(meeting_id, items=(item(open_id, due_on=DUE), item(done_id, due_on=DUE, owner="kommune-4601")))
    open_subject, done_subject = f"action-item/{open_id}", f"action-item/{done_id}"
    async with running(meetings_app(infra, run_id, clock)) as runtime:
        assert runtime.timers is not None
        cause = await publish(bus, minutes)
        await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "assigned", done_subject)) == 1)
        clock.set(datetime(2022, 3, 31, 21, 59, 59, tzinfo=UTC))
        await runtime.timers.fire_due()
        await publish(bus, completed(done_id, meeting_id, on=date(2022, 3, 30), by="kommune-4601"), region="vestland")
        await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "closed", done_subject)) == 1)
        clock.set(DUE_SOON_AT)
        await runtime.timers.fire_due()
        clock.set(datetime(2022, 4, 8, 21, 59, 59, tzinfo=UTC))
        await runtime.timers.fire_due()
        clock.set(OVERDUE_AT)
        await runtime.timers.fire_due()
        events = await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "overdue", open_subject)) == 1)
        async with runtime.pool.acquire() as conn:
            listed = await read_model.list_action_items(conn, read_model.Filter(region="vestland", status="overdue"))

    assigned = of_type(events, "assigned", open_subject) + of_type(events, "assigned", done_subject)
    assert [(e["data"]["owner"], e["data"]["due_on"]) for e in assigned] == [
        ("ks-vestland", "2022-04-08"),
        ("kommune-4601", "2022-04-08"),
    ]
    assert all(e["correlationid"] == cause.correlationid for e in assigned)
    [due_soon] = of_type(events, "due-soon", open_subject)
    assert (at(due_soon), due_soon["data"]["days_left"]) == (DUE_SOON_AT, 7)
    assert due_soon["correlationid"] == cause.correlationid
    [overdue] = of_type(events, "overdue", open_subject)
    assert (at(overdue), overdue["data"]["owner"], overdue["data"]["meeting_id"]) == (
        OVERDUE_AT,
        "ks-vestland",
        meeting_id,
    )
    [closed] = of_type(events, "closed", done_subject)
    assert (closed["data"]["completed_on"], closed["data"]["late"]) == ("2022-03-30", False)
    assert of_type(events, "due-soon", done_subject) == []
    assert of_type(events, "overdue", done_subject) == []
    assert [(r["action_item_id"], r["status"]) for r in listed] == [(open_id, "overdue")]


async def test_minutes_arriving_after_an_item_fell_due_mark_it_overdue_and_announce_it_at_once(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    """Late minutes (or a replay): the warning follows the assignment from the same transaction, with no timer."""
    clock = ManualClock(OVERDUE_AT)
    meeting_id, late_id = new_id("m"), new_id("a")
    subject = f"action-item/{late_id}"
    async with running(meetings_app(infra, run_id, clock)) as runtime:
        cause = await publish(bus, held(meeting_id, items=(item(late_id, due_on=DUE),)))
        events = await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "overdue", subject)) == 1)
        async with runtime.pool.acquire() as conn:
            listed = await read_model.list_action_items(conn, read_model.Filter(region="vestland", status="overdue"))
            timers = await conn.fetchval("SELECT count(*) FROM timers WHERE timer_key LIKE '%' || $1 || '%'", late_id)

    mine = [e for e in events if e.get("subject") == subject]
    assert [e["type"].split(".")[3] for e in mine] == ["assigned", "overdue"]
    [overdue] = of_type(events, "overdue", subject)
    assert (at(overdue), overdue["correlationid"], overdue["data"]["due_on"]) == (
        OVERDUE_AT,
        cause.correlationid,
        "2022-04-08",
    )
    assert [(r["action_item_id"], r["status"]) for r in listed] == [(late_id, "overdue")]
    assert timers == 0
