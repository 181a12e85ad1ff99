"""Kafka administration a service does for itself: create its missing topics, open the outbox's producer, and stop
the broker within a bound."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import MessageSizeTooLargeError, TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner, murmur2
from aiokafka.producer.message_accumulator import BatchBuilder
from faststream.kafka import KafkaBroker

from runtime.kafka_access import KafkaAccess
from runtime.relay import RELAY_PRODUCER_OPTIONS
from runtime.settings import RuntimeSettings

BROKER_STOP_TIMEOUT_SECONDS = 30.0
"""FastStream gives in-flight handlers up to 15 s, then each consumer leaves its group; past this, give up."""


TOPICS_READY_SECONDS = 30.0
"""How long a service waits for the topics it created to have a leader for every partition."""


async def ensure_topics(kafka: KafkaAccess, names: Sequence[str], partitions: int) -> None:
    """Create those of the topics that are missing, and return once every partition of them has a leader; the
    broker lets each principal create only its own topics.

    The broker answers a creation before its metadata lists the new partitions with their leaders: the audit,
    subscribing at once to topics it had just created, logged "topic not found" at ERROR level on a fresh broker,
    alarming an operator over what is only a service starting up."""
    admin = AIOKafkaAdminClient(**kafka.options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            await _until_led(admin, [topic.name for topic in missing], TOPICS_READY_SECONDS)
    finally:
        await admin.close()


async def _until_led(admin: AIOKafkaAdminClient, names: Sequence[str], seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        waiting = sorted(_without_leader(await admin.describe_topics(list(names))))
        if not waiting:
            return
        if loop.time() >= deadline:
            raise TimeoutError(f"topics {', '.join(waiting)} have no leader for every partition after {seconds:.0f} s")
        await asyncio.sleep(0.05)


def _without_leader(described: Sequence[Mapping[str, Any]]) -> set[str]:
    """The topics of a metadata answer that are unknown yet or have a partition without a leader."""
    return {
        topic["topic"]
        for topic in described
        if topic["error_code"] != 0
        or not topic["partitions"]
        or any(p["error_code"] != 0 or p["leader"] < 0 for p in topic["partitions"])
    }


class KeyPartitioner:
    """aiokafka's default partitioner (murmur2 of the key, as Kafka's Java client), each key's hash remembered.

    aiokafka's murmur2 is pure Python, about 2 % of a service's time; a service's keys are an agreement and a
    region, a few dozen. Past `limit` keys it starts afresh, so odd keys cannot grow it."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            partition: int = DefaultPartitioner()(key, all_partitions, available)
            return partition
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self._limit:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[hashed % len(all_partitions)]


MAX_REQUEST_BYTES = 1_048_576
"""The outbox producer's request limit (aiokafka's default, given to it explicitly): `Handover` refuses a larger
record before it is sent, as `send` does."""


