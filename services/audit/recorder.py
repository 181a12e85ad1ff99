"""Records one consumed batch in one transaction: classify, drop what is already recorded, chain, append.

One record must never hold up the log: a record whose entry cannot be built, or whose entry PostgreSQL refuses,
is recorded bare (its bytes under its Kafka coordinates, with why) and the rest of its batch as usual. Only the
database being unreachable makes a batch come again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from contracts import ed25519
from contracts.keys import KeyRegistry
from runtime.check_processes import CheckProcesses
from runtime.clock import Clock
from runtime.db import Connection
from runtime.logging import get_logger
from runtime.parallel import read_checking_later
from runtime.polling import INFRASTRUCTURE_ERRORS
from runtime.verification import TrustedKeys
from services.audit import domain, repository
from services.audit.chain import AuditRecord, Entry, link
from services.audit.domain import Received


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    recorded: int
    head_seq: int
    head_hash: str


class Recorder:
    """The audit consumer's effect: the chain is extended in Kafka's delivery order, one batch at a time."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        dead_letter_topic: str,
        keys: TrustedKeys,
        checks_elsewhere: CheckProcesses | None = None,
    ) -> None:
        self._pool = pool
        self._elsewhere = checks_elsewhere
        self._keys = keys
        self._clock = clock
        self._dead_letter_topic = dead_letter_topic
        self._log = get_logger(component="audit_recorder")
        self.positions: dict[tuple[str, int], int] = {}
        """Highest offset recorded (or found already recorded) per topic partition."""

    async def record(self, batch: Sequence[Received]) -> BatchOutcome:
        started = time.perf_counter()
        verified_at, registry = self._clock.now(), self._keys.current()
        # Read on the event loop's thread, as the pipeline reads its records (runtime.parallel): a fifth less CPU
        # than in the worker threads. Their signature checks are made meanwhile in the check processes; a record
        # with one that fails is read again with its checks made as they come, which gives its exact reason.
        read = functools.partial(self._entry_of, registry=registry, at=verified_at)
        entries = await read_checking_later(read, batch, self._elsewhere)
        try:
            records, conflicting, head = await self._in_one_transaction(entries, one_by_one=False)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception:  # PostgreSQL refused a row, or the driver could not encode one: again, each entry alone
            records, conflicting, head = await self._in_one_transaction(entries, one_by_one=True)
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
        last = (records[-1].seq, records[-1].hash) if records else head
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

    def _entry_of(self, record: Received, check: ed25519.Check, *, registry: KeyRegistry, at: datetime) -> Entry:
        try:
            return domain.entry_of(record, self._dead_letter_topic, registry, at, check)
        except Exception as error:
            return self._bare(record, error)

    def _bare(self, record: Received, error: Exception) -> Entry:
        self._log.warning(
            "audit_record_bare",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_class=type(error).__name__,
            error=str(error)[:500],
        )
        why = f"recorded bare: {type(error).__name__}: {error}"
        return domain.bare_entry(record, self._dead_letter_topic, why)

    async def _in_one_transaction(
        self, entries: list[Entry], *, one_by_one: bool
    ) -> tuple[list[AuditRecord], list[Entry], tuple[int, str]]:
        """The batch's new entries appended after the head, under the chain's lock; returns them as recorded, the
        duplicates that differ from their first copy, and the head they followed.

        Five round trips for a batch (BEGIN, the lock, what is known with the head, COPY, COMMIT): no savepoint
        around the COPY, since a batch PostgreSQL refuses rolls back whole and is taken again `one_by_one`."""
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.lock_chain(conn)
            known, head = await repository.known_and_head(conn, {e.key for e in entries})
            fresh, conflicting = domain.first_of_each_key(entries, known)
            if one_by_one:
                records = await self._append_one_by_one(conn, fresh, *head)
            else:
                records = link(fresh, *head, self._clock.now())
                await repository.append(conn, records)
        return records, conflicting, head

    async def _append_one_by_one(
        self, conn: Connection, entries: list[Entry], head_seq: int, head_hash: str
    ) -> list[AuditRecord]:
        """The slow path, only after PostgreSQL refused a batch: each entry in its own savepoint, and one it refuses
        again is recorded bare in its place."""
        now = self._clock.now()
        records: list[AuditRecord] = []
        for entry in entries:
            try:
                async with conn.transaction():
                    (record,) = link([entry], head_seq, head_hash, now)
                    await repository.append(conn, [record])
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception as error:
                received = Received(
                    entry.topic, entry.kafka_partition, entry.kafka_offset, entry.payload, key=entry.message_key
                )
                (record,) = link([self._bare(received, error)], head_seq, head_hash, now)
                await repository.append(conn, [record])
            records.append(record)
            head_seq, head_hash = record.seq, record.hash
        return records
