"""Publishing CloudEvents as an external system would, and reading what the services published."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from contracts import catalog, topics
from contracts.envelope import CONTENT_TYPE, CloudEvent
from contracts.events.base import EventData
from contracts.topics import partition_key
from runtime.kafka_access import KafkaAccess
from tests.support.infra import Infra
from tests.support.signing import keys_for_tests


def cloud_event(
    data: EventData,
    *,
    source: str,
    region: str | None = None,
    agreement_id: str = "leve-hele-livet-2019-2023",
    event_id: str | None = None,
    time: datetime | None = None,
    correlation_id: str | None = None,
) -> CloudEvent:
    kind = catalog.of(type(data))
    return CloudEvent(
        specversion="1.0",
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=kind.name,
        time=time or datetime.now(UTC),
        dataschema=kind.dataschema,
        correlationid=correlation_id or str(uuid.uuid4()),
        partitionkey=partition_key(agreement_id, region),
        data=data.model_dump(mode="json"),
    )


def writer_of(topic: str) -> str | None:
    """The service whose principal alone may write a derived topic (per the catalogue); None: the operator may."""
    if topic == topics.DEAD_LETTER:
        # Written by whichever service rejected a record; a test's dead letters stand for the meetings service's.
        return "meetings"
    producers = {t.producer for t in catalog.on_topic(topic)} - {catalog.EXTERNAL}
    return producers.pop() if len(producers) == 1 else None


class Bus:
    """Producers and readers against the real broker, scoped to one topic prefix. It writes ingress topics as the
    operator (who speaks for many publishing systems here) and a service's own topic as that service, whose part
    the test plays: the broker lets no one else write it."""

    def __init__(self, infra: Infra, prefix: str) -> None:
        self.infra = infra
        self.kafka = infra.kafka
        self.prefix = prefix
        self._producers: dict[str | None, AIOKafkaProducer] = {}

    async def start(self) -> None:
        await self._producer_for(None)

    async def stop(self) -> None:
        for producer in self._producers.values():
            await producer.stop()
        self._producers.clear()

    async def _producer_for(self, service: str | None) -> AIOKafkaProducer:
        if service not in self._producers:
            access = self.kafka if service is None else self.infra.service_kafka(service)
            producer = AIOKafkaProducer(**access.options(), acks="all")
            await producer.start()
            self._producers[service] = producer
        return self._producers[service]

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def publish_event(self, topic: str, event: CloudEvent) -> None:
        """Publish as the event's source would: signed with the key registered for it (unless already signed)."""
        if event.dssematerial is None:
            event = keys_for_tests().sign(event)
        await self.publish_raw(topic, event.to_bytes(), key=event.partitionkey, headers={"content-type": CONTENT_TYPE})

    async def publish_raw(
        self, topic: str, value: bytes, *, key: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        producer = await self._producer_for(writer_of(topic))
        await producer.send_and_wait(
            self.topic(topic),
            value=value,
            key=key.encode() if key else None,
            headers=[(k, v.encode()) for k, v in (headers or {}).items()],
        )

    async def read(
        self,
        topic: str,
        until: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
        *,
        timeout: float = 30.0,
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Read the whole topic from the beginning until `until(records)` holds or the time runs out."""
        consumer = AIOKafkaConsumer(
            self.topic(topic),
            **self.kafka.options(),
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        records: list[ConsumerRecord[bytes, bytes]] = []
        try:
            async with asyncio.timeout(timeout):
                while not until(records):
                    batch = await consumer.getmany(timeout_ms=200)
                    for part in batch.values():
                        records.extend(part)
        except TimeoutError:
            pass
        finally:
            await consumer.stop()
        return records

    async def events(
        self, topic: str, until: Callable[[list[dict[str, Any]]], bool], *, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Read CloudEvents (as dicts) until `until(events)` holds."""

        def decoded(records: list[ConsumerRecord[bytes, bytes]]) -> list[dict[str, Any]]:
            return [json.loads(r.value) for r in records if r.value]

        records = await self.read(topic, lambda rs: until(decoded(rs)), timeout=timeout)
        return decoded(records)


def headers_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {k: v.decode() for k, v in (record.headers or ())}


async def delete_topics_with_prefix(kafka: KafkaAccess, prefix: str) -> int:
    """Delete a finished test's topics: a long-lived dev broker with thousands of them takes minutes to start."""
    admin = AIOKafkaAdminClient(**kafka.options())
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
        return len(mine)
    finally:
        await admin.close()
