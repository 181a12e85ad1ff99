"""Durable timers fire exactly once through the outbox, also across restarts; a failing one is parked, not retried."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from contracts import topics
from contracts.events.evaluations import AgreementExpired
from runtime import timers
from runtime.clock import ManualClock
from runtime.definition import ServiceDefinition
from runtime.settings import RuntimeSettings
from runtime.timers import TimerContext
from runtime.wiring import build_app
from tests.support.infra import Infra
from tests.support.kafka import Bus
from tests.support.services import fetch, playing, running, settings_for

AGREEMENT = "leve-hele-livet-2019-2023"


async def announce_expiry(tctx: TimerContext) -> None:
    await tctx.emitter.emit(
        AgreementExpired(agreement_id=AGREEMENT, expired_on=date.fromisoformat(tctx.timer.payload["on"])),
        agreement_id=AGREEMENT,
        region=None,
        business_key=tctx.timer.key,
    )


async def explode(tctx: TimerContext) -> None:
    raise KeyError("a bug in a timer handler")


class TimerSettings(RuntimeSettings):
    """A timers-only service announcing an evaluations fact, so it runs as the evaluations service's principal."""

    service_name: str = "timertest"


def app_for(settings: TimerSettings, clock: ManualClock, migrations: Path):  # type: ignore[no-untyped-def]
    definition = ServiceDefinition(
        name="timertest",
        description="timers only",
        migrations=migrations,
        consumes={},
        publishes=(topics.EVALUATIONS_EVENTS,),
        timers={"expiry": announce_expiry, "boom": explode},
    )
    return build_app(definition, settings, clock)


async def test_a_timer_due_while_stopped_fires_once_after_restart_and_a_failing_one_is_parked(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    clock = ManualClock(datetime(2023, 12, 30, tzinfo=UTC))
    settings = settings_for(TimerSettings, infra, run_id, timer_poll_seconds=3600, **playing(infra, "evaluations"))
    key = f"expiry/{uuid.uuid4().hex[:6]}"
    async with running(app_for(settings, clock, tmp_path)) as runtime:
        async with runtime.pool.acquire() as conn:
            await timers.schedule(conn, key, "expiry", datetime(2024, 1, 1, tzinfo=UTC), {"on": "2023-12-31"})
            await timers.schedule(conn, "boom/1", "boom", datetime(2023, 12, 31, tzinfo=UTC), {})
        assert runtime.timers is not None
        assert await runtime.timers.fire_due() == 0  # nothing is due yet
    clock.advance(timedelta(days=5))  # the service is down when the timers fall due
    # On start the timer loop fires what fell due while the service was down; explicit passes find nothing more.
    async with running(app_for(settings, clock, tmp_path)) as runtime:
        await bus.events(topics.EVALUATIONS_EVENTS, lambda es: len(es) >= 1)
        assert runtime.timers is not None
        again = await runtime.timers.fire_due()
        parked = await fetch(runtime, "SELECT failed_at, last_error FROM timers WHERE timer_key = 'boom/1'")
    async with running(app_for(settings, clock, tmp_path)) as runtime:
        assert runtime.timers is not None
        after_second_restart = await runtime.timers.fire_due()
        marker_key = f"expiry/{uuid.uuid4().hex[:6]}"
        async with runtime.pool.acquire() as conn:
            await timers.schedule(conn, marker_key, "expiry", clock.now(), {"on": "2024-01-01"})
        await runtime.timers.fire_due()
        events = await bus.events(topics.EVALUATIONS_EVENTS, lambda es: len(es) >= 2)
    assert (again, after_second_restart) == (0, 0)
    assert [e["data"]["expired_on"] for e in events] == ["2023-12-31", "2024-01-01"]
    assert events[0]["causationid"] == f"timer:{key}"
    assert parked[0]["failed_at"] == clock.now()
    assert parked[0]["last_error"] == "KeyError: 'a bug in a timer handler'"


async def test_rescheduling_a_pending_timer_moves_it_but_a_fired_timer_stays_fired(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    clock = ManualClock(datetime(2023, 6, 1, tzinfo=UTC))
    settings = settings_for(TimerSettings, infra, run_id, timer_poll_seconds=3600, **playing(infra, "evaluations"))
    async with running(app_for(settings, clock, tmp_path)) as runtime:
        async with runtime.pool.acquire() as conn:
            moved = await timers.schedule(
                conn, "expiry/a", "expiry", datetime(2023, 6, 2, tzinfo=UTC), {"on": "2023-06-02"}
            )
            moved_again = await timers.schedule(
                conn, "expiry/a", "expiry", datetime(2023, 6, 10, tzinfo=UTC), {"on": "2023-06-10"}
            )
        assert runtime.timers is not None
        clock.advance(timedelta(days=2))
        early = await runtime.timers.fire_due()
        clock.advance(timedelta(days=10))
        on_time = await runtime.timers.fire_due()
        async with runtime.pool.acquire() as conn:
            rearmed = await timers.schedule(conn, "expiry/a", "expiry", datetime(2023, 7, 1, tzinfo=UTC), {"on": "x"})
    assert (moved, moved_again, early, on_time, rearmed) == (True, True, 0, 1, False)
