"""Offsets are committed explicitly, one past each processed record, and a failed commit is retried."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError

from runtime.offsets import OffsetCommitter


class FakeConsumer:
    """Stands in for aiokafka's consumer: records commits, fails when told to."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.commits: list[dict[TopicPartition, int]] = []
        self.fail_next = False

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise CommitFailedError("rebalance in progress")
        self.commits.append(dict(offsets))

    def assignment(self) -> set[TopicPartition]:
        return self.assigned


A0, A1 = TopicPartition("a", 0), TopicPartition("a", 1)


async def test_the_commit_names_one_past_the_last_processed_record_of_each_partition() -> None:
    consumer = FakeConsumer({A0, A1})
    committer = OffsetCommitter(interval_seconds=60)
    for offset in (4, 5, 6):
        committer.processed(consumer, "a", 0, offset)
    committer.processed(consumer, "a", 1, 10)
    await committer.flush()
    await committer.flush()  # nothing new: no second commit
    assert consumer.commits == [{A0: 7, A1: 11}]


async def test_a_failed_commit_is_retried_for_partitions_still_assigned() -> None:
    consumer = FakeConsumer({A0, A1})
    committer = OffsetCommitter(interval_seconds=60)
    committer.processed(consumer, "a", 0, 1)
    committer.processed(consumer, "a", 1, 2)
    consumer.fail_next = True
    await committer.flush()
    consumer.assigned = {A1}  # the rebalance gave partition 0 to another member
    await committer.flush()
    assert consumer.commits == [{A1: 3}]


async def test_stopping_commits_what_was_processed_since_the_last_commit() -> None:
    consumer = FakeConsumer({A0})
    committer = OffsetCommitter(interval_seconds=60)
    committer.processed(consumer, "a", 0, 41)
    await committer.stop()
    assert consumer.commits == [{A0: 42}]
