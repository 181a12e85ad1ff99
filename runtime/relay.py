"""The outbox relay: publishes the outbox's rows in the order they were written, one relay per service at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from aiokafka import errors as kafka_errors

from runtime.logging import get_logger
from runtime.outbox import to_send
from runtime.polling import poll
from runtime.relay_passes import (
    BATCH_BYTES,
    BATCH_ROWS,
    DELETE_PUBLISHED,
    LOCK_RETRY_SECONDS,
    NEXT_ROWS,
    RELAY_LOCK,
    SET_ASIDE,
    VACUUM_AFTER_ROWS,
    OutboxVacuum,
)
from runtime.wakeup import Wakeup

Send = Callable[[str, bytes, bytes | None, Mapping[str, str]], Awaitable[Awaitable[object]]]
"""Hand one record (topic, value, key, headers) to the producer without waiting for the broker; what it returns
completes when the broker acknowledged the record (AIOKafkaProducer.send). A record the producer refuses by itself
(too large, say) raises at once."""


class Handing(Protocol):
    """A pass's records handed over in batches (`kafka_admin.Handover`): `add` is a `Send` whose acknowledgement
    completes once `flush` has sent the batches still open and the broker took the record's."""

    async def add(self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]) -> Awaitable[object]:
        """One record, raising at once as `Send` does."""

    async def flush(self) -> None: ...


PERMANENT_SEND_ERRORS: tuple[type[BaseException], ...] = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.CorruptRecordException,
    kafka_errors.InvalidTopicError,
    kafka_errors.InvalidRequestError,
    kafka_errors.InvalidTimestampError,
    kafka_errors.UnsupportedForMessageFormatError,
    TypeError,
    ValueError,
)
"""What the broker (or the producer, before sending) says of one record and would say again on every retry. The
broker or the network being away, or not being allowed to write at all, is not in it: every row would fail."""


RELAY_PRODUCER_OPTIONS: Mapping[str, Any] = {"acks": "all", "enable_idempotence": True, "max_batch_size": 262_144}
"""The relay's producer: idempotent with acks=all, so a retried request is written once, and aiokafka keeps one
request in flight per partition, so the records of one partition key are written in the order they were handed
over. Batches of up to 256 KiB per partition: at the default 16 KiB a request held about nine signed events per
partition; draining 5,000 rows took 1.3-1.5 times as long as at 256 KiB (benchmarks/relay_drain.py, 2-core machine
under load)."""


@dataclass
class _Pass:
    """What one pass did with the rows it read, in id order: published, set aside, or stopped by a failure."""

    published: list[int] = field(default_factory=list)
    set_aside: list[tuple[int, str]] = field(default_factory=list)
    failure: Exception | None = None


