"""The audit records every event of a real collaboration step exactly once, verifies, and tells its story."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import ConsumerRecord

from contracts import topics
from contracts.dead_letter_headers import EVENT_ID, EVENT_SOURCE
from runtime.clock import ManualClock
from services.meetings.app import create_app as create_meetings_app
from services.meetings.settings import MeetingsSettings
from tests.integration.audit.helpers import (
    audit_cli,
    audit_settings,
    end_offsets,
    jsonl,
    running_audit,
    wait_for_count,
    wait_until_caught_up,
)
from tests.integration.audit.mix import MEETINGS_SOURCE, REPORTS_SOURCE, delivered, report
from tests.support.events import vestland_meeting_held as held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import running, settings_for


async def test_a_collaboration_step_is_recorded_once_verified_and_told_by_its_correlation_id(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    # The meetings service lives on the day of the meeting, so no reminder falls due during the test.
    meetings = create_meetings_app(
        settings_for(MeetingsSettings, infra, run_id), ManualClock(datetime(2022, 3, 10, 16, tzinfo=UTC))
    )
    meeting_id = f"m-{uuid.uuid4().hex[:8]}"
    minutes = cloud_event(held(meeting_id), source=MEETINGS_SOURCE, region="vestland")
    wrong_county = cloud_event(held(f"{meeting_id}-x", county="99"), source=MEETINGS_SOURCE, region="vestland")
    status = cloud_event(report(), source=REPORTS_SOURCE, region="vestland")
    told = delivered(minutes, "ks-vestland")
    async with running_audit(settings) as audit:
        async with running(meetings):
            await bus.publish_event(topics.MEETINGS_INGRESS, minutes)
            await bus.publish_event(topics.MEETINGS_INGRESS, minutes)  # the secretariat's system sent it again
            await bus.publish_event(topics.MEETINGS_INGRESS, wrong_county)
            await bus.publish_raw(topics.MEETINGS_INGRESS, b"\x00\xffnot json at all")
            await bus.publish_event(topics.REPORTS_INGRESS, status)
            await bus.publish_event(topics.NOTIFICATIONS_EVENTS, told)
            await bus.publish_event(topics.NOTIFICATIONS_EVENTS, told)  # redelivered by Kafka
            await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 2)
            await bus.events(topics.MEETINGS_EVENTS, lambda es: sum(e["causationid"] == minutes.id for e in es) >= 3)
        # The meetings service has stopped and published its last events: the topics now hold everything.
        await wait_until_caught_up(audit)
        async with audit.pool.acquire() as conn:
            rows = await conn.fetch("SELECT event_source, event_id, kind, reason FROM audit_log ORDER BY seq")
    on_topics = await distinct_keys_on_topics(bus, await end_offsets(settings))

    keys = [(r["event_source"], r["event_id"], r["kind"]) for r in rows]
    assert len(keys) == len(set(keys)), "a key was recorded twice"
    assert set(keys) == on_topics
    assert (minutes.source, minutes.id, "event") in keys
    assert (told.source, told.id, "event") in keys
    assert (wrong_county.source, wrong_county.id, "dead_letter") in keys
    assert {r["reason"] for r in rows if r["kind"] == "dead_letter"} == {"invalid_reference", "not_json"}
    assert sum(1 for r in rows if r["kind"] == "not_cloudevent") == 1

    verified = await audit_cli(settings, "verify")
    assert verified.exit_code == 0, verified.stdout
    assert f"OK: {len(keys)} records verified" in verified.stdout

    story = jsonl(await audit_cli(settings, "trail", "--correlation-id", minutes.correlationid, "--output", "jsonl"))
    assert sorted(s["event_type"] for s in story) == [
        "no.levehelelivet.action-item.assigned.v1",
        "no.levehelelivet.action-item.assigned.v1",
        "no.levehelelivet.meeting.held.v1",
        "no.levehelelivet.meeting.recorded.v1",
        "no.levehelelivet.notification.delivered.v1",
    ]
    assert {s["data"]["owner"] for s in story if s["event_type"].endswith("assigned.v1")} == {
        "ks-vestland",
        "kommune-4601",
    }
    assert [s["data"]["recipient"] for s in story if s["event_type"].endswith("delivered.v1")] == ["ks-vestland"]
    assert all(s["region"] == "vestland" and s["agreement_id"] == "leve-hele-livet-2019-2023" for s in story)

    rejection = jsonl(
        await audit_cli(settings, "trail", "--correlation-id", wrong_county.correlationid, "--output", "jsonl")
    )
    assert sorted((r["kind"], r["reason"] or "") for r in rejection) == [
        ("dead_letter", "invalid_reference"),
        ("event", ""),
    ]
    assert any("unknown county number '99'" in (r["reason_message"] or "") for r in rejection)

    table = await audit_cli(settings, "trail", "--correlation-id", minutes.correlationid)
    assert table.exit_code == 0
    assert "meeting.held.v1" in table.stdout
    assert "5 record(s)" in table.stdout


def at_least(count: int) -> Callable[[list[ConsumerRecord[bytes, bytes]]], bool]:
    return lambda records: len(records) >= count


async def distinct_keys_on_topics(bus: Bus, ends: dict[tuple[str, int], int]) -> set[tuple[str, str, str]]:
    """Independently of the audit: the (source, id, kind) of every record on every topic, duplicates folded."""
    keys: set[tuple[str, str, str]] = set()
    for name in topics.ALL_TOPICS:
        on_topic = sum(end for (topic, _), end in ends.items() if topic == bus.topic(name))
        for record in await bus.read(name, at_least(on_topic)):
            headers = headers_of(record)
            if name == topics.DEAD_LETTER:
                keys.add((headers[EVENT_SOURCE], headers[EVENT_ID], "dead_letter"))
                continue
            try:
                envelope = json.loads(record.value or b"")
                keys.add((envelope["source"], envelope["id"], "event"))
            except (ValueError, KeyError, TypeError):
                keys.add((f"kafka:{record.topic}", f"{record.partition}:{record.offset}", "not_cloudevent"))
    return keys


async def test_the_trail_filters_by_source_type_region_and_time(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    status = cloud_event(report(), source=REPORTS_SOURCE, region="vestland")
    async with running_audit(settings) as audit:
        await bus.publish_event(topics.REPORTS_INGRESS, status)
        await bus.publish_event(topics.NOTIFICATIONS_EVENTS, delivered(status, "hdir"))
        await wait_for_count(audit, 2)

    by_type = jsonl(await audit_cli(settings, "trail", "--type", status.type, "--output", "jsonl"))
    by_source = jsonl(await audit_cli(settings, "trail", "--source", "/lhl/notifications", "--output", "jsonl"))
    by_region = jsonl(await audit_cli(settings, "trail", "--region", "vestland", "--output", "jsonl"))
    elsewhere = jsonl(await audit_cli(settings, "trail", "--region", "agder", "--output", "jsonl"))
    before = jsonl(await audit_cli(settings, "trail", "--until", "2000-01-01T00:00:00", "--output", "jsonl"))
    assert [r["event_id"] for r in by_type] == [status.id]
    assert [r["event_type"] for r in by_source] == ["no.levehelelivet.notification.delivered.v1"]
    assert len(by_region) == 2
    assert elsewhere == []
    assert before == []
