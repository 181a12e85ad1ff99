"""A poll's records taken partition by partition, each partition's in order, and rewound where not committed.

A partition's offsets are committed (by the OffsetCommitter) after its records' transaction. The partitions of a
poll are taken at once, each in its own transaction: while one waits on the database, the event loop works on
another, and a service whose handlers make a few round trips per record spent about half its time waiting. Order
is only promised within a partition (a partition key's events are all on one), as with several instances.

A small poll's partitions of one topic are taken together, in one transaction (each partition's records still in
their order): at a steady 200 events/s a poll holds a record or two per partition, and a transaction each (with its
commit, its fsync and a pass of the outbox relay) cost more than their records. A large poll keeps one transaction
per partition, taken at once.

When batches fail, the partitions of those not committed are rewound to their first record not committed, so those
records come again, and what was committed is not redone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, Protocol, TypeVar

from aiokafka import TopicPartition

from runtime.polling import INFRASTRUCTURE_ERRORS
from runtime.records import Incoming

AT_ONCE: Final = 4
"""Partitions taken at once, each holding a database connection of the pool (10) while it works."""


SMALL_POLL: Final = 100
"""A topic's records in a poll, at most, for its partitions to be taken in one transaction."""


def batches_of(records: Sequence[Incoming], small: int = SMALL_POLL) -> list[list[Incoming]]:
    """A batch per partition, in the order the poll brought them; a topic's partitions in one if it has few records."""
    partitions: dict[tuple[str, int], list[Incoming]] = {}
    for record in records:
        partitions.setdefault((record.topic, record.partition), []).append(record)
    topics: dict[str, list[list[Incoming]]] = {}
    for (topic, _), batch in partitions.items():
        topics.setdefault(topic, []).append(batch)
    batches: list[list[Incoming]] = []
    for of_topic in topics.values():
        if len(of_topic) > 1 and sum(len(b) for b in of_topic) <= small:
            batches.append([record for batch in of_topic for record in batch])
        else:
            batches += of_topic
    return batches


class Placed(Protocol):
    """A record as its place in the topics tells it: ours (`Incoming`) or the consumer's own."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...


R = TypeVar("R", bound=Placed)


def last_of_each_partition(batch: Sequence[R]) -> list[R]:
    return list({(r.topic, r.partition): r for r in batch}.values())


def first_of_each_partition(batch: Sequence[R]) -> list[R]:
    return list({(r.topic, r.partition): r for r in reversed(batch)}.values())


async def process_poll(
    records: Sequence[Incoming],
    consumer: Any,
    process: Callable[[list[Incoming]], Awaitable[None]],
    small: int = SMALL_POLL,
) -> None:
    """`process` gets each batch (see `batches_of`); on a failure, the list it got keeps those it did not commit."""
    waiting = batches_of(records, small)
    done: set[int] = set()
    turns = asyncio.Semaphore(AT_ONCE)

    async def take(index: int, batch: list[Incoming]) -> None:
        async with turns:
            await process(batch)
        done.add(index)

    try:
        results = await asyncio.gather(*(take(i, b) for i, b in enumerate(waiting)), return_exceptions=True)
        failed = [result for result in results if isinstance(result, BaseException)]
        if failed:
            raise failed[0]
    except BaseException:
        rewind(consumer, [record for index, batch in enumerate(waiting) if index not in done for record in batch])
        raise


def rewind(consumer: Any, records: Sequence[Placed]) -> None:
    """Seek each of the records' partitions back to its first record among them, so they come again."""
    assigned = consumer.assignment()
    for record in first_of_each_partition(records):
        at = TopicPartition(record.topic, record.partition)
        if at in assigned:  # a partition a rebalance took away resumes from its last commit elsewhere
            consumer.seek(at, record.offset)


RAW_RETRY_PAUSE_SECONDS = 1.0
"""How long a raw handler (the dead-letter topic's) that finds the database away waits before its record again."""


async def one_by_one(
    batch: list[Incoming],
    handle: Callable[[Incoming], Awaitable[None]],
    committed: Callable[[Incoming], None],
    pause_seconds: float = RAW_RETRY_PAUSE_SECONDS,
) -> None:
    """Records whose handler owns its deduplication and its transactions (a raw topic's): each committed alone, and
    taken out of `batch` once it is."""
    while batch:
        try:
            await handle(batch[0])
        except INFRASTRUCTURE_ERRORS:
            await asyncio.sleep(pause_seconds)  # the record comes again: not in a tight loop
            raise
        committed(batch.pop(0))
