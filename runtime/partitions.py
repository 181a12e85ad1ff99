"""A poll's records taken partition by partition, each partition's in order, and rewound where not committed.

A partition's offsets are committed (by the OffsetCommitter) after its records' transaction. The partitions of a
poll are taken at once, each in its own transaction: while one waits on the database, the event loop works on
another, and a service whose handlers make a few round trips per record spent about half its time waiting. Order
is only promised within a partition (a partition key's events are all on one), as with several instances.

When partitions fail, those not committed are rewound to their first record not committed, so those records come
again, and what was committed is not redone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from aiokafka import TopicPartition

from runtime.polling import INFRASTRUCTURE_ERRORS
from runtime.records import Incoming

AT_ONCE: Final = 4
"""Partitions taken at once, each holding a database connection of the pool (10) while it works."""


async def process_poll(
    records: Sequence[Incoming], consumer: Any, process: Callable[[list[Incoming]], Awaitable[None]]
) -> None:
    """`process` gets each partition's records; on a failure, the list it got keeps those it did not commit."""
    batches: dict[tuple[str, int], list[Incoming]] = {}
    for record in records:
        batches.setdefault((record.topic, record.partition), []).append(record)
    waiting = list(batches.values())
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
        assigned = consumer.assignment()
        for index, batch in enumerate(waiting):
            if index in done or not batch:
                continue
            at = TopicPartition(batch[0].topic, batch[0].partition)
            if at in assigned:  # a partition a rebalance took away resumes from its last commit elsewhere
                consumer.seek(at, batch[0].offset)
        raise


async def one_by_one(
    batch: list[Incoming],
    handle: Callable[[Incoming], Awaitable[None]],
    committed: Callable[[Incoming], None],
    pause_seconds: float,
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
