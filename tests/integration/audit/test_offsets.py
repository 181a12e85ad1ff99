"""The audit's place in the topics: a batch it could not record comes again; what it recorded is committed soon.

Its offsets are committed a few times a second with the other services' committer, not once per batch: that round
trip to the broker held up every next batch under load. A batch it failed to record is rewound instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from services.audit.domain import Received
from services.audit.recorder import BatchOutcome
from services.audit.settings import AuditSettings
from tests.integration.audit.helpers import audit_settings, end_offsets, recorded_count, running_audit, wait_for_count
from tests.support.events import vestland_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event

SOURCE = "/lhl/meetings/vestland"


async def committed_offsets(settings: AuditSettings) -> dict[tuple[str, int], int]:
    """The audit group's committed offset of every partition it reads (0 where it committed none)."""
    partitions = [
        TopicPartition(settings.topic(t), p) for t in topics.ALL_TOPICS for p in range(settings.topic_partitions)
    ]
    consumer = AIOKafkaConsumer(**settings.kafka.options(), group_id=settings.group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        found = {tp: await consumer.committed(tp) for tp in partitions}
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): offset or 0 for tp, offset in found.items()}


async def committed_within(
    settings: AuditSettings, ends: dict[tuple[str, int], int], seconds: float
) -> dict[tuple[str, int], int]:
    """The committed offsets once they reach `ends`, or as they are when `seconds` have passed."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        committed = await committed_offsets(settings)
        if committed == ends or asyncio.get_running_loop().time() > deadline:
            return committed
        await asyncio.sleep(0.1)


async def publish_held_meetings(bus: Bus, run_id: str, label: str, count: int) -> None:
    for n in range(count):
        held = cloud_event(vestland_meeting_held(f"m-{run_id}-{label}{n}"), source=SOURCE, region="vestland")
        await bus.publish_event(topics.MEETINGS_INGRESS, held)


async def test_a_batch_the_audit_could_not_record_comes_again_and_is_recorded_once(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    async with running_audit(settings) as audit:
        recorder = audit.recorder
        record = recorder.record
        failed: list[int] = []

        async def fails_once(batch: Sequence[Received]) -> BatchOutcome:
            if not failed:
                failed.append(len(batch))
                raise asyncpg.CannotConnectNowError("the database is starting up")
            return await record(batch)

        recorder.record = fails_once  # type: ignore[method-assign]
        await publish_held_meetings(bus, run_id, "", 5)
        await wait_for_count(audit, 5)
        await asyncio.sleep(0.5)  # time for a wrongly repeated batch to show
        count = await recorded_count(audit)
    assert failed, "the first batch did not fail"
    assert count == 5


async def test_what_the_audit_recorded_is_committed_soon_after_and_still_at_its_stop(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    settings = audit_settings(infra, run_id, tmp_path / "checkpoints")
    async with running_audit(settings) as audit:
        await publish_held_meetings(bus, run_id, "", 5)
        await wait_for_count(audit, 5)
        ends = await end_offsets(settings)
        committed = await committed_within(settings, ends, seconds=10)
        await publish_held_meetings(bus, run_id, "late-", 2)
        await wait_for_count(audit, 5 + 2)
    assert committed == ends
    assert await committed_offsets(settings) == await end_offsets(settings)
