"""How long the outbox relay takes to drain a backlog, now and as it was at an earlier git revision.

Run with the stack's environment (`eval "$(python3 -m deploy.stack env)"`):
`python -m benchmarks.relay_drain --rows 5000 --before 00bc2a2`. It writes the rows into a fresh schema's outbox (signed
events' size, seven regions' keys), drains them to a fresh prefixed topic under the meetings service's principal with
each relay in turn (both with today's producer options), prints the times and the CPU this process spent per row,
and checks the topic holds every row. The topics and the schema are removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import inspect
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts import topics
from lhl.acls import apply_namespace, remove_namespace
from runtime import db
from runtime.kafka_admin import Handover, KeyPartitioner, ensure_topics
from runtime.logging import configure_logging
from runtime.relay import RELAY_PRODUCER_OPTIONS, OutboxRelay
from runtime.settings import RuntimeSettings
from services.meetings.settings import MeetingsSettings

REGIONS = ("oslo-viken", "innlandet", "vestfold-telemark", "agder", "rogaland", "vestland", "more-romsdal")
PAYLOAD_BYTES = 1_800
"""About the size of a signed derived event."""


def relay_at(revision: str) -> ModuleType:
    """The relay's module as it was at `revision` (runtime/relay.py, or runtime/outbox.py before it had its own),
    loaded beside today's."""
    for path in ("runtime/relay.py", "runtime/outbox.py"):
        shown = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True, text=True)
        if shown.returncode == 0 and "class OutboxRelay" in shown.stdout:
            source = shown.stdout
            break
    else:
        raise SystemExit(f"no OutboxRelay at {revision}")
    spec = importlib.util.spec_from_loader(f"outbox_at_{revision}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    exec(compile(source, f"{revision}:{path}", "exec"), module.__dict__)
    return module


def migrations_at(revision: str) -> Path:
    """The runtime's migrations as they were at `revision`, in a folder of their own (named as a migration is known,
    by its folder's parent): each relay drains an outbox of its own revision's shape (migration 006 dropped the
    column an earlier relay marked)."""
    folder = Path(tempfile.mkdtemp(prefix="lhl-bench-migrations-")) / "runtime" / "migrations"
    folder.mkdir(parents=True)
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", revision, "runtime/migrations/"], capture_output=True, text=True, check=True
    )
    for path in listed.stdout.split():
        shown = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True, check=True)
        (folder / Path(path).name).write_bytes(shown.stdout)
    return folder


async def fill(pool: asyncpg.Pool, topic: str, rows: int) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO outbox (topic, message_key, headers, payload, event_id, event_type)"
            " SELECT $1, convert_to('leve-hele-livet-2019-2023/' || ($2::text[])[1 + n % $3], 'UTF8'),"
            ' \'{"content-type": "application/cloudevents+json"}\'::jsonb,'
            " convert_to(rpad(n::text, $4, 'x'), 'UTF8'), gen_random_uuid()::text, 'bench'"
            " FROM generate_series(1, $5) AS n",
            topic,
            list(REGIONS),
            len(REGIONS),
            PAYLOAD_BYTES,
            rows,
        )


async def drain(relay_class: Any, pool: asyncpg.Pool, producer: AIOKafkaProducer) -> tuple[float, float]:
    """Seconds until the relay leaves no row unpublished, passing batch after batch as its run loop does, and the
    CPU seconds this process (the relay, its producer, and asyncpg) spent meanwhile."""
    waits_per_record = "renew_producer" not in inspect.signature(relay_class).parameters

    async def send(topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]) -> Awaitable[object]:
        pairs = [(k, v.encode()) for k, v in headers.items()]
        if waits_per_record:  # the relay before batching expected its send to return once acknowledged
            return await producer.send_and_wait(topic, value, key=key, headers=pairs)  # type: ignore[no-any-return]
        ack: Awaitable[object] = await producer.send(topic, value, key=key, headers=pairs)
        return ack

    parameters = inspect.signature(relay_class).parameters
    batches = {"handover": lambda: Handover(producer, KeyPartitioner())} if "handover" in parameters else {}
    relay = relay_class(pool, send, poll_seconds=0.05, **batches)
    started, cpu = time.perf_counter(), time.process_time()
    while await relay.publish_pending():
        pass
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    # Unpublished: still in the outbox, and (before migration 006) not marked published.
    left = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE failed_at IS NULL AND to_jsonb(outbox) ->> 'published_at' IS NULL"
    )
    assert left == 0, f"{left} rows left unpublished"
    return elapsed, cpu


async def records_on(settings: RuntimeSettings, topic: str) -> int:
    producer = AIOKafkaProducer(**settings.kafka.options())
    await producer.start()
    try:
        partitions = await producer.partitions_for(topic)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(**settings.kafka.options(), group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
    finally:
        await consumer.stop()
    return sum(ends.values())


async def run(rows: int, before: str) -> None:
    configure_logging("relay-bench", "WARNING", "console")
    tag = uuid.uuid4().hex[:8]
    common: dict[str, Any] = {
        "topic_prefix": f"bench{tag}.",
        "log_level": "WARNING",
        "keys_dir": tempfile.mkdtemp(prefix="lhl-bench-keys-"),
    }
    meetings = MeetingsSettings(**common, db_schema=f"bench{tag}_relay")
    operator = RuntimeSettings(**common, service_name="lhl-cli")
    topic = meetings.topic(topics.MEETINGS_EVENTS)
    await apply_namespace(operator.kafka, operator.topic_prefix)
    await ensure_topics(operator.kafka, [topic], meetings.topic_partitions)
    runs = (
        (f"before ({before})", relay_at(before).OutboxRelay, migrations_at(before), "before"),
        ("after (this tree)", OutboxRelay, db.RUNTIME_MIGRATIONS, "after"),
    )
    schemas = [f"{meetings.schema_name}_{suffix}" for *_, suffix in runs]
    timings: dict[str, tuple[float, float]] = {}
    try:
        for (name, relay_class, migrations, _), schema in zip(runs, schemas, strict=True):
            pool = await db.create_pool(meetings.database_url, schema)
            try:
                await db.migrate(pool, [migrations])
                await fill(pool, topic, rows)
                # Both with the service's producer options of today.
                producer = AIOKafkaProducer(**meetings.kafka.options(), **RELAY_PRODUCER_OPTIONS)
                await producer.start()
                try:
                    timings[name] = await drain(relay_class, pool, producer)
                finally:
                    await producer.stop()
            finally:
                await pool.close()
        on_topic = await records_on(meetings, topic)
    finally:
        admin = AIOKafkaAdminClient(**operator.kafka.options())
        await admin.start()
        with contextlib.suppress(Exception):
            await admin.delete_topics([topic])
        await admin.close()
        await remove_namespace(operator.kafka, operator.topic_prefix)
        conn = await asyncpg.connect(meetings.database_url)
        for schema in schemas:
            with contextlib.suppress(Exception):
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
    print(
        f"rows per drain:   {rows} of {PAYLOAD_BYTES} bytes, {len(REGIONS)} keys,"
        f" {meetings.topic_partitions} partitions"
    )
    for name, (seconds, cpu) in timings.items():
        print(f"{name:<22} {seconds:8.2f} s  {rows / seconds:>10,.0f} rows/s  {cpu / rows * 1e6:6.0f} µs CPU per row")
    print(f"records on topic: {on_topic} (expected {rows * len(timings)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=5_000, help="Outbox rows per drain (default 5000).")
    parser.add_argument("--before", default="00bc2a2", help="Git revision whose relay to compare with.")
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.before))


if __name__ == "__main__":
    main()
