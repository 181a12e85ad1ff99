"""An operator replays a dead letter after the cause is fixed: it is processed once, and only once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts import dead_letter_headers as dl
from contracts import topics
from lhl.dlq import read_dead_letters, replay
from runtime.clock import ManualClock
from runtime.settings import RuntimeSettings
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running, settings_for


async def test_a_replayed_dead_letter_is_processed_once_after_the_fix(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    meeting = national_meeting_held()
    event = cloud_event(meeting, source=NATIONAL_SECRETARIAT)
    # The service is misconfigured: its agreements folder is empty, so the agreement is unknown.
    broken = create_app(settings_for(MeetingsSettings, infra, run_id, agreements_dir=str(tmp_path)), clock=clock)
    async with running(broken):
        await bus.publish_event(topics.MEETINGS_INGRESS, event)
        await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 1)
    ops = RuntimeSettings(
        service_name="lhl-cli",
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
        database_url=infra.database_url,
        topic_prefix=bus.prefix,
    )
    letters = await read_dead_letters(ops)
    assert [(d.reason, d.headers["dlq-event-id"]) for d in letters] == [("invalid_reference", event.id)]
    assert "unknown agreement 'leve-hele-livet-2019-2023'" in letters[0].headers["dlq-error-message"]

    fixed = create_app(settings_for(MeetingsSettings, infra, run_id), clock=clock)
    async with running(fixed) as runtime:
        first = await replay(ops, [letters[0].ref])
        second = await replay(ops, [letters[0].ref])
        derived = await bus.events(topics.MEETINGS_EVENTS, lambda es: any(e["causationid"] == event.id for e in es))
        # An ordinary redelivery of the original is still a duplicate.
        await bus.publish_event(topics.MEETINGS_INGRESS, event)
        marker = cloud_event(meeting.model_copy(update={"meeting_id": f"{meeting.meeting_id}-b"}), source=event.source)
        await bus.publish_event(topics.MEETINGS_INGRESS, marker)
        await bus.events(topics.MEETINGS_EVENTS, lambda es: any(e["causationid"] == marker.id for e in es))
        derived = await bus.events(topics.MEETINGS_EVENTS, lambda es: any(e["causationid"] == marker.id for e in es))
        inbox = await fetch(runtime, "SELECT outcome FROM inbox WHERE event_id = $1", event.id)
    assert first == {letters[0].ref: f"replayed to {bus.topic(topics.MEETINGS_INGRESS)}"}
    assert second == {letters[0].ref: "skipped: already replayed"}
    assert len([e for e in derived if e["causationid"] == event.id]) == 1
    assert [r["outcome"] for r in inbox] == ["processed"]
    assert len(await read_dead_letters(ops)) == 1
    # Outside a terminal the replay draws no progress: the service's JSON log lines are all stderr holds.
    written = capsys.readouterr().err
    assert "replaying dead letters" not in written
    assert "\x1b[" not in written


async def test_a_dead_letter_that_keeps_only_part_of_the_record_is_not_replayed(bus: Bus, infra: Infra) -> None:
    ops = RuntimeSettings(
        service_name="lhl-cli",
        kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
        database_url=infra.database_url,
        topic_prefix=bus.prefix,
    )
    cut = {
        dl.ORIGINAL_TOPIC: bus.topic(topics.MEETINGS_INGRESS),
        dl.ERROR_CLASS: "invalid_record",
        dl.VALUE_TRUNCATED: "1040000",
    }
    await bus.publish_raw(topics.DEAD_LETTER, b'{"specversion": "1.0", "id": "cut-', key="k", headers=cut)
    [letter] = await read_dead_letters(ops)
    assert await replay(ops, [letter.ref]) == {
        letter.ref: "skipped: the dead letter keeps only part of the record; the publisher must resend it"
    }
