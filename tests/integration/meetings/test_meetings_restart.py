"""A reminder that fell due while the service was stopped fires exactly once when it comes back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from contracts import topics
from runtime.clock import ManualClock
from tests.integration.meetings.helpers import meetings_app, of_type, publish
from tests.support.infra import Infra
from tests.support.kafka import Bus
from tests.support.services import running
from tests.unit.meetings.builders import held, item, new_id

START = datetime(2022, 3, 10, 12, tzinfo=UTC)


async def test_an_overdue_warning_due_while_stopped_fires_once_after_restart_and_never_again(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(START)
    meeting_id, item_id = new_id("m"), new_id("a")
    subject = f"action-item/{item_id}"
    async with running(meetings_app(infra, run_id, clock)):
        await publish(bus, held(meeting_id, items=(item(item_id, due_on=date(2022, 4, 8)),)))
        await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "assigned", subject)) == 1)

    # Both the due-soon reminder and the overdue warning fall due while nothing runs.
    clock.advance(timedelta(days=60))
    async with running(meetings_app(infra, run_id, clock)) as runtime:
        assert runtime.timers is not None
        await runtime.timers.fire_due()
        after_restart = await bus.events(topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "overdue", subject)) >= 1)

    clock.advance(timedelta(days=1))
    marker = new_id("m")
    async with running(meetings_app(infra, run_id, clock)) as runtime:
        assert runtime.timers is not None
        await runtime.timers.fire_due()
        # The outbox publishes in order, so a second warning would come before this meeting's record.
        await publish(bus, held(marker))
        final = await bus.events(
            topics.MEETINGS_EVENTS, lambda es: len(of_type(es, "recorded", f"meeting/{marker}")) == 1
        )

    [overdue] = of_type(after_restart, "overdue", subject)
    assert datetime.fromisoformat(overdue["time"]) == START + timedelta(days=60)
    assert len(of_type(final, "overdue", subject)) == 1
    # The reminder that fell due first is not sent late once the item is already overdue.
    assert of_type(final, "due-soon", subject) == []
