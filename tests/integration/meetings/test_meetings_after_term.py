"""A meetings service first started after the agreement ended does not warn about gaps in a finished term."""

from __future__ import annotations

from datetime import UTC, datetime

from runtime.clock import ManualClock
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.support.infra import Infra
from tests.support.services import fetch, running, settings_for


async def test_no_contact_meeting_watch_is_armed_after_the_term_ended(infra: Infra, run_id: str) -> None:
    app = create_app(
        settings_for(MeetingsSettings, infra, run_id), clock=ManualClock(datetime(2026, 11, 1, tzinfo=UTC))
    )
    async with running(app) as runtime:
        assert runtime.timers is not None
        fired = await runtime.timers.fire_due()
        armed = await fetch(runtime, "SELECT timer_key FROM timers WHERE starts_with(timer_key, 'contact-meetings/')")
    assert (fired, armed) == (0, [])


async def test_during_the_term_every_level_that_never_met_is_watched(infra: Infra, run_id: str) -> None:
    app = create_app(settings_for(MeetingsSettings, infra, run_id), clock=ManualClock(datetime(2019, 1, 2, tzinfo=UTC)))
    async with running(app) as runtime:
        armed = await fetch(runtime, "SELECT timer_key FROM timers WHERE starts_with(timer_key, 'contact-meetings/')")
    assert len(armed) == 11  # the national level and the ten county governor offices