class OutboxRelay:
    """Publishes the outbox's rows in id order and deletes them once the broker acknowledged them: the outbox holds
    what is still to be published (and the rows set aside); what was published is the topics' and the audit's.

    A pass hands its whole batch to the producer and then awaits the acknowledgements together: the producer is
    idempotent with acks=all and keeps one request in flight per partition, so the records of one partition key
    reach the topic in the order they were handed over. Only one relay of a service publishes at a time
    (`RELAY_LOCK`), so several instances keep that order too.

    A pass deletes the rows from its start up to the first row the broker has not taken: a later row of the batch is
    never deleted while an earlier one is still to be published, so it goes out again after it and a consumer sees
    the order as written (its inbox drops the second copy by the event's id). A relay killed between sending and
    deleting publishes its batch again for the same reason, in the same order.

    A row refused for good is set aside with the error (`failed_at`, `last_error`), logged as
    `outbox_row_set_aside` and counted by `lhl_outbox_set_aside`, and the rows behind it go on. Without that, one
    dead letter too large for the broker blocked every event behind it. The producer refuses some such rows itself,
    one at a time, when they are handed over; the broker refuses a whole produce request at once, so when it does
    the rest of the batch is sent again one row at a time to find the row at fault.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        send: Send,
        *,
        handover: Callable[[], Handing],
        poll_seconds: float,
        batch_size: int = BATCH_ROWS,
        batch_bytes: int = BATCH_BYTES,
        vacuum_after: int = VACUUM_AFTER_ROWS,
        renew_producer: Callable[[], Awaitable[None]] | None = None,
        on_published: Callable[[int], None] = lambda rows: None,
    ) -> None:
        self._pool = pool
        self._on_published = on_published
        self._send = send
        self._handover = handover
        self._renew = renew_producer
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._batch_bytes = batch_bytes
        self._vacuum = OutboxVacuum(pool, vacuum_after)
        self._wakeup = Wakeup()
        self._stopping = False
        self._log = get_logger(component="outbox_relay")
        self.lock_taken_elsewhere = False
        """Whether the last pass found another instance relaying (and so published nothing)."""

    def wake(self) -> None:
        self._wakeup.set()

    async def publish_pending(self) -> bool:
        """One pass: publish up to a batch (`NEXT_ROWS`); returns whether rows may be left behind it (False when
        another instance is relaying)."""
        async with self._pool.acquire() as conn, conn.transaction():
            self.lock_taken_elsewhere = not await conn.fetchval(RELAY_LOCK)
            if self.lock_taken_elsewhere:
                return False
            # No row locks: the advisory lock already keeps every other relay of this service out.
            rows = await conn.fetch(NEXT_ROWS, self._batch_size, self._batch_bytes)
            if not rows:
                return False
            done = await self._send_batch(rows)
            if done.set_aside:
                await conn.executemany(SET_ASIDE, done.set_aside)
            await conn.execute(DELETE_PUBLISHED, done.published)
        self._on_published(len(done.published))  # once committed: rows a rolled-back pass deleted go out again
        self._vacuum.deleted(len(done.published))
        if done.failure is not None:
            raise done.failure
        self._log.debug("outbox_published", count=len(done.published))
        return len(rows) == self._batch_size or len(rows) < rows[0]["candidates"]

    async def _send_batch(self, rows: Sequence[asyncpg.Record]) -> _Pass:
        handed: list[tuple[asyncpg.Record, Awaitable[object] | BaseException]] = []
        failure: Exception | None = None
        handing = self._handover()
        for row in rows:
            try:
                handed.append((row, await handing.add(*to_send(row))))
            except PERMANENT_SEND_ERRORS as error:
                handed.append((row, error))
            except Exception as error:
                failure = error  # the broker is away: nothing behind this row was handed over
                break
        await handing.flush()
        acks = [ack for _, ack in handed if not isinstance(ack, BaseException)]
        results = iter(await asyncio.gather(*acks, return_exceptions=True))
        done = _Pass(failure=failure)
        for index, (row, ack) in enumerate(handed):
            if isinstance(ack, BaseException):
                done.set_aside.append(self._setting_aside(row, ack))  # the producer refused it: nothing was sent
                continue
            outcome = next(results)
            if not isinstance(outcome, BaseException):
                done.published.append(row["id"])
                continue
            if not isinstance(outcome, Exception):
                raise outcome
            await self._renew_producer()
            if not isinstance(outcome, PERMANENT_SEND_ERRORS):
                done.failure = outcome  # keep what came before it; it and the rows behind it go again, in order
                break
            # The broker refused a produce request, which may hold innocent rows beside the one at fault.
            rest = await self._send_one_by_one([r for r, _ in handed[index:]])
            done.published += rest.published
            done.set_aside += rest.set_aside
            done.failure = rest.failure or done.failure
            break
        return done

    async def _send_one_by_one(self, rows: Sequence[asyncpg.Record]) -> _Pass:
        """Each row on its own, waiting for its acknowledgement: slow, but a refusal names the one row at fault."""
        done = _Pass()
        for row in rows:
            try:
                ack = await self._send(*to_send(row))
            except PERMANENT_SEND_ERRORS as error:
                done.set_aside.append(self._setting_aside(row, error))
                continue
            except Exception as error:
                done.failure = error
                break
            try:
                await ack
            except PERMANENT_SEND_ERRORS as error:
                done.set_aside.append(self._setting_aside(row, error))
                await self._renew_producer()
                continue
            except Exception as error:
                await self._renew_producer()
                done.failure = error
                break
            done.published.append(row["id"])
        return done

    async def _renew_producer(self) -> None:
        """A produce request that failed after it was handed over still used up its sequence numbers, and the
        idempotent producer (aiokafka's) never gives them back: every later record of that partition would fail
        with OutOfOrderSequenceNumber. That also means nothing behind a lost record is ever written before it. A
        new producer (a new producer id) starts the sequence afresh."""
        if self._renew is not None:
            await self._renew()

    def _setting_aside(self, row: asyncpg.Record, error: BaseException) -> tuple[int, str]:
        text = f"{type(error).__name__}: {error}"[:1000]
        self._log.error("outbox_row_set_aside", outbox_id=row["id"], topic=row["topic"], error=text)
        return row["id"], text

    def stop(self) -> None:
        """Ask `run` to finish its current pass and return: cancelling mid-send would publish a row twice."""
        self._stopping = True
        self._vacuum.stop()
        self._wakeup.set()

    async def run(self) -> None:
        await poll(
            self._drain,
            wakeup=self._wakeup,
            # An instance that found another relay at work looks again soon: that one may be stopping.
            seconds=lambda: LOCK_RETRY_SECONDS if self.lock_taken_elsewhere else self._poll_seconds,
            stopping=lambda: self._stopping,
            failed="outbox_publish_failed",
            log=self._log,
        )
        await self._vacuum.finish()

    async def _drain(self) -> None:
        while await self.publish_pending():
            pass
