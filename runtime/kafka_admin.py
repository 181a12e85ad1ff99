"""Kafka administration a service does for itself: create its missing topics, open the outbox's producer, and stop
the broker within a bound."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping, Sequence

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner, murmur2
from faststream.kafka import KafkaBroker

from runtime.kafka_access import KafkaAccess
from runtime.relay import RELAY_PRODUCER_OPTIONS
from runtime.settings import RuntimeSettings

BROKER_STOP_TIMEOUT_SECONDS = 30.0
"""FastStream gives in-flight handlers up to 15 s, then each consumer leaves its group; past this, give up."""


async def ensure_topics(kafka: KafkaAccess, names: Sequence[str], partitions: int) -> None:
    """Create those of the topics that are missing; the broker lets each principal create only its own topics."""
    admin = AIOKafkaAdminClient(**kafka.options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


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


class OutboxProducer:
    """The producer the outbox relay hands records to (see RELAY_PRODUCER_OPTIONS for why it keeps each key's order).

    After a produce request failed it is replaced by a new one: aiokafka never gives back the sequence numbers of a
    failed request, so every later record of that partition would fail with OutOfOrderSequenceNumber for good."""

    def __init__(self, settings: RuntimeSettings, stop_seconds: float) -> None:
        self._settings = settings
        self._stop_seconds = stop_seconds
        self.current: AIOKafkaProducer | None = None

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
            client_id=f"lhl-{s.service_name}-outbox",
            partitioner=KeyPartitioner(),
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
