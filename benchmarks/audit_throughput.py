"""How fast the audit consumer records events, beside a raw aiokafka consumer reading the same topic.

Run: `make bench`, or `python -m benchmarks.audit_throughput --events 20000` with the stack's environment
(`python3 -m deploy.stack env`: the operator's and each service's credentials). It produces the events to a fresh
prefixed topic, reads them with a raw consumer, lets the audit service record them into a fresh schema, and prints both
sustained rates and their ratio. For scale it also measures the floor of every other service: the runtime's
per-record pipeline with a handler that does nothing, over the first `--pipeline-events` of the same events.
The topics and the schemas are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream import FastStream

from benchmarks.workload import EVENT_TYPE, TOPIC, produce
from contracts import topics
from lhl.acls import apply_namespace, remove_namespace
from runtime import keystore
from runtime.definition import ServiceDefinition
from runtime.kafka_admin import ensure_topics
from runtime.pipeline import HandlerContext
from runtime.settings import RuntimeSettings
from runtime.wiring import build_app, runtime_of
from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.evaluations.settings import EvaluationsSettings
from services.meetings.settings import MeetingsSettings

Count = Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class Rate:
    """A sustained rate: events after the first arrival, over the time from the first arrival to the last."""

    events: int
    seconds: float
    startup_seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


async def raw_consumer_rate(settings: AuditSettings, count: int) -> Rate:
    """The ceiling: a plain aiokafka consumer that reads the records and does nothing with them."""
    consumer = AIOKafkaConsumer(**settings.kafka.options(), group_id=None, enable_auto_commit=False)
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


async def watch(app: FastStream, rows: Callable[[], Count], count: int) -> Rate:
    """Start the app and poll its row count from empty until `count` rows are there."""
    started = time.perf_counter()
    await app.start()
    try:
        counted = rows()
        first_at, first_count = 0.0, 0
        while True:
            seen = await counted()
            if seen and not first_at:
                first_at, first_count = time.perf_counter(), seen
            if seen >= count:
                done = time.perf_counter()
                break
            await asyncio.sleep(0.02)
    finally:
        await app.stop()
    return Rate(count - first_count, done - first_at, first_at - started)


async def audit_rate(settings: AuditSettings, count: int) -> Rate:
    """The audit service from an empty log until every event is recorded."""
    app = create_app(settings)

    def rows() -> Count:
        pool = runtime_of(app).pool
        return lambda: _count(pool, "audit_log")

    return await watch(app, rows, count)


async def pipeline_floor_rate(settings: RuntimeSettings, count: int) -> Rate:
    """The cheapest possible service: the runtime's per-record transaction (inbox row) and a no-op handler."""

    async def do_nothing(ctx: HandlerContext, data: Any) -> None:
        return None

    with tempfile.TemporaryDirectory() as no_migrations:
        definition = ServiceDefinition(
            name=settings.service_name,
            description="Benchmark: the per-record pipeline with a handler that does nothing.",
            migrations=Path(no_migrations),
            consumes={TOPIC: {EVENT_TYPE: do_nothing}},
        )
        app = build_app(definition, settings)

        def rows() -> Count:
            pool = runtime_of(app).pool
            return lambda: _count(pool, "inbox")

        return await watch(app, rows, count)


async def _count(pool: asyncpg.Pool, table: str) -> int:
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return found


async def clean_up(operator: RuntimeSettings, owned: list[tuple[str, str]]) -> None:
    """Delete the topics and their ACLs as the operator, and each schema as the role that owns it."""
    admin = AIOKafkaAdminClient(**operator.kafka.options())
    await admin.start()
    try:
        with contextlib.suppress(Exception):
            await admin.delete_topics([operator.topic(t) for t in topics.ALL_TOPICS])
    finally:
        await admin.close()
    await remove_namespace(operator.kafka, operator.topic_prefix)
    for database_url, schema in owned:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


async def run(count: int, batch: int, partitions: int, pipeline_count: int, keep: bool) -> None:
    tag = uuid.uuid4().hex[:8]
    keys_dir = Path(tempfile.mkdtemp(prefix="lhl-bench-keys-"))
    common: dict[str, Any] = {
        "topic_prefix": f"bench{tag}.",
        "topic_partitions": partitions,
        "log_level": "WARNING",
        "keys_dir": str(keys_dir),
    }
    settings = AuditSettings(
        **common,
        db_schema=f"bench{tag}_audit",
        audit_batch_max_records=batch,
        audit_checkpoint_interval_seconds=0,
        log_format="json",
    )
    # The floor consumes the meetings service's events as the evaluations service does, under its principal.
    floor = EvaluationsSettings(**common, db_schema=f"bench{tag}_floor")
    operator = RuntimeSettings(**common, service_name="lhl-cli")
    since = datetime(2000, 1, 1, tzinfo=UTC)
    meetings = keystore.ensure_service_key(keys_dir, floor.key_registry_path, "meetings", since)
    keystore.ensure_service_key(keys_dir, floor.key_registry_path, floor.service_name, since)
    await apply_namespace(operator.kafka, operator.topic_prefix)
    await ensure_topics(operator.kafka, [settings.topic(t) for t in topics.ALL_TOPICS], settings.topic_partitions)
    try:
        produced = await produce(MeetingsSettings(**common), count, tag, meetings)
        raw = await raw_consumer_rate(settings, count)
        audit = await audit_rate(settings, count)
        pipeline = await pipeline_floor_rate(floor, min(pipeline_count, count)) if pipeline_count else None
    finally:
        if not keep:
            owned = [(settings.owner_database_url, settings.schema_name), (floor.database_url, floor.schema_name)]
            await clean_up(operator, owned)
    print(f"events:            {count} on {settings.topic(TOPIC)} ({partitions} partitions), audit batch {batch}")
    print(f"produced in:       {produced:.2f} s")
    print(f"raw aiokafka:      {raw.per_second:>10,.0f} events/s  (startup {raw.startup_seconds:.2f} s)")
    print(f"audit consumer:    {audit.per_second:>10,.0f} events/s  (startup {audit.startup_seconds:.2f} s)")
    print(f"audit / raw:       {audit.per_second / raw.per_second:.3f}")
    if pipeline is not None:
        print(
            f"service floor:     {pipeline.per_second:>10,.0f} events/s  (per-record pipeline, no-op handler, "
            f"{min(pipeline_count, count)} events)"
        )
        print(f"audit / floor:     {audit.per_second / pipeline.per_second:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000, help="How many events to produce (default 20000).")
    parser.add_argument("--batch", type=int, default=1000, help="Most records per audit transaction.")
    parser.add_argument("--partitions", type=int, default=3, help="Partitions of the fresh topics.")
    parser.add_argument(
        "--pipeline-events", type=int, default=1000, help="Events for the per-record service floor; 0 skips it."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the topics and the schemas for inspection.")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.batch, args.partitions, args.pipeline_events, args.keep))


if __name__ == "__main__":
    main()
