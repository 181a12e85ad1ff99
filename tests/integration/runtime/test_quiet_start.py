"""A service's start on fresh topics and a new consumer group writes no error line: the group forming is normal."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from contracts import topics
from runtime.clock import ManualClock
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import running, settings_for


async def test_a_start_with_a_new_group_and_new_topics_logs_no_error(
    infra: Infra, run_id: str, bus: Bus, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(MeetingsSettings, infra, run_id)
    event = cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT)
    async with running(create_app(settings, ManualClock(datetime(2021, 9, 2, tzinfo=UTC)))):
        await bus.publish_event(topics.MEETINGS_INGRESS, event)
        await bus.events(topics.MEETINGS_EVENTS, lambda es: any(e["causationid"] == event.id for e in es))

    logged = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert any(line["event"] == "event_processed" and line.get("event_id") == event.id for line in logged)
    assert [line for line in logged if line["level"] in {"error", "critical"}] == []
