"""Kafka administration a service does for itself: create its missing topics, open the outbox's producer, and stop
the broker within a bound."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from runtime.kafka_access import KafkaAccess
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


def outbox_producer(settings: RuntimeSettings) -> AIOKafkaProducer:
    """The producer the outbox relay publishes with: idempotent and acknowledged by every replica."""
    return AIOKafkaProducer(
        **settings.kafka.options(),
        acks="all",
        enable_idempotence=True,
        client_id=f"lhl-{settings.service_name}-outbox",
    )


async def stop_broker(broker: KafkaBroker, log: structlog.stdlib.BoundLogger) -> None:
    """Stop the broker's consumers and producer, but never wait on a broker that stopped answering for ever:
    aiokafka's consumer stop waits for its group coordination to finish, which retries while the broker is gone."""
    try:
        async with asyncio.timeout(BROKER_STOP_TIMEOUT_SECONDS):
            await broker.stop()
    except TimeoutError:
        log.warning("broker_stop_timeout", seconds=BROKER_STOP_TIMEOUT_SECONDS)
