"""`lhl status` reads the meetings and the evaluations schemas, each named by its own option, not by DB_SCHEMA."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

from typer.testing import CliRunner

from contracts import topics
from lhl.cli import app
from runtime.clock import ManualClock
from services.evaluations.app import create_app as create_evaluations
from services.evaluations.settings import EvaluationsSettings
from services.meetings.app import create_app as create_meetings
from services.meetings.settings import MeetingsSettings
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import running, settings_for


async def test_status_shows_both_services_of_the_year_whatever_db_schema_says(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2022, 3, 12, tzinfo=UTC))
    meetings = settings_for(MeetingsSettings, infra, run_id)
    evaluations = settings_for(EvaluationsSettings, infra, run_id)
    held = national_meeting_held(held_on=date(2022, 3, 10))
    async with running(create_meetings(meetings, clock)), running(create_evaluations(evaluations, clock)):
        await bus.publish_event(topics.MEETINGS_INGRESS, cloud_event(held, source=NATIONAL_SECRETARIAT))
        await bus.events(topics.MEETINGS_EVENTS, lambda es: any(e["type"].endswith(".meeting.recorded.v1") for e in es))
    arguments = [
        "status",
        "--year",
        "2022",
        "--json",
        "--meetings-schema",
        meetings.schema_name,
        "--evaluations-schema",
        evaluations.schema_name,
    ]
    env = {"DATABASE_URL": infra.database_url, "DB_SCHEMA": "no_such_schema"}
    result = await asyncio.to_thread(CliRunner().invoke, app, arguments, env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["meetings_held"] == {"national": 1}
    assert {office["region"] for office in shown["offices"]} >= {"vestland", "agder"}
