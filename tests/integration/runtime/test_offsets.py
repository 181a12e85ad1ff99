"""The consumer group's committed offsets catch up with what the service processed, shortly after it did."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts import topics
from contracts.events.meetings import ContactMeetingHeld, MeetingKind
from runtime.clock import ManualClock
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running, settings_for


async def committed_and_end(infra: Infra, settings: MeetingsSettings) -> tuple[dict[int, int], dict[int, int]]:
    topic = settings.topic(topics.MEETINGS_INGRESS)
    partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
    admin = AIOKafkaAdminClient(**infra.kafka.options())
    reader = AIOKafkaConsumer(**infra.kafka.options(), group_id=None)
    await admin.start()
    await reader.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.group_id)
        ends = await reader.end_offsets(partitions)
    finally:
        await reader.stop()
        await admin.close()
    committed = {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}
    return committed, {tp.partition: end for tp, end in ends.items() if end}


async def test_offsets_are_committed_after_processing_and_a_restart_reprocesses_nothing(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    settings = settings_for(MeetingsSettings, infra, run_id)
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    events = [
        cloud_event(
            ContactMeetingHeld(
                meeting_id=f"m-{uuid.uuid4().hex[:8]}",
                agreement_id="leve-hele-livet-2019-2023",
                kind=MeetingKind.NATIONAL,
                held_on=date(2021, 9, 1),
                organiser="hdir",
                participants=("hod", "ks"),
            ),
            source="/hdir/leve-hele-livet",
        )
        for _ in range(12)
    ]
    async with running(create_app(settings, clock)) as runtime:
        for event in events:
            await bus.publish_event(topics.MEETINGS_INGRESS, event)
        async with asyncio.timeout(30):
            while len(await fetch(runtime, "SELECT 1 FROM inbox")) < len(events):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        async with asyncio.timeout(10):
            while (state := await committed_and_end(infra, settings))[0] != state[1]:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    async with running(create_app(settings, clock)) as runtime:
        await asyncio.sleep(1)  # a restart that resumed from an old offset would now show duplicates
        duplicates = runtime.metrics.outcomes.labels("meetings", "no.levehelelivet.meeting.held.v1", "duplicate")
        assert duplicates._value.get() == 0
    assert sum(state[1].values()) == len(events)
