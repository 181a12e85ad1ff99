"""The benchmark's workload: realistic derived events, produced to a fresh prefixed topic."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime
from typing import Final

from aiokafka import AIOKafkaProducer

from contracts import catalog, topics
from contracts.envelope import CloudEvent, stable_event_id
from contracts.events.meetings import ActionItemAssigned
from contracts.signing import Signer, sign_event
from contracts.topics import partition_key
from runtime.settings import RuntimeSettings

TOPIC: Final = topics.MEETINGS_EVENTS
EVENT_TYPE: Final = catalog.of(ActionItemAssigned).name
REGIONS: Final = ("vestland", "agder", "rogaland", "nordland", "innlandet", "trondelag")


def events(count: int, run: str) -> list[CloudEvent]:
    """Action items as the meetings service derives them: realistic size, spread over regions (partitions)."""
    kind = catalog.of(ActionItemAssigned)
    made = []
    for n in range(count):
        region = REGIONS[n % len(REGIONS)]
        data = ActionItemAssigned(
            action_item_id=f"{run}-a{n}",
            meeting_id=f"{run}-m{n // 4}",
            agreement_id="leve-hele-livet-2019-2023",
            region=region,
            owner=f"ks-{region}",
            text="Invitere kommunene i regionen til læringsnettverk om mat og måltider",
            due_on=date(2022, 4, 1),
        )
        made.append(
            CloudEvent(
                specversion="1.0",
                id=stable_event_id(run, str(n)),
                source="/lhl/meetings",
                type=kind.name,
                time=datetime(2022, 3, 10, 16, tzinfo=UTC),
                subject=f"action-item/{data.action_item_id}",
                dataschema=kind.dataschema,
                correlationid=f"{run}-c{n // 4}",
                causationid=f"{run}-m{n // 4}",
                partitionkey=partition_key(data.agreement_id, region),
                data=data.model_dump(mode="json"),
            )
        )
    return made


async def produce(settings: RuntimeSettings, count: int, run: str, signer: Signer) -> float:
    """Sign every event as the meetings service would (before the clock starts), then produce them."""
    signed = [sign_event(e, signer) for e in events(count, run)]
    producer = AIOKafkaProducer(**settings.kafka.options(), acks="all", linger_ms=5)
    await producer.start()
    started = time.perf_counter()
    try:
        pending = [
            await producer.send(settings.topic(TOPIC), e.to_bytes(), key=e.partitionkey.encode()) for e in signed
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started
