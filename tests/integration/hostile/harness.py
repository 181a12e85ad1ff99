"""Meetings and the audit running side by side, for sending hostile records and a valid canary behind them.

Every record is sent to an explicit partition of the meetings ingress, so a canary sent after it is behind it
on the same partition; what became of each record is read back where an operator would look: the meetings
service's inbox and the dead-letter topic, and the audit log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts import dead_letter_headers as dl
from contracts import topics
from contracts.envelope import CONTENT_TYPE, CloudEvent
from runtime.clock import ManualClock
from runtime.lifecycle import ServiceRuntime
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.integration.audit.helpers import RunningAudit, audit_settings, running_audit
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.raw_records import RawProducer
from tests.support.services import fetch, running, settings_for
from tests.support.signing import keys_for_tests

INGRESS = topics.MEETINGS_INGRESS
CANARY_SECONDS = 10.0
"""How long a valid event sent behind a hostile one may take to be processed by meetings and by the audit."""


@dataclass(frozen=True)
class Sent:
    partition: int
    offset: int


@dataclass(frozen=True)
class Letter:
    """A dead letter as an operator reads it."""

    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def reason(self) -> str:
        return self.headers[dl.ERROR_CLASS]

    @property
    def message(self) -> str:
        return self.headers[dl.ERROR_MESSAGE]


class Hostile:
    def __init__(
        self, infra: Infra, bus: Bus, producer: RawProducer, meetings: ServiceRuntime, audit: RunningAudit
    ) -> None:
        self.infra = infra
        self.producer = producer
        self.bus = bus
        self.meetings = meetings
        self.audit = audit
        self.topic = bus.topic(INGRESS)

    async def send(
        self,
        value: bytes | None,
        *,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes | None]] = (),
        partition: int = 0,
    ) -> Sent:
        metadata = await self.producer.send_record(self.topic, value, key=key, headers=headers, partition=partition)
        return Sent(metadata.partition, metadata.offset)

    async def send_canary(self, partition: int = 0) -> tuple[CloudEvent, Sent]:
        canary = keys_for_tests().sign(
            cloud_event(national_meeting_held(item_text="Invitere kommunene"), source=NATIONAL_SECRETARIAT)
        )
        sent = await self.send(
            canary.to_bytes(),
            key=canary.partitionkey.encode(),
            headers=[("content-type", CONTENT_TYPE.encode())],
            partition=partition,
        )
        return canary, sent

    async def canary_passes(self, canary: CloudEvent, *, timeout: float = CANARY_SECONDS) -> float:
        """Seconds until meetings processed the canary and the audit recorded it; fails past the timeout."""
        started = asyncio.get_running_loop().time()
        async with asyncio.timeout(timeout):
            while True:
                if await self._meetings_processed(canary) and await self._audit_recorded(canary):
                    break
                await asyncio.sleep(0.05)
        return asyncio.get_running_loop().time() - started

    async def _meetings_processed(self, event: CloudEvent) -> bool:
        rows = await fetch(
            self.meetings, "SELECT outcome FROM inbox WHERE event_source = $1 AND event_id = $2", event.source, event.id
        )
        return [r["outcome"] for r in rows] == ["processed"]

    async def _audit_recorded(self, event: CloudEvent) -> bool:
        async with self.audit.pool.acquire() as conn:
            found = await conn.fetchval(
                "SELECT count(*) FROM audit_log WHERE event_source = $1 AND event_id = $2 AND kind = 'event'",
                event.source,
                event.id,
            )
        return bool(found)

    async def inbox_outcomes(self) -> dict[tuple[int, int], str]:
        """The meetings service's inbox by the ingress coordinates that got each row."""
        rows = await fetch(
            self.meetings, "SELECT kafka_partition, kafka_offset, outcome FROM inbox WHERE topic = $1", self.topic
        )
        return {(r["kafka_partition"], r["kafka_offset"]): r["outcome"] for r in rows}

    async def audited(self) -> set[tuple[int, int]]:
        """The ingress coordinates the audit has recorded."""
        async with self.audit.pool.acquire() as conn:
            rows = await conn.fetch("SELECT kafka_partition, kafka_offset FROM audit_log WHERE topic = $1", self.topic)
        return {(r["kafka_partition"], r["kafka_offset"]) for r in rows}

    async def audited_keys(self) -> set[tuple[str, str, str]]:
        """The (source, id, kind) keys the audit has recorded: a record under a key already recorded is, for the
        audit, a redelivery of the first."""
        async with self.audit.pool.acquire() as conn:
            rows = await conn.fetch("SELECT event_source, event_id, kind FROM audit_log")
        return {(r["event_source"], r["event_id"], r["kind"]) for r in rows}

    async def dead_letter_of(self, sent: Sent) -> Letter:
        at = (sent.partition, sent.offset)
        records = await self.bus.read(topics.DEAD_LETTER, lambda rs: at in letters_of(rs, self.topic))
        letters = letters_of(records, self.topic)
        assert at in letters, f"no dead letter of {self.topic} {at}"
        return letters[at]

    async def outbox_drained(self, *, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                pending = "SELECT count(*) FROM outbox WHERE failed_at IS NULL"
                if not await self.meetings.pool.fetchval(pending):
                    return
                await asyncio.sleep(0.1)


@asynccontextmanager
async def hostile_stack(infra: Infra, run_id: str, bus: Bus, tmp_path: Path) -> AsyncIterator[Hostile]:
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    meetings = create_app(settings_for(MeetingsSettings, infra, run_id), clock=clock)
    producer = RawProducer(infra.kafka)
    await producer.start()
    try:
        async with running(meetings) as runtime, running_audit(audit_settings(infra, run_id, tmp_path)) as audit:
            yield Hostile(infra, bus, producer, runtime, audit)
    finally:
        await producer.stop()


async def read_to_end(bus: Bus, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record now on the topic, from the beginning to its current end."""
    consumer = AIOKafkaConsumer(bus.topic(topic), **bus.kafka.options(), group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        partitions = [TopicPartition(bus.topic(topic), p) for p in consumer.partitions_for_topic(bus.topic(topic))]
        ends = await consumer.end_offsets(partitions)
        async with asyncio.timeout(60):
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                for part in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(part)
    finally:
        await consumer.stop()
    return records


def letters_of(records: list[ConsumerRecord[bytes, bytes]], original_topic: str) -> dict[tuple[int, int], Letter]:
    found = {}
    for r in records:
        headers = {k: (v or b"").decode() for k, v in r.headers or ()}
        if headers.get(dl.ORIGINAL_TOPIC) == original_topic:
            found[(int(headers[dl.ORIGINAL_PARTITION]), int(headers[dl.ORIGINAL_OFFSET]))] = Letter(
                r.key, r.value or b"", headers
            )
    return found
