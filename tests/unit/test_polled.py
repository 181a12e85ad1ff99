"""What a handler gets of a poll: its records and consumer, with nothing that keeps the poll alive after it, and a
rewind that brings its partitions back to their first records."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream.kafka.message import KafkaMessage

from runtime.partitions import rewind
from runtime.records import Polled, polled


def record(topic: str, partition: int, offset: int) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(topic, partition, offset, 0, 0, None, b"{}", None, 0, 2, ())


class FakeConsumer:
    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.seeks: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def seek(self, at: TopicPartition, offset: int) -> None:
        self.seeks[at] = offset

    async def commit(self) -> None:
        raise AssertionError("nothing here commits through the message")


async def test_a_poll_is_freed_once_handled_without_waiting_for_the_cycle_collector() -> None:
    records = (record("t", 0, 7), record("t", 1, 3))
    consumer = FakeConsumer(set())
    message = KafkaMessage(records, b"", consumer=consumer)
    message.set_decoder(polled)
    gc.disable()  # only reference counting frees it now: a cycle through the decoded body would keep it
    try:
        poll = await message.decode()  # FastStream keeps the decoded body on the message
        assert isinstance(poll, Polled)
        gone = weakref.ref(message)
        del message
        assert gone() is None
    finally:
        gc.enable()
    assert poll.records == records
    assert poll.consumer is consumer


def test_a_rewind_brings_each_assigned_partition_back_to_its_first_record() -> None:
    consumer = FakeConsumer({TopicPartition("t", 0), TopicPartition("t", 1)})
    rewind(consumer, [record("t", 0, 7), record("t", 1, 3), record("t", 0, 8), record("t", 2, 5)])
    # Partition 2 went to another member in a rebalance: it resumes there from its last commit.
    assert consumer.seeks == {TopicPartition("t", 0): 7, TopicPartition("t", 1): 3}
