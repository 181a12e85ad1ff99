"""Only the database or the broker being away may make a record come again: a record that keeps failing while the
database answers is dead-lettered after a bounded number of tries, and an outbox row the broker refuses for good is
set aside while the rows behind it are published."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE
from runtime import db
from runtime.handling import HandlerContext
from runtime.kafka_admin import Handover, KeyPartitioner
from runtime.outbox import add_record
from runtime.pipeline import Pipeline
from runtime.records import Incoming
from runtime.relay import OutboxRelay
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.http import free_port
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.pipelines import held_meeting_pipeline, runtime_pool
from tests.support.signing import keys_for_tests


@pytest.fixture
async def pool(infra: Infra, run_id: str) -> AsyncIterator[db.Pool]:
    async with runtime_pool(infra, f"t{run_id}_loops") as created:
        yield created


async def times_out(ctx: HandlerContext, data: Any) -> None:
    raise TimeoutError("a statement that never finishes on this one record")


def failing_pipeline(pool: asyncpg.Pool, *, max_tries: int) -> Pipeline:
    """A pipeline whose one handler times out."""
    return held_meeting_pipeline(pool, times_out, name="loops", max_tries=max_tries)


async def test_a_record_failing_while_the_database_answers_is_dead_lettered_after_a_bounded_number_of_tries(
    pool: db.Pool,
) -> None:
    pipeline = failing_pipeline(pool, max_tries=3)
    event = keys_for_tests().sign(cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT))
    record = Incoming(topics.MEETINGS_INGRESS, 0, 41, event.partitionkey.encode(), event.to_bytes())
    for _ in range(2):
        with pytest.raises(TimeoutError):
            await pipeline.process(record)
    assert await pipeline.process(record) == "dead_lettered"
    letter = await pool.fetchrow("SELECT message_key, headers FROM outbox WHERE topic = $1", topics.DEAD_LETTER)
    assert letter is not None
    assert bytes(letter["message_key"]) == event.partitionkey.encode()
    assert letter["headers"][ERROR_CLASS] == "handler_error"
    assert letter["headers"][ERROR_MESSAGE] == (
        "failed 3 times while the database answered; last error TimeoutError: a statement that never finishes on "
        "this one record"
    )


async def test_an_outbox_row_the_broker_refuses_is_set_aside_and_the_rows_behind_it_are_published(
    pool: db.Pool, infra: Infra, bus: Bus
) -> None:
    topic = bus.topic(topics.AGREEMENT_INGRESS)  # a topic of the test's own, which the operator may write
    producer = AIOKafkaProducer(**infra.kafka.options(), acks="all", enable_idempotence=True)
    await producer.start()

    async def send(to: str, value: bytes, key: bytes | None, headers: Any) -> Awaitable[object]:
        ack: Awaitable[object] = await producer.send(
            to, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
        )
        return ack

    try:
        async with pool.acquire() as conn:
            await add_record(conn, topic, b"before", b"k\x00", {})
            await add_record(conn, topic, b"x" * 2_000_000, b"k\x00", {"why": "larger than the producer may send"})
            await add_record(conn, topic, b"after", b"k\x00", {})
        relay = OutboxRelay(pool, send, handover=lambda: Handover(producer, KeyPartitioner()), poll_seconds=0.1)
        await relay.publish_pending()
    finally:
        await producer.stop()
    rows = await pool.fetch("SELECT length(payload) AS size, failed_at, last_error FROM outbox ORDER BY id")
    published = await bus.read(topics.AGREEMENT_INGRESS, lambda rs: len(rs) >= 2)
    assert [(r.key, r.value) for r in published] == [(b"k\x00", b"before"), (b"k\x00", b"after")]
    # The two published rows are deleted; the one too large is kept, set aside with its error.
    assert [(r["size"], r["failed_at"] is not None) for r in rows] == [(2_000_000, True)]
    assert rows[0]["last_error"].startswith(MessageSizeTooLargeError.__name__)


async def test_a_record_comes_again_for_as_long_as_the_database_is_unreachable_and_is_never_parked_for_it() -> None:
    nobody = await asyncpg.create_pool(f"postgresql://lhl:lhl@127.0.0.1:{free_port()}/lhl", min_size=0)
    pipeline = failing_pipeline(nobody, max_tries=2)
    event = keys_for_tests().sign(cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT))
    record = Incoming(topics.MEETINGS_INGRESS, 0, 41, event.partitionkey.encode(), event.to_bytes())
    try:
        for _ in range(4):  # twice the tries a record failing on its own gets
            with pytest.raises(ConnectionRefusedError):
                await pipeline.process(record)
    finally:
        await nobody.close()
