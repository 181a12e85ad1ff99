"""Every rule of the meetings service dead-letters a breaking event with a reason and a field path to act on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE, EVENT_ID
from contracts.events.base import EventData
from contracts.events.meetings import MeetingKind
from runtime.clock import ManualClock
from tests.integration.meetings.helpers import NATIONAL_SOURCE, meetings_app, of_type, publish, wait_until
from tests.support.infra import Infra
from tests.support.kafka import Bus, headers_of
from tests.support.services import fetch, running
from tests.unit.meetings.builders import cancelled, completed, held, item, new_id, scheduled


async def test_each_broken_rule_reaches_the_dead_letter_topic_with_its_reason_and_field(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2022, 3, 12, 12, tzinfo=UTC))
    held_id, planned_id, item_id = new_id("m"), new_id("m"), new_id("a")
    expected: dict[str, tuple[str, str]] = {}
    async with running(meetings_app(infra, run_id, clock)) as runtime:
        await publish(bus, held(held_id, items=(item(item_id),)))
        await publish(bus, scheduled(planned_id))

        async def rejected(event_data: EventData, reason: str, message: str, **options: Any) -> None:
            event = await publish(bus, event_data, **options)
            expected[event.id] = (reason, message)

        await rejected(cancelled(held_id), "rule_violated", "data.meeting_id: meeting '")
        await rejected(
            held(new_id("m"), participants=("sf-vestland", "nobody")),
            "invalid_reference",
            "data.participants.1: unknown organisation 'nobody'",
        )
        await rejected(
            held(new_id("m"), items=(item(new_id("a"), due_on=date(2022, 3, 1)),)),
            "invalid_data",
            "data.action_items.0.due_on: 2022-03-01 is before the meeting was held",
        )
        await rejected(
            held(planned_id, kind=MeetingKind.NATIONAL, region=None),
            "rule_violated",
            "data.kind/data.region:",
            region="vestland",
            source=NATIONAL_SOURCE,
        )
        await rejected(
            held(new_id("m")),
            "unauthorised_source",
            "source: '/ks/vestland' is registered for 'ks-vestland', not for 'sf-vestland' named in data.organiser",
            source="/ks/vestland",
        )
        await rejected(
            cancelled(planned_id),
            "unauthorised_source",
            "source: '/ks/rogaland' is registered for 'ks-rogaland', which does not speak for region 'vestland'",
            source="/ks/rogaland",
        )
        await rejected(
            held(new_id("m"), items=(item(item_id),)),
            "rule_violated",
            f"data.action_items.0.action_item_id: '{item_id}' was already assigned at meeting '{held_id}'",
        )
        await rejected(
            completed(item_id, planned_id),
            "rule_violated",
            f"data.meeting_id: action item '{item_id}'",
            region="vestland",
        )
        await rejected(
            completed(item_id, held_id, by="nobody"),
            "invalid_reference",
            "data.completed_by: unknown organisation 'nobody'",
            region="vestland",
        )
        await rejected(
            held(new_id("m"), agreement_id="no-such-agreement"),
            "invalid_reference",
            "data.agreement_id: unknown agreement 'no-such-agreement'",
        )
        await rejected(
            scheduled(new_id("m"), at=datetime(2024, 2, 1, 9, tzinfo=UTC)),
            "rule_violated",
            "data.scheduled_for: 2024-02-01 is outside the agreement",
        )
        await rejected(
            scheduled(new_id("m"), organiser="nobody"), "invalid_reference", "data.organiser: unknown organisation"
        )
        await rejected(
            scheduled(new_id("m"), region=None),
            "invalid_data",
            "data.region: a regional meeting must name its county governor office",
        )

        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= len(expected))
        events = await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "recorded")) >= 2)
        stored = await wait_until(
            lambda: fetch(runtime, "SELECT meeting_id, status FROM meetings ORDER BY status"),
            lambda rows: len(rows) == 2,
        )

    got = {headers_of(r)[EVENT_ID]: (headers_of(r)[ERROR_CLASS], headers_of(r)[ERROR_MESSAGE]) for r in letters}
    assert set(got) == set(expected)
    for event_id, (reason, message) in expected.items():
        assert got[event_id][0] == reason, got[event_id]
        assert got[event_id][1].startswith(message), got[event_id]
    # Nothing rejected left a trace: the two valid meetings are as they were.
    assert [(r["meeting_id"], r["status"]) for r in stored] == [(held_id, "held"), (planned_id, "scheduled")]
    assert len(of_type(events, "assigned")) == 1
