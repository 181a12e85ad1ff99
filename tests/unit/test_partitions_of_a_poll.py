"""A poll's partitions are taken at once, each in its own order (a small poll's in one batch); those that fail or
are cut short come again from their first record not committed, and those that committed do not.

The tests with `small=0` take the path of a large poll: a batch per partition."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition

from runtime.partitions import process_poll, rewind
from runtime.records import Incoming


class FakeConsumer:
    """Stands in for aiokafka's consumer: its assignment, and where it was told to read from next."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.seeks: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def seek(self, at: TopicPartition, offset: int) -> None:
        self.seeks[at] = offset


P0, P1, P2 = TopicPartition("t", 0), TopicPartition("t", 1), TopicPartition("t", 2)


def poll(*counts: int) -> list[Incoming]:
    """Records of partitions 0, 1, ... interleaved as a poll brings them, from offset 10 on."""
    records = []
    for offset in range(max(counts)):
        for partition, count in enumerate(counts):
            if offset < count:
                records.append(Incoming("t", partition, 10 + offset, b"k", b"{}"))
    return records


async def test_a_partition_waiting_on_the_database_does_not_hold_back_another() -> None:
    """Partition 0's batch can only finish once partition 1's has: taken one after the other, it would never."""
    second_done = asyncio.Event()
    order: list[tuple[int, list[int]]] = []

    async def process(batch: list[Incoming]) -> None:
        if batch[0].partition == 0:
            await second_done.wait()
        order.append((batch[0].partition, [r.offset for r in batch]))
        if batch[0].partition == 1:
            second_done.set()

    async with asyncio.timeout(5):
        await process_poll(poll(3, 2), FakeConsumer({P0, P1}), process, small=0)

    assert order == [(1, [10, 11]), (0, [10, 11, 12])]


async def test_only_the_partitions_that_did_not_commit_come_again() -> None:
    consumer = FakeConsumer({P0, P1, P2})

    async def process(batch: list[Incoming]) -> None:
        if batch[0].partition == 1:
            raise ConnectionResetError("the database went away")
        if batch[0].partition == 2:  # a raw topic's records commit one at a time: two did, one did not
            del batch[:2]
            raise ConnectionResetError("the database went away")

    with pytest.raises(ConnectionResetError):
        await process_poll(poll(2, 2, 3), consumer, process, small=0)

    assert consumer.seeks == {P1: 10, P2: 12}


async def test_a_partition_taken_away_by_a_rebalance_is_not_rewound_here() -> None:
    consumer = FakeConsumer({P0})

    async def process(batch: list[Incoming]) -> None:
        raise ConnectionResetError("the database went away")

    with pytest.raises(ConnectionResetError):
        await process_poll(poll(1, 1), consumer, process, small=0)

    assert consumer.seeks == {P0: 10}


async def test_a_poll_cut_short_rewinds_what_had_not_committed() -> None:
    consumer = FakeConsumer({P0, P1})
    started = asyncio.Event()

    async def process(batch: list[Incoming]) -> None:
        if batch[0].partition == 0:
            return
        started.set()
        await asyncio.sleep(60)

    task = asyncio.create_task(process_poll(poll(2, 2), consumer, process, small=0))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert consumer.seeks == {P1: 10}


async def test_a_small_polls_partitions_of_one_topic_are_one_batch_each_partition_in_its_order() -> None:
    batches: list[list[tuple[str, int, int]]] = []

    async def process(batch: list[Incoming]) -> None:
        batches.append([(r.topic, r.partition, r.offset) for r in batch])

    other = [Incoming("u", 0, 5, b"k", b"{}")]
    await process_poll([*poll(3, 2, 1), *other], FakeConsumer({P0, P1, P2}), process, small=6)

    assert batches == [
        [("t", 0, 10), ("t", 0, 11), ("t", 0, 12), ("t", 1, 10), ("t", 1, 11), ("t", 2, 10)],
        [("u", 0, 5)],
    ]


async def test_a_poll_over_the_limit_keeps_a_batch_per_partition() -> None:
    sizes: list[int] = []

    async def process(batch: list[Incoming]) -> None:
        sizes.append(len(batch))

    await process_poll(poll(3, 2, 1), FakeConsumer({P0, P1, P2}), process, small=5)

    assert sorted(sizes) == [1, 2, 3]


async def test_a_small_batch_that_fails_rewinds_each_of_its_partitions_to_its_first_record_not_committed() -> None:
    consumer = FakeConsumer({P0, P1, P2})

    async def process(batch: list[Incoming]) -> None:
        del batch[:3]  # a raw topic's records commit one at a time: partition 0's three did
        raise ConnectionResetError("the database went away")

    with pytest.raises(ConnectionResetError):
        await process_poll(poll(3, 2, 1), consumer, process)

    assert consumer.seeks == {P1: 10, P2: 10}


def test_a_rewind_brings_each_assigned_partition_back_to_its_first_record() -> None:
    """As the audit's batch is rewound when it is not recorded."""
    consumer = FakeConsumer({TopicPartition("t", 0), TopicPartition("t", 1)})
    rewind(consumer, [Incoming("t", p, offset, b"k", b"{}") for p, offset in ((0, 7), (1, 3), (0, 8), (2, 5))])
    # Partition 2 went to another member in a rebalance: it resumes there from its last commit.
    assert consumer.seeks == {TopicPartition("t", 0): 7, TopicPartition("t", 1): 3}
