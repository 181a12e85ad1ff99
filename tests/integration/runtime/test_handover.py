"""A relay pass hands its records to the producer as one batch per partition, another when one is full: every
record lands on its key's partition in the order it was added; a record too large for a request is refused when it
is added, and a topic the producer may not write fails only its own batch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError, TopicAuthorizationFailedError
from aiokafka.partitioner import DefaultPartitioner

from contracts import topics
from runtime.kafka_admin import MAX_REQUEST_BYTES, Handover, KeyPartitioner, ensure_topics
from runtime.relay import RELAY_PRODUCER_OPTIONS
from tests.support.infra import Infra
from tests.support.kafka import Bus

KEYS = [f"leve-hele-livet-2019-2023/{region}".encode() for region in ("vestland", "agder", "nordland", "national")]


@pytest.fixture
async def producer(infra: Infra) -> AsyncIterator[AIOKafkaProducer]:
    started = AIOKafkaProducer(**infra.kafka.options(), **RELAY_PRODUCER_OPTIONS)
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def test_records_reach_their_keys_partitions_in_order_through_batches_that_fill(
    infra: Infra, bus: Bus, producer: AIOKafkaProducer
) -> None:
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    await ensure_topics(infra.kafka, [topic], 3)
    # 4 keys x 150 records of 2 kB: a key's 300 kB are more than one 256 KiB batch.
    sent = [(key, f"{n}:".encode() + b"x" * 2_000) for n in range(150) for key in KEYS]
    handover = Handover(producer, KeyPartitioner())
    acks = [
        await handover.add(topic, value, key, {"content-type": "application/cloudevents+json"}) for key, value in sent
    ]
    await handover.flush()
    await asyncio.gather(*acks)

    records = await bus.read(topics.AGREEMENT_INGRESS, lambda rs: len(rs) >= len(sent))
    assert len(records) == len(sent)
    for key in KEYS:
        on_topic = sorted((r for r in records if r.key == key), key=lambda r: r.offset)
        assert [r.value for r in on_topic] == [value for k, value in sent if k == key]
        assert {r.partition for r in on_topic} == {DefaultPartitioner()(key, [0, 1, 2], [0, 1, 2])}
        assert all(r.headers == (("content-type", b"application/cloudevents+json"),) for r in on_topic)


async def test_a_record_larger_than_a_batch_goes_in_one_of_its_own_between_the_others(
    infra: Infra, bus: Bus, producer: AIOKafkaProducer
) -> None:
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    await ensure_topics(infra.kafka, [topic], 1)
    values = [b"before", b"x" * 600_000, b"after"]  # the middle one is over the 256 KiB of a batch
    handover = Handover(producer, KeyPartitioner())
    acks = [await handover.add(topic, value, KEYS[0], {}) for value in values]
    await handover.flush()
    await asyncio.gather(*acks)

    records = await bus.read(topics.AGREEMENT_INGRESS, lambda rs: len(rs) >= 3)
    assert [r.value for r in sorted(records, key=lambda r: r.offset)] == values


async def test_a_record_over_the_request_limit_is_refused_when_added_and_the_others_go(
    infra: Infra, bus: Bus, producer: AIOKafkaProducer
) -> None:
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    await ensure_topics(infra.kafka, [topic], 1)
    handover = Handover(producer, KeyPartitioner())
    first = await handover.add(topic, b"first", KEYS[0], {})
    with pytest.raises(MessageSizeTooLargeError, match=f"over the producer's {MAX_REQUEST_BYTES}"):
        await handover.add(topic, b"x" * MAX_REQUEST_BYTES, KEYS[0], {})
    last = await handover.add(topic, b"last", KEYS[0], {})
    await handover.flush()
    await asyncio.gather(first, last)

    records = await bus.read(topics.AGREEMENT_INGRESS, lambda rs: len(rs) >= 2)
    assert [r.value for r in records] == [b"first", b"last"]


async def test_a_topic_the_producer_may_not_write_fails_its_batch_and_no_other(infra: Infra, bus: Bus) -> None:
    own, forbidden = bus.topic(topics.MEETINGS_EVENTS), bus.topic(topics.EVALUATIONS_EVENTS)
    await ensure_topics(infra.kafka, [own, forbidden], 1)
    meetings = AIOKafkaProducer(**infra.service_kafka("meetings").options(), **RELAY_PRODUCER_OPTIONS)
    await meetings.start()
    try:
        handover = Handover(meetings, KeyPartitioner())
        refused = await handover.add(forbidden, b"not allowed", KEYS[0], {})
        taken = await handover.add(own, b"mine", KEYS[0], {})
        await handover.flush()
        await taken
        with pytest.raises(TopicAuthorizationFailedError):
            await refused
    finally:
        await meetings.stop()
