"""Out-of-order and duplicate deliveries end in the same state as the same facts delivered in order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE, EVENT_ID
from runtime.clock import ManualClock
from runtime.lifecycle import ServiceRuntime
from tests.integration.meetings.helpers import meetings_app, of_type, publish, wait_until
from tests.support.infra import Infra
from tests.support.kafka import Bus, headers_of
from tests.support.services import fetch, running
from tests.unit.meetings.builders import cancelled, completed, held, item, new_id, rescheduled, scheduled

STATED = datetime(2022, 1, 5, 12, tzinfo=UTC)
LATER = datetime(2022, 2, 1, 12, tzinfo=UTC)
FIRST_PLAN = datetime(2022, 3, 3, 9, tzinfo=UTC)
NEW_PLAN = datetime(2022, 3, 10, 9, tzinfo=UTC)


def minutes(meeting_id: str) -> Any:
    items = (item(f"{meeting_id}-1", due_on=date(2022, 4, 8)), item(f"{meeting_id}-2", due_on=date(2022, 5, 2)))
    return held(meeting_id, items=items)


async def final_state(runtime: ServiceRuntime, meeting_id: str) -> dict[str, Any]:
    """What the service holds about the meeting, with its own id taken out so two meetings compare."""
    meeting = await fetch(
        runtime,
        "SELECT status, scheduled_for, held_on, title, organiser, county, cancel_reason, minutes -> 'decisions' AS d"
        " FROM meetings WHERE meeting_id = $1",
        meeting_id,
    )
    items = await fetch(
        runtime,
        "SELECT replace(action_item_id, $1, '') AS item, owner, due_on, completed_on, closed_late"
        " FROM action_items WHERE meeting_id = $1 ORDER BY action_item_id",
        meeting_id,
    )
    timers = await fetch(
        runtime,
        "SELECT replace(timer_key, $1, '') AS key, due_at FROM timers"
        " WHERE starts_with(timer_key, 'action-item/') AND strpos(timer_key, $1) > 0"
        "   AND fired_at IS NULL AND cancelled_at IS NULL ORDER BY timer_key",
        meeting_id,
    )
    return {
        "meeting": [{k: v for k, v in dict(r).items() if k != "d"} for r in meeting],
        "decisions": [len(r["d"]) for r in meeting],
        "items": [dict(r) for r in items],
        "pending_timers": [dict(r) for r in timers],
    }


def story(events: list[dict[str, Any]], meeting_id: str) -> dict[str, Any]:
    """The derived events a consumer saw: the meeting's last recorded state and each item's event types."""
    recorded = of_type(events, "recorded", f"meeting/{meeting_id}")
    last = {k: v for k, v in recorded[-1]["data"].items() if k != "meeting_id"} if recorded else None
    kinds = {
        n: [e["type"].split(".")[3] for e in events if e.get("subject") == f"action-item/{meeting_id}-{n}"]
        for n in (1, 2)
    }
    return {"last_recorded": last, "item_events": kinds}


async def test_out_of_order_and_duplicate_deliveries_end_in_the_same_state_as_in_order(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2022, 3, 12, 12, tzinfo=UTC))
    in_order, shuffled = new_id("m"), new_id("m")
    async with running(meetings_app(infra, run_id, clock)) as runtime:
        await publish(bus, scheduled(in_order, at=FIRST_PLAN), at=STATED)
        await publish(bus, rescheduled(in_order, at=NEW_PLAN), at=LATER)
        await publish(bus, minutes(in_order))
        await publish(bus, completed(f"{in_order}-1", in_order), region="vestland")

        await publish(bus, completed(f"{shuffled}-1", shuffled), region="vestland")
        minutes_event = await publish(bus, minutes(shuffled))
        await bus.publish_event(topics.MEETINGS_INGRESS, minutes_event)
        await publish(bus, rescheduled(shuffled, at=NEW_PLAN), at=LATER)
        await publish(bus, scheduled(shuffled, at=FIRST_PLAN), at=STATED)
        await publish(bus, completed(f"{shuffled}-1", shuffled, on=date(2022, 3, 25)), region="vestland")
        cancel = await publish(bus, cancelled(shuffled))

        await wait_until(lambda: fetch(runtime, "SELECT event_id FROM inbox"), lambda rows: len(rows) == 10)
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 1)
        events = await bus.events(
            topics.MEETINGS_EVENTS,
            lambda es: (
                len(of_type(es, "recorded", f"meeting/{shuffled}")) == 2
                and len(of_type(es, "closed", f"action-item/{in_order}-1")) == 1
            ),
        )
        expected, actual = await final_state(runtime, in_order), await final_state(runtime, shuffled)

    assert expected["meeting"][0]["status"] == "held"
    assert expected["meeting"][0]["scheduled_for"] == NEW_PLAN
    assert [i["completed_on"] for i in expected["items"]] == [date(2022, 3, 20), None]
    assert len(expected["pending_timers"]) == 2
    assert actual == expected
    assert story(events, shuffled) == story(events, in_order)
    assert story(events, in_order)["item_events"] == {1: ["assigned", "closed"], 2: ["assigned"]}
    [letter] = [r for r in letters if headers_of(r)[EVENT_ID] == cancel.id]
    assert headers_of(letter)[ERROR_CLASS] == "rule_violated"
    assert "a held meeting cannot be cancelled" in headers_of(letter)[ERROR_MESSAGE]
