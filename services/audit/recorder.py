"""Records one consumed batch in one transaction: classify, drop what is already recorded, chain, append."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from runtime.clock import Clock
from runtime.logging import get_logger
from runtime.verification import TrustedKeys
from services.audit import domain, repository
from services.audit.chain import link
from services.audit.domain import Received


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    recorded: int
    head_seq: int
    head_hash: str


class Recorder:
    """The audit consumer's effect: the chain is extended in Kafka's delivery order, one batch at a time."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, dead_letter_topic: str, keys: TrustedKeys) -> None:
        self._pool = pool
        self._keys = keys
        self._clock = clock
        self._dead_letter_topic = dead_letter_topic
        self._log = get_logger(component="audit_recorder")
        self.positions: dict[tuple[str, int], int] = {}
        """Highest offset recorded (or found already recorded) per topic partition."""

    async def record(self, batch: Sequence[Received]) -> BatchOutcome:
        started = time.perf_counter()
        now, registry = self._clock.now(), self._keys.current()
        entries = [domain.entry_of(r, self._dead_letter_topic, registry, now) for r in batch]
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.lock_chain(conn)
            known = await repository.recorded_keys(conn, {e.key for e in entries})
            fresh, conflicting = domain.first_of_each_key(entries, known)
            head_seq, head_hash = await repository.head(conn)
            records = link(fresh, head_seq, head_hash, now)
            await repository.append(conn, records)
        for entry in conflicting:
            self._log.warning(
                "audit_duplicate_differs",
                event_source=entry.event_source,
                event_id=entry.event_id,
                kind=entry.kind,
                topic=entry.topic,
                partition=entry.kafka_partition,
                offset=entry.kafka_offset,
            )
        for r in batch:
            at = (r.topic, r.partition)
            self.positions[at] = max(self.positions.get(at, -1), r.offset)
        last = (records[-1].seq, records[-1].hash) if records else (head_seq, head_hash)
        outcome = BatchOutcome(len(batch), len(records), *last)
        self._log.info(
            "audit_batch_recorded",
            received=outcome.received,
            recorded=outcome.recorded,
            duplicates=outcome.received - outcome.recorded,
            head_seq=outcome.head_seq,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return outcome
