"""A service's start on fresh topics and a new consumer group writes no error line: the group forming is normal, and
the topics it created are served before it subscribes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from contracts import topics
from runtime.clock import ManualClock
from runtime.kafka_admin import ensure_topics
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.integration.audit.helpers import audit_settings, running_audit, wait_for_count
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


async def test_the_audit_starting_on_fresh_topics_it_creates_logs_no_error(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The audit reads every topic and creates those missing, several of them others' (seen on a fresh broker:
    "topic not found" at ERROR level before the broker served a topic the audit had just created)."""
    event = cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT)
    async with running_audit(audit_settings(infra, run_id, tmp_path)) as audit:
        await bus.publish_event(topics.MEETINGS_INGRESS, event)
        await wait_for_count(audit, 1)

    logged = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert [line for line in logged if line["level"] in {"error", "critical"}] == []


async def test_topics_a_service_created_have_a_leader_for_every_partition_when_it_goes_on(
    infra: Infra, run_id: str
) -> None:
    names = [f"t{run_id}.fresh-{n}.v1" for n in range(3)]
    await ensure_topics(infra.kafka, names, 3)

    admin = AIOKafkaAdminClient(**infra.kafka.options())  # another client: what a consumer starting now would see
    await admin.start()
    try:
        described = {topic["topic"]: topic for topic in await admin.describe_topics(names)}
    finally:
        await admin.close()
    assert sorted(described) == sorted(names)
    for topic in described.values():
        assert topic["error_code"] == 0
        assert sorted(p["partition"] for p in topic["partitions"]) == [0, 1, 2]
        assert all(p["error_code"] == 0 and p["leader"] >= 0 for p in topic["partitions"])
