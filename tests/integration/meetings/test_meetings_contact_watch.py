"""A level or region that stops meeting is noticed once per gap, counted from its latest meeting, within the term."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from contracts import topics
from contracts.events.meetings import MeetingKind
from runtime.clock import ManualClock
from runtime.lifecycle import ServiceRuntime
from tests.integration.meetings.helpers import meetings_app, of_type, publish
from tests.support.infra import Infra
from tests.support.kafka import Bus
from tests.support.services import running
from tests.unit.meetings.builders import held, new_id

NATIONAL_DUE = datetime(2022, 7, 8, 22, tzinfo=UTC)  # 00:00 Oslo on 2022-07-09: 121 days after 2022-03-10
VESTLAND_DUE = datetime(2022, 8, 29, 22, tzinfo=UTC)  # 00:00 Oslo on 2022-08-30: 121 days after 2022-05-01


def overdue_after_a_meeting(events: list[dict[str, Any]], region: str | None) -> list[tuple[str, str, str]]:
    return [
        (e["data"]["last_held_on"], e["data"]["overdue_since"], e["time"])
        for e in of_type(events, "contact-meetings.overdue")
        if e["data"]["region"] == region and e["data"]["last_held_on"] is not None
    ]


async def hold_and_wait(bus: Bus, meeting_id: str, **options: Any) -> None:
    await publish(bus, held(meeting_id, **options))
    await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "recorded", f"meeting/{meeting_id}")) == 1)


async def fire_at(runtime: ServiceRuntime, clock: ManualClock, moment: datetime) -> None:
    assert runtime.timers is not None
    clock.set(moment)
    await runtime.timers.fire_due()


async def test_contact_meetings_overdue_once_per_gap_from_the_latest_meeting_and_never_beyond_the_term(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2022, 3, 12, 12, tzinfo=UTC))
    national = {"kind": MeetingKind.NATIONAL, "region": None}
    async with running(meetings_app(infra, run_id, clock)) as runtime:
        await fire_at(runtime, clock, clock.now())
        await hold_and_wait(bus, new_id("m"), held_on=date(2022, 3, 10), **national)
        await hold_and_wait(bus, new_id("m"), held_on=date(2022, 5, 1))
        # An older meeting arriving late does not pull the region's watch back.
        await hold_and_wait(bus, new_id("m"), held_on=date(2022, 3, 1))
        await fire_at(runtime, clock, datetime(2022, 7, 8, 21, 59, 59, tzinfo=UTC))
        await fire_at(runtime, clock, NATIONAL_DUE)
        await fire_at(runtime, clock, datetime(2022, 8, 29, 21, 59, 59, tzinfo=UTC))
        await fire_at(runtime, clock, VESTLAND_DUE)
        # Meetings late in the term arm nothing: their next gap would end after 2023-12-31.
        await hold_and_wait(bus, new_id("m"), held_on=date(2023, 10, 2), **national)
        await fire_at(runtime, clock, datetime(2024, 6, 1, tzinfo=UTC))
        marker = new_id("m")
        await hold_and_wait(bus, marker, held_on=date(2023, 11, 1))
        events = await bus.events(
            topics.MEETINGS_EVENTS, lambda es: any(e.get("subject") == f"meeting/{marker}" for e in es)
        )

    never_met = [e for e in of_type(events, "contact-meetings.overdue") if e["data"]["last_held_on"] is None]
    offices = ["oslo-viken", "innlandet", "vestfold-telemark", "agder", "rogaland", "vestland", "more-romsdal"]
    offices += ["trondelag", "nordland", "troms-finnmark"]
    assert sorted(e["data"]["region"] or "national" for e in never_met) == sorted(["national", *offices])
    assert {e["data"]["overdue_since"] for e in never_met} == {"2019-05-02"}
    assert overdue_after_a_meeting(events, None) == [("2022-03-10", "2022-07-09", "2022-07-08T22:00:00Z")]
    assert overdue_after_a_meeting(events, "vestland") == [("2022-05-01", "2022-08-30", "2022-08-29T22:00:00Z")]
