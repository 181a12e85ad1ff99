"""Offsets committed a few times a second, each only after its record's database transaction committed.

Committing once per record cost a broker round trip per event and capped a service at about 85 events/s. The
offsets are explicit (the record's offset + 1), never "whatever was consumed", so a record still being handled
is never committed. A crash between a transaction and the next commit redelivers a few records, which the inbox
turns into duplicates without effects.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from runtime.logging import get_logger
from runtime.wakeup import Wakeup


class OffsetCommitter:
    def __init__(self, interval_seconds: float, commit_timeout_seconds: float = 10.0) -> None:
        self._interval = interval_seconds
        self._commit_timeout = commit_timeout_seconds
        self._pending: dict[TopicPartition, int] = {}
        self._consumer: Any = None
        self._wakeup = Wakeup()
        self._stopping = False
        self._log = get_logger(component="offsets")

    def processed(self, consumer: Any, topic: str, partition: int, offset: int) -> None:
        """Record that a record's effects are committed in the database; its offset may now be committed."""
        self._consumer = consumer
        self._pending[TopicPartition(topic, partition)] = offset + 1

    async def flush(self) -> None:
        if not self._pending or self._consumer is None:
            return
        # A partition a rebalance gave to another member is theirs to commit; they resume from the last commit
        # and the inbox absorbs what is redelivered.
        assigned = self._consumer.assignment()
        offsets = {tp: offset for tp, offset in self._pending.items() if tp in assigned}
        self._pending = {}
        if not offsets:
            return
        try:
            # aiokafka retries a commit while the group coordinator is unknown; never let that hold up a stop.
            async with asyncio.timeout(self._commit_timeout):
                await self._consumer.commit(offsets)
        except (KafkaError, AssertionError, OSError, TimeoutError) as error:
            self._log.warning("offsets_commit_failed", error_class=type(error).__name__, error=str(error))
            for tp, offset in offsets.items():
                self._pending.setdefault(tp, offset)

    async def run(self) -> None:
        while not self._stopping:
            await self._wakeup.wait(self._interval)
            await self.flush()

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        await self.flush()
