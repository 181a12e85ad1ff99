"""Clients of the broker as one principal or another, for the tests of who may do what."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code
from aiokafka.structs import OffsetAndMetadata

from deploy import stack
from runtime.kafka_access import KafkaAccess
from tests.support.infra import Infra


def publisher(infra: Infra, organisation: str) -> KafkaAccess:
    """A publishing system's principal, with its password from the launcher's state folder."""
    user = f"org-{organisation}"
    return infra.kafka.as_user(user, stack.broker_password(user))


def anonymous(infra: Infra) -> KafkaAccess:
    return KafkaAccess(infra.kafka_bootstrap_servers)


async def produce(access: KafkaAccess, topic: str, value: bytes = b"{}") -> None:
    producer = AIOKafkaProducer(**access.options(), acks="all", request_timeout_ms=10_000)
    await producer.start()
    try:
        # Partition 0, so that a reader of partition 0 finds it.
        await producer.send_and_wait(topic, value, partition=0)
    finally:
        await producer.stop()


async def read_values(access: KafkaAccess, topic: str) -> list[bytes]:
    """The values on partition 0 of the topic, read from the beginning without a group."""
    consumer = AIOKafkaConsumer(**access.options(), group_id=None)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        batch = await consumer.getmany(partition, timeout_ms=3000)
        return [record.value for record in batch.get(partition, []) if record.value is not None]
    finally:
        await consumer.stop()


async def commit_offset(access: KafkaAccess, group: str, topic: str) -> None:
    """Commit offset 0 of partition 0 for the group: what moving a group past unread records takes."""
    consumer = AIOKafkaConsumer(**access.options(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.commit({partition: OffsetAndMetadata(0, "")})
    finally:
        await consumer.stop()


def _raise_for(code: int) -> None:
    # aiokafka's admin client returns per-topic error codes instead of raising them.
    if code != 0:
        raise for_code(code)()


async def create_topic(access: KafkaAccess, topic: str) -> None:
    admin = AIOKafkaAdminClient(**access.options())
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        for _name, code, *_ in response.topic_errors:
            _raise_for(code)
    finally:
        await admin.close()


async def delete_topic(access: KafkaAccess, topic: str) -> None:
    admin = AIOKafkaAdminClient(**access.options())
    await admin.start()
    try:
        response = await admin.delete_topics([topic])
        for _name, code, *_ in response.topic_error_codes:
            _raise_for(code)
    finally:
        await admin.close()
