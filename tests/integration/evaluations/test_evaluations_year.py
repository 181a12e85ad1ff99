"""A whole simulated year on the real broker and database: every due, overdue, evaluation and term event once."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import date
from typing import Any

from typer.testing import CliRunner

from contracts import topics
from contracts.events.meetings import ActionItemAssigned, ContactMeetingRecorded, MeetingKind, MeetingStatus
from runtime.clock import ManualClock
from services.evaluations.app import create_app
from services.evaluations.cli import app as cli
from services.evaluations.settings import EvaluationsSettings
from tests.integration.evaluations.simulation import (
    AGREEMENT,
    days,
    drained,
    everything_on,
    live_through,
    noon,
    occurrences,
    processed,
    status_report,
    tally,
)
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import running, settings_for

OFFICES = 10
MEETINGS_SOURCE = "/lhl/meetings"


def reporting(region: str) -> str:
    return f"/statsforvalteren/{region}/rapportering"


def meetings_of_march() -> list[tuple[Any, str | None]]:
    national = ContactMeetingRecorded(
        meeting_id="nat-2023-1",
        agreement_id=AGREEMENT,
        kind=MeetingKind.NATIONAL,
        status=MeetingStatus.HELD,
        held_on=date(2023, 3, 9),
        participants=("hod", "ks", "hdir"),
    )
    regional = ContactMeetingRecorded(
        meeting_id="vl-2023-1",
        agreement_id=AGREEMENT,
        kind=MeetingKind.REGIONAL,
        region="vestland",
        status=MeetingStatus.HELD,
        held_on=date(2023, 3, 10),
        participants=("sf-vestland", "ks-vestland"),
    )
    item = ActionItemAssigned(
        action_item_id="vl-2023-1-a1",
        meeting_id="vl-2023-1",
        agreement_id=AGREEMENT,
        region="vestland",
        owner="ks-vestland",
        text="Invitere kommunene til læringsnettverk",
        due_on=date(2023, 4, 1),
    )
    return [(national, None), (regional, "vestland"), (item, "vestland")]


async def test_a_year_of_reports_evaluation_and_expiry_emits_each_event_once_across_a_restart(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(noon(date(2023, 1, 1)))
    # Timers fire only when the test says so, so each simulated day is deterministic.
    settings = settings_for(EvaluationsSettings, infra, run_id, timer_poll_seconds=3600)
    submitted: dict[date, list[tuple[str, date]]] = {
        date(2023, 5, 15): [("vestland", date(2023, 5, 15))],  # on the deadline day: on time
        date(2023, 5, 20): [("rogaland", date(2023, 5, 15))],  # five days late
        date(2023, 10, 25): [("vestland", date(2023, 11, 1))],
        date(2023, 11, 3): [("vestland", date(2023, 11, 1))],  # a corrected resubmission
    }

    async with running(create_app(settings, clock)) as runtime:
        for day in days(date(2023, 1, 1), date(2023, 6, 30)):
            await live_through(runtime, clock, day)
            if day == date(2023, 3, 10):
                for data, region in meetings_of_march():
                    event = cloud_event(data, source=MEETINGS_SOURCE, region=region)
                    await bus.publish_event(topics.MEETINGS_EVENTS, event)
                    assert await processed(runtime, event) == "processed"
            for region, reporting_date in submitted.get(day, []):
                event = cloud_event(status_report(region, reporting_date), source=reporting(region), region=region)
                await bus.publish_event(topics.REPORTS_INGRESS, event)
                assert await processed(runtime, event) == "processed"

    # Down from July to mid-October: the evaluation fell due on 4 October and must fire once on restart.
    clock.set(noon(date(2023, 10, 10)))
    async with running(create_app(settings, clock)) as runtime:
        for day in days(date(2023, 10, 10), date(2024, 1, 2)):
            await live_through(runtime, clock, day)
            for region, reporting_date in submitted.get(day, []):
                event = cloud_event(status_report(region, reporting_date), source=reporting(region), region=region)
                await bus.publish_event(topics.REPORTS_INGRESS, event)
                assert await processed(runtime, event) == "processed"
        await drained(runtime)
    published = await everything_on(bus, topics.EVALUATIONS_EVENTS, settings.topic_partitions)

    assert tally(published) == {
        "report.due": 2 * OFFICES,
        "report.overdue": 2 * (OFFICES - 1),
        "report.received": 4,
        "evaluation.due": 1,
        "evaluation.overdue": 1,
        "agreement.expired": 1,
    }
    once = occurrences([e for e in published if not e["type"].endswith("report.received.v1")])
    assert set(once.values()) == {1}
    by_type = {(e["type"].split(".")[2], e["type"].split(".")[3]): e for e in published}
    assert by_type[("agreement", "expired")]["data"] == {"agreement_id": AGREEMENT, "expired_on": "2023-12-31"}

    may_due = [
        e for e in published if e["type"].endswith("report.due.v1") and e["data"]["reporting_date"].endswith("05-15")
    ]
    assert {e["data"]["days_left"] for e in may_due} == {14}
    assert {e["data"]["office_name"] for e in may_due} >= {"Statsforvalteren i Vestland", "Statsforvalteren i Agder"}
    overdue_may = {
        e["data"]["region"]
        for e in published
        if e["type"].endswith("report.overdue.v1") and e["data"]["reporting_date"] == "2023-05-15"
    }
    assert "vestland" not in overdue_may
    assert "rogaland" in overdue_may
    received = [e["data"] for e in published if e["type"].endswith("report.received.v1")]
    assert sorted((r["region"], r["reporting_date"], r["late"], r["supersedes"] is not None) for r in received) == [
        ("rogaland", "2023-05-15", True, False),
        ("vestland", "2023-05-15", False, False),
        ("vestland", "2023-11-01", False, False),
        ("vestland", "2023-11-01", True, True),
    ]

    evaluation = by_type[("evaluation", "due")]["data"]
    assert (evaluation["year"], evaluation["deadline"]) == (2023, "2023-12-15")
    statuses = {(r["region"], r["reporting_date"]): r["status"] for r in evaluation["packet"]["reports"]}
    assert statuses[("vestland", "2023-05-15")] == "on_time"
    assert statuses[("rogaland", "2023-05-15")] == "late"
    assert statuses[("agder", "2023-05-15")] == "missing"
    assert statuses[("vestland", "2023-11-01")] == "not_yet_due"
    assert evaluation["packet"]["meetings"] == {
        "national_held": 1,
        "regional_held": {"vestland": 1},
        "learning_network_held": 0,
    }
    assert evaluation["packet"]["open_action_items"] == [
        {"action_item_id": "vl-2023-1-a1", "owner": "ks-vestland", "due_on": "2023-04-01", "overdue": True}
    ]

    # The status CLI reads what the service stored; it runs its own event loop, so give it a thread.
    env = {**os.environ, "DATABASE_URL": settings.database_url, "DB_SCHEMA": settings.schema_name}

    async def status_as_of(day: str) -> dict[str, Any]:
        args = ["status", "--year", "2023", "--json", "--as-of", day]
        result = await asyncio.to_thread(CliRunner().invoke, cli, args, env=env)
        assert result.exit_code == 0, result.output
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def standing(document: dict[str, Any], region: str, day: str) -> str:
        office = next(o for o in document["offices"] if o["region"] == region)
        status: str = office["reports"][day]["status"]
        return status

    at_year_end, in_may = await status_as_of("2024-01-02"), await status_as_of("2023-05-16")
    assert [standing(at_year_end, r, "2023-05-15") for r in ("vestland", "rogaland", "agder")] == [
        "on_time",
        "late",
        "missing",
    ]
    assert standing(at_year_end, "vestland", "2023-11-01") == "on_time"
    assert at_year_end["evaluation"] == "overdue (deadline 2023-12-15)"
    assert at_year_end["term"] == "expired after 2023-12-31"
    assert [standing(in_may, r, "2023-05-15") for r in ("vestland", "rogaland")] == ["on_time", "missing"]
    assert standing(in_may, "vestland", "2023-11-01") == "not_yet_due"
