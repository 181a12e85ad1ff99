"""The outbox relay publishes a batch without waiting for each acknowledgement in turn, and still keeps every
partition key's order: with two relays over one outbox, and when a row in the middle of a batch fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAuthorizationFailedError

from contracts import topics
from runtime import db
from runtime.kafka_access import KafkaAccess
from runtime.kafka_admin import Handover, KeyPartitioner, ensure_topics
from runtime.outbox import add_record
from runtime.relay import OutboxRelay
from runtime.relay_passes import BATCH_BYTES, VACUUM_AFTER_ROWS
from tests.integration.meetings.helpers import wait_until
from tests.support.infra import Infra
from tests.support.kafka import Bus

REGIONS = ("vestland", "agder", "rogaland", "nordland", "innlandet", "trondelag")


@pytest.fixture
async def outbox(infra: Infra, run_id: str) -> str:
    """A fresh schema with the runtime's tables, as one service's instances share it; yields its name."""
    schema = f"t{run_id}_relay"
    pool = await db.create_pool(infra.database_url, schema)
    await db.migrate(pool, [db.RUNTIME_MIGRATIONS])
    await pool.close()
    return schema


class Instance:
    """What one running instance of a service has for its relay: its own database pool and its own idempotent
    producer, renewed when a produce request failed, as the service does."""

    def __init__(self, infra: Infra, schema: str, access: KafkaAccess | None) -> None:
        self._infra = infra
        self._schema = schema
        self._access = access or infra.kafka
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = KeyPartitioner()
        self.pool: db.Pool | None = None

    async def start(self) -> None:
        self.pool = await db.create_pool(self._infra.database_url, self._schema)
        await self.renew()

    async def renew(self) -> None:
        old = self._producer
        self._producer = AIOKafkaProducer(**self._access.options(), acks="all", enable_idempotence=True)
        await self._producer.start()
        if old is not None:
            await old.stop()

    async def send(self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]) -> Awaitable[object]:
        assert self._producer is not None
        ack: Awaitable[object] = await self._producer.send(
            topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
        )
        return ack

    def relay(
        self,
        batch_size: int = 500,
        on_published: Callable[[int], None] = lambda rows: None,
        batch_bytes: int = BATCH_BYTES,
        vacuum_after: int = VACUUM_AFTER_ROWS,
    ) -> OutboxRelay:
        assert self.pool is not None
        return OutboxRelay(
            self.pool,
            self.send,
            handover=self.handover,
            poll_seconds=0.01,
            batch_size=batch_size,
            batch_bytes=batch_bytes,
            vacuum_after=vacuum_after,
            renew_producer=self.renew,
            on_published=on_published,
        )

    def handover(self) -> Handover:
        assert self._producer is not None
        return Handover(self._producer, self._partitioner)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
        if self.pool is not None:
            await self.pool.close()


@asynccontextmanager
async def instance(infra: Infra, schema: str, access: KafkaAccess | None = None) -> AsyncIterator[Instance]:
    started = Instance(infra, schema, access)
    try:
        await started.start()
        yield started
    finally:
        await started.stop()


def first_seen(records: list[ConsumerRecord[bytes, bytes]]) -> dict[bytes, list[bytes]]:
    """Each key's values in the order they first appeared on the topic (a repeat is what an inbox drops)."""
    seen: dict[bytes, list[bytes]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        assert record.key is not None
        assert record.value is not None
        values = seen.setdefault(record.key, [])
        if record.value not in values:
            values.append(record.value)
    return seen


async def write_rows(one: Instance, topic: str, values: Iterable[bytes], key: bytes = b"agder") -> db.Pool:
    """Rows for `topic` written to the instance's outbox in this order, as a handler writes them; its pool."""
    assert one.pool is not None
    async with one.pool.acquire() as conn:
        for value in values:
            await add_record(conn, topic, value, key, {})
    return one.pool


async def unpublished(pool: db.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM outbox WHERE failed_at IS NULL")
    return count


async def test_two_relays_over_one_outbox_publish_each_regions_events_in_the_order_they_were_written(
    infra: Infra, bus: Bus, outbox: str
) -> None:
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    await ensure_topics(infra.kafka, [topic], 3)
    per_region = 200

    async with instance(infra, outbox) as a, instance(infra, outbox) as b:
        assert a.pool is not None
        pool_a = a.pool

        async def write(numbers: range) -> None:
            for n in numbers:
                async with pool_a.acquire() as conn, conn.transaction():
                    for region in REGIONS:
                        await add_record(conn, topic, f"{region}:{n}".encode(), region.encode(), {})

        # A backlog both find at once, then more while they run; small batches, so they take many turns.
        await write(range(per_region // 2))
        relays = [a.relay(batch_size=20), b.relay(batch_size=20)]
        running = [asyncio.create_task(relay.run()) for relay in relays]
        await write(range(per_region // 2, per_region))
        await wait_until(lambda: unpublished(pool_a), lambda pending: pending == 0, timeout=60)
        for relay in relays:
            relay.stop()
        await asyncio.gather(*running)

    records = await bus.read(topics.AGREEMENT_INGRESS, lambda rs: len(rs) >= per_region * len(REGIONS))
    assert first_seen(records) == {
        region.encode(): [f"{region}:{n}".encode() for n in range(per_region)] for region in REGIONS
    }


async def test_a_row_the_broker_is_not_reached_for_stops_the_batch_there_and_nothing_behind_it_is_deleted(
    infra: Infra, bus: Bus, outbox: str
) -> None:
    # The meetings service may write its own events topic but not the evaluations': for its producer that topic is
    # as unreachable as a broker that is away, which is no reason to set the row aside.
    own = bus.topic(topics.MEETINGS_EVENTS)
    forbidden = bus.topic(topics.EVALUATIONS_EVENTS)
    await ensure_topics(infra.kafka, [own, forbidden], 3)
    written = [(own, b"first"), (own, b"second"), (forbidden, b"not allowed"), (own, b"third"), (own, b"fourth")]

    async with instance(infra, outbox, infra.service_kafka("meetings")) as meetings:
        pool = meetings.pool
        assert pool is not None
        async with pool.acquire() as conn:
            for to, value in written:
                await add_record(conn, to, value, b"vestland", {})
        counted: list[int] = []
        with pytest.raises(TopicAuthorizationFailedError):
            await meetings.relay(on_published=counted.append).publish_pending()
        rows = await pool.fetch("SELECT payload, failed_at FROM outbox ORDER BY id")

    assert counted == [2]  # the pass committed what the broker took before it raised

    # The two published rows are deleted; the rest wait, none set aside.
    assert [(bytes(r["payload"]), r["failed_at"] is not None) for r in rows] == [
        (b"not allowed", False),
        (b"third", False),
        (b"fourth", False),
    ]
    records = await bus.read(topics.MEETINGS_EVENTS, lambda rs: len(rs) >= 2, timeout=5)
    assert first_seen(records)[b"vestland"][:2] == [b"first", b"second"]


async def test_a_row_the_broker_refuses_in_the_middle_of_a_batch_is_set_aside_alone_and_the_order_holds(
    infra: Infra, bus: Bus, outbox: str
) -> None:
    # The producer would send this row; the broker refuses it for the topic's limit, and with it the whole produce
    # request it came in, which holds the rows beside it.
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    admin = AIOKafkaAdminClient(**infra.kafka.options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "4000"})])
    finally:
        await admin.close()
    values = [b"one", b"two", b"x" * 20_000, b"three", b"four"]

    async with instance(infra, outbox) as one:
        pool = await write_rows(one, topic, values)
        counted: list[int] = []
        await one.relay(on_published=counted.append).publish_pending()
        rows = await pool.fetch("SELECT payload, failed_at, last_error FROM outbox ORDER BY id")

    # The published rows are deleted; the one refused is kept, set aside with its error.
    assert [(bytes(r["payload"]), r["failed_at"] is not None) for r in rows] == [(values[2], True)]
    assert "TooLarge" in rows[0]["last_error"]
    assert sum(counted) == 4  # published, not set aside
    records = await bus.read(topics.AGREEMENT_INGRESS, lambda rs: len(first_seen(rs).get(b"agder", [])) >= 4)
    assert first_seen(records) == {b"agder": [b"one", b"two", b"three", b"four"]}


async def test_a_pass_holds_no_more_than_its_bytes_and_the_passes_after_it_publish_the_rest_in_order(
    infra: Infra, bus: Bus, outbox: str
) -> None:
    # A relay holds a pass's rows in memory: large rows (dead letters reach a megabyte) end a pass early.
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    await ensure_topics(infra.kafka, [topic], 1)
    values = [bytes([ord("a") + n]) * 300_000 for n in range(10)]
    async with instance(infra, outbox) as one:
        pool = await write_rows(one, topic, values)
        counted: list[int] = []
        relay = one.relay(batch_size=500, on_published=counted.append, batch_bytes=1_000_000)
        more = await relay.publish_pending()
        first_pass = list(counted)
        while await relay.publish_pending():
            pass
        left = await unpublished(pool)
        last = await relay.publish_pending()

    # Rows start at 0, 300k, 600k and 900k bytes into the pass before the limit: four, and more were waiting.
    assert first_pass == [4]
    assert more is True
    assert counted == [4, 4, 2]
    assert left == 0
    assert last is False
    records = await bus.read(topics.AGREEMENT_INGRESS, lambda rs: len(first_seen(rs).get(b"agder", [])) >= 10)
    assert first_seen(records) == {b"agder": values}


async def test_a_row_larger_than_a_pass_is_still_published_alone(infra: Infra, bus: Bus, outbox: str) -> None:
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    await ensure_topics(infra.kafka, [topic], 1)
    async with instance(infra, outbox) as one:
        await write_rows(one, topic, [b"x" * 50_000, b"small"])
        counted: list[int] = []
        relay = one.relay(on_published=counted.append, batch_bytes=10_000)
        while await relay.publish_pending():
            pass

    assert counted == [1, 1]
    records = await bus.read(topics.AGREEMENT_INGRESS, lambda rs: len(first_seen(rs).get(b"agder", [])) >= 2)
    assert first_seen(records) == {b"agder": [b"x" * 50_000, b"small"]}


async def test_the_relay_vacuums_the_outbox_after_so_many_rows_so_its_dead_rows_do_not_pile_up(
    infra: Infra, bus: Bus, outbox: str
) -> None:
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    await ensure_topics(infra.kafka, [topic], 1)
    async with instance(infra, outbox) as one:
        pool = one.pool
        assert pool is not None

        async def outbox_stats() -> tuple[int, int]:
            row = await pool.fetchrow(
                "SELECT vacuum_count, n_dead_tup FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'outbox'",
                outbox,
            )
            assert row is not None
            return row["vacuum_count"], row["n_dead_tup"]

        relay = one.relay(batch_size=100, vacuum_after=250)
        await write_rows(one, topic, (f"{n}".encode() for n in range(200)))
        while await relay.publish_pending():
            pass
        assert (await outbox_stats())[0] == 0  # 200 rows deleted: not yet
        await write_rows(one, topic, (f"{n}".encode() for n in range(200, 400)))
        while await relay.publish_pending():
            pass
        vacuumed, dead = await wait_until(outbox_stats, lambda stats: stats[0] >= 1)
        relay.stop()
        await relay.run()  # returns at once, once the vacuum it started has finished

    assert vacuumed == 1
    assert dead < 400


@pytest.mark.parametrize("headers", ['{"content-type": 1}', "null", '["content-type"]'])
async def test_a_row_whose_headers_are_not_texts_is_set_aside_and_the_rows_behind_it_go_on(
    infra: Infra, bus: Bus, outbox: str, headers: str
) -> None:
    # Only a bug or a hand-edited row puts such headers in the outbox; the producer would fail on it at every pass.
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    await ensure_topics(infra.kafka, [topic], 1)
    async with instance(infra, outbox) as one:
        pool = one.pool
        assert pool is not None
        async with pool.acquire() as conn:
            await add_record(conn, topic, b"one", b"agder", {})
            await conn.execute(
                "INSERT INTO outbox (topic, message_key, headers, payload) VALUES ($1, $2, $3::text::jsonb, $4)",
                topic,
                b"agder",
                headers,
                b"odd",
            )
            await add_record(conn, topic, b"two", b"agder", {})
        await one.relay().publish_pending()
        rows = await pool.fetch("SELECT payload, failed_at, last_error FROM outbox ORDER BY id")

    assert [(bytes(r["payload"]), r["failed_at"] is not None) for r in rows] == [(b"odd", True)]
    assert rows[0]["last_error"].startswith("TypeError: the outbox row's headers are not a JSON object of texts")
    records = await bus.read(topics.AGREEMENT_INGRESS, lambda rs: len(first_seen(rs).get(b"agder", [])) >= 2)
    assert first_seen(records) == {b"agder": [b"one", b"two"]}
