"""How fast the audit consumer records events, beside a raw aiokafka consumer reading the same topic.

Run: `make bench`, or `python -m benchmarks.audit_throughput --events 20000` with the stack's environment
(KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, ADMIN_DATABASE_URL). It produces the events to a fresh prefixed
topic, reads them with a raw consumer, then lets the audit service record them into a fresh schema, and
prints both sustained rates and their ratio. The topics and the schema are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts import catalog, topics
from contracts.envelope import CloudEvent, stable_event_id
from contracts.events.meetings import ActionItemAssigned
from contracts.topics import partition_key
from runtime.service import ensure_topics
from services.audit.app import audit_runtime_of, create_app
from services.audit.settings import AuditSettings

TOPIC = topics.MEETINGS_EVENTS
REGIONS = ("vestland", "agder", "rogaland", "nordland", "innlandet", "trondelag")


@dataclass(frozen=True)
class Rate:
    """A sustained rate: events after the first arrival, over the time from the first arrival to the last."""

    events: int
    seconds: float
    startup_seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


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


async def produce(settings: AuditSettings, count: int, run: str) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    started = time.perf_counter()
    try:
        pending = [
            await producer.send(settings.topic(TOPIC), e.to_bytes(), key=e.partitionkey.encode())
            for e in events(count, run)
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def raw_consumer_rate(settings: AuditSettings, count: int) -> Rate:
    """The ceiling: a plain aiokafka consumer that reads the records and does nothing with them."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.topic(TOPIC), p) for p in range(settings.topic_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        asked = time.perf_counter()
        seen, first_at, first_batch = 0, 0.0, 0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=settings.audit_batch_max_records)
            got = sum(len(records) for records in batch.values())
            if got and not first_at:
                first_at, first_batch = time.perf_counter(), got
            seen += got
        done = time.perf_counter()
    finally:
        await consumer.stop()
    return Rate(count - first_batch, done - first_at, first_at - asked)


async def audit_rate(settings: AuditSettings, count: int) -> Rate:
    """The audit service from an empty log until every event is recorded, watched by polling the count."""
    app = create_app(settings)
    started = time.perf_counter()
    await app.start()
    try:
        runtime = audit_runtime_of(app)
        first_at, first_count = 0.0, 0
        while True:
            async with runtime.pool.acquire() as conn:
                recorded: int = await conn.fetchval("SELECT count(*) FROM audit_log")
            if recorded and not first_at:
                first_at, first_count = time.perf_counter(), recorded
            if recorded >= count:
                done = time.perf_counter()
                break
            await asyncio.sleep(0.02)
    finally:
        await app.stop()
    return Rate(count - first_count, done - first_at, first_at - started)


async def clean_up(settings: AuditSettings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        with contextlib.suppress(Exception):
            await admin.delete_topics([settings.topic(t) for t in topics.ALL_TOPICS])
    finally:
        await admin.close()
    conn = await asyncpg.connect(settings.admin_database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.schema_name}" CASCADE')
    finally:
        await conn.close()


async def run(count: int, batch: int, partitions: int, keep: bool, log_level: str = "WARNING") -> None:
    tag = uuid.uuid4().hex[:8]
    settings = AuditSettings(
        topic_prefix=f"bench{tag}.",
        db_schema=f"bench{tag}_audit",
        topic_partitions=partitions,
        audit_batch_max_records=batch,
        audit_checkpoint_interval_seconds=0,
        log_level=log_level,
        log_format="json",
    )
    await ensure_topics(
        settings.kafka_bootstrap_servers, [settings.topic(t) for t in topics.ALL_TOPICS], settings.topic_partitions
    )
    try:
        produced = await produce(settings, count, tag)
        raw = await raw_consumer_rate(settings, count)
        audit = await audit_rate(settings, count)
    finally:
        if not keep:
            await clean_up(settings)
    print(f"events:            {count} on {settings.topic(TOPIC)} ({partitions} partitions), batch {batch}")
    print(f"produced in:       {produced:.2f} s")
    print(f"raw aiokafka:      {raw.per_second:>10,.0f} events/s  (startup {raw.startup_seconds:.2f} s)")
    print(f"audit consumer:    {audit.per_second:>10,.0f} events/s  (startup {audit.startup_seconds:.2f} s)")
    print(f"audit / raw:       {audit.per_second / raw.per_second:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000, help="How many events to produce (default 20000).")
    parser.add_argument("--batch", type=int, default=1000, help="Most records per audit transaction.")
    parser.add_argument("--partitions", type=int, default=3, help="Partitions of the fresh topics.")
    parser.add_argument("--keep", action="store_true", help="Keep the topics and the schema for inspection.")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.batch, args.partitions, args.keep))


if __name__ == "__main__":
    main()