class Handover:
    """One relay pass's records, handed to the producer as one batch per partition (another when one is full), in
    the order they come: aiokafka's `send` spends about 33 µs of Python on each record, a batch's append about 16
    (measured on this machine). A record's acknowledgement is its batch's.

    As with `send`, a record the producer would refuse by itself raises at once (MessageSizeTooLargeError), and so
    does a topic the producer cannot reach (its metadata): nothing is added after that. `flush` sends what is left."""

    def __init__(self, producer: AIOKafkaProducer, partitioner: KeyPartitioner) -> None:
        self._producer = producer
        self._partitioner = partitioner
        self._open: dict[tuple[str, int], tuple[BatchBuilder, asyncio.Future[object]]] = {}
        self._partitions: dict[str, list[int]] = {}

    async def add(self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]) -> Awaitable[object]:
        pairs = [(name, text.encode()) for name, text in headers.items()]
        size = len(value) + len(key or b"") + sum(len(name) + len(raw) for name, raw in pairs)
        if size > MAX_REQUEST_BYTES:
            raise MessageSizeTooLargeError(f"the record is {size} bytes, over the producer's {MAX_REQUEST_BYTES}")
        partitions = self._partitions.get(topic)
        if partitions is None:
            partitions = self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
        at = (topic, self._partitioner(key, partitions, partitions))
        batch = self._open.get(at)
        if batch is not None and batch[0].append(timestamp=None, key=key, value=value, headers=pairs) is not None:
            return batch[1]
        if batch is not None:  # full: sent now, so the partition's records keep their order
            await self._send(at, *batch)
        batch = self._open[at] = (self._producer.create_batch(), asyncio.get_running_loop().create_future())
        # A batch takes its first record whatever its size (the check above keeps to the request's limit); were it
        # ever refused, the record must not pass for handed over.
        if batch[0].append(timestamp=None, key=key, value=value, headers=pairs) is None:
            del self._open[at]
            raise MessageSizeTooLargeError(f"the record ({size} bytes) does not fit in an empty batch")
        return batch[1]

    async def flush(self) -> None:
        """Send every batch still open; one that cannot be handed over fails its records' acknowledgement."""
        open_batches, self._open = self._open, {}
        for at, (builder, ack) in open_batches.items():
            await self._send(at, builder, ack)

    async def _send(self, at: tuple[str, int], builder: BatchBuilder, ack: asyncio.Future[object]) -> None:
        try:
            sent = await self._producer.send_batch(builder, at[0], partition=at[1])
        except Exception as error:
            ack.set_exception(error)
            return
        sent.add_done_callback(lambda done: _settle(ack, done))


def _settle(ack: asyncio.Future[object], done: asyncio.Future[object]) -> None:
    if done.cancelled():
        ack.cancel()
    elif (error := done.exception()) is not None:
        ack.set_exception(error)
    else:
        ack.set_result(done.result())


class OutboxProducer:
    """The producer the outbox relay hands records to (see RELAY_PRODUCER_OPTIONS for why it keeps each key's order).

    After a produce request failed it is replaced by a new one: aiokafka never gives back the sequence numbers of a
    failed request, so every later record of that partition would fail with OutOfOrderSequenceNumber for good."""

    def __init__(self, settings: RuntimeSettings, stop_seconds: float) -> None:
        self._settings = settings
        self._stop_seconds = stop_seconds
        self.current: AIOKafkaProducer | None = None
        self._partitioner = KeyPartitioner()

    async def start(self) -> None:
        self.current = await self._started()

    async def send(self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]) -> Awaitable[object]:
        """Hand one record over; what it returns completes when the broker acknowledged the record."""
        if self.current is None:
            raise RuntimeError("the outbox producer is not started")
        ack: Awaitable[object] = await self.current.send(
            topic, value=value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
        )
        return ack

    def handover(self) -> Handover:
        """A relay pass's records, handed over in batches (`Handover`)."""
        if self.current is None:
            raise RuntimeError("the outbox producer is not started")
        return Handover(self.current, self._partitioner)

    async def renew(self) -> None:
        renewed = await self._started()
        old, self.current = self.current, renewed
        await self._stop(old)

    async def stop(self) -> None:
        old, self.current = self.current, None
        await self._stop(old)

    async def _started(self) -> AIOKafkaProducer:
        s = self._settings
        producer = AIOKafkaProducer(
            **s.kafka.options(),
            **RELAY_PRODUCER_OPTIONS,
            max_request_size=MAX_REQUEST_BYTES,
            client_id=f"lhl-{s.service_name}-outbox",
            partitioner=self._partitioner,
        )
        await producer.start()
        return producer

    async def _stop(self, producer: AIOKafkaProducer | None) -> None:
        if producer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._stop_seconds):
                    await producer.stop()


async def stop_broker(broker: KafkaBroker, log: structlog.stdlib.BoundLogger) -> None:
    """Stop the broker's consumers and producer, but never wait on a broker that stopped answering for ever:
    aiokafka's consumer stop waits for its group coordination to finish, which retries while the broker is gone."""
    try:
        async with asyncio.timeout(BROKER_STOP_TIMEOUT_SECONDS):
            await broker.stop()
    except TimeoutError:
        log.warning("broker_stop_timeout", seconds=BROKER_STOP_TIMEOUT_SECONDS)
