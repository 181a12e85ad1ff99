"""The consume pipeline: decode, validate, deduplicate, handle, or dead-letter with a reason; a batch (a partition's
records of a poll, or a small poll's partitions of one topic: runtime.partitions) in one transaction.

Every record ends in one of four ways, whatever its bytes, key, headers and size: processed, a duplicate (no second
effect), skipped (an invalid event on a topic another service owns), or dead-lettered with a reason; the first and
last are recorded in the inbox with their effects. Only the database being unreachable makes a record come again
(after a pause); one that keeps failing while the database answers is dead-lettered as handler_error after a
bounded number of tries.

One commit (and fsync) per batch, whatever its size: one per record capped a service at about 80 events/s. A
rejected record rolls back its own savepoint and is dead-lettered in the same transaction, so the rest still commit;
a batch that cannot commit (the database away, a record within its tries) commits nothing and comes again. A
savepoint costs two round trips, so a batch is first taken without them, and only when a record fails is it taken
again with one per record (`NeedsSavepoints`). What commits is the same either way."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Mapping, Sequence

import asyncpg
import structlog
from opentelemetry import trace

from contracts import catalog
from contracts.envelope import CloudEvent
from contracts.events.base import EventData
from contracts.rejections import Reason, Rejected
from contracts.signing import Signer
from runtime import handling
from runtime.admission import Admitted, Check, verdict
from runtime.check_processes import CheckProcesses
from runtime.clock import Clock
from runtime.db import Connection, still_usable
from runtime.dead_lettering import DeadLetterWriter, Named, unread
from runtime.emitters import Emitters
from runtime.handling import Ended, Handler, HandlerContext, NeedsSavepoints, Observe, Pass, described, rejection_of
from runtime.inbox import Outcome, claim_batch, claim_processed, record_to_blame
from runtime.logging import get_logger, trace_ids
from runtime.outbox import Outgoing, add_batch_rows
from runtime.parallel import read_verifying_elsewhere
from runtime.polling import INFRASTRUCTURE_ERRORS
from runtime.records import Incoming
from runtime.signing_ahead import SigningAhead
from runtime.tracing import consume_span
from runtime.tries import Tries
from runtime.verification import EventVerifier
from runtime.writes import Writes, write_deferred


class Pipeline:
    """Consumes records of one service: a batch in one transaction, effects and inbox rows together."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        clock: Clock,
        group_id: str,
        source: str,
        topic_of: Callable[[str], str],
        handlers: Mapping[str, Handler],
        checks: Mapping[str, Check] | None = None,
        verifier: EventVerifier,
        signer: Signer,
        on_committed: Callable[[], None] = lambda: None,
        observe: Observe | None = None,
        dead_letters: bool = True,
        max_tries: int = 5,
        checks_elsewhere: CheckProcesses | None = None,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._handlers = handlers
        self._verifier = verifier
        self._emitters = Emitters(source, topic_of, signer)
        types = {name: catalog.BY_NAME[name] for name in handlers}
        self._admit = functools.partial(verdict, types=types, checks=checks or {})
        self._on_committed = on_committed
        self._letters = DeadLetterWriter(clock, group_id, topic_of)
        self._observe = observe
        self._dead_letters = dead_letters
        self._tries = Tries(max_tries)
        self._tracer = trace.get_tracer("lhl.pipeline")
        self._elsewhere = checks_elsewhere

    async def process(self, record: Incoming) -> Outcome:
        """Handle one record (a batch of one); raises as `process_batch` does."""
        return (await self.process_batch([record]))[0]

    async def process_batch(self, records: Sequence[Incoming]) -> list[Outcome]:
        """Handle records of one topic in their order (each partition's in its own) in one transaction: outcomes.

        Raises (after a pause) while the database is unreachable, or while a record that failed is still within its
        tries: then nothing of the batch is committed, and the batch comes again from its first record."""
        admitted = await read_verifying_elsewhere(
            lambda r, verify: self._admit(r, verify=verify), records, self._verifier, self._elsewhere
        )
        run = Pass(savepoints=False, in_hand=records[0], admitted=admitted)
        try:
            try:
                await self._in_one_transaction(records, run)
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception as error:  # a record failed, or left the transaction unusable: each in a savepoint
                parked = error.out_of_tries if isinstance(error, NeedsSavepoints) else None
                run = Pass(savepoints=True, in_hand=records[0], out_of_tries=parked, admitted=admitted)
                await self._in_one_transaction(records, run)
        except INFRASTRUCTURE_ERRORS as error:
            if error is not run.counted:
                self._tries.failed(run.in_hand, database_answered=await record_to_blame(self._pool, error))
            await asyncio.sleep(self._tries.pause(run.in_hand))
            raise
        self._tries.forget(run.in_hand)
        committed = time.perf_counter()
        for record, one, started in run.ended:
            one.note()
            if self._observe is not None:
                self._observe(record.topic, one.event_type, one.outcome, one.reason, committed - started)
        if any(one.outcome in ("processed", "dead_lettered") for _, one, _ in run.ended):
            self._on_committed()
        return [one.outcome for _, one, _ in run.ended]

    async def _in_one_transaction(self, records: Sequence[Incoming], run: Pass) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            ahead, claims = SigningAhead(self._elsewhere), run.batch_claims(records)
            run.claimed = await claim_batch(conn, claims) if claims else None
            for record, admitted in zip(records, run.admitted, strict=True):
                run.in_hand, started = record, time.perf_counter()
                with consume_span(self._tracer, record):
                    try:
                        one = await self._one(conn, record, admitted, run)
                    except INFRASTRUCTURE_ERRORS as error:
                        if record is not run.out_of_tries and not await self._out_of_tries(record, error):
                            run.counted = error
                            raise
                        if not run.savepoints:
                            raise NeedsSavepoints(out_of_tries=record) from error
                        one = await self._park(conn, record, error)
                run.ended.append((record, one, started))
                await ahead.send(run.rows)
            await write_deferred(conn, run.deferred)
            await add_batch_rows(conn, await ahead.signed(run.rows))

    async def _out_of_tries(self, record: Incoming, error: BaseException) -> bool:
        """A failure that looks like the infrastructure's. While the database does not answer, or when the record's
        transaction only met another (a deadlock), it is one, and the batch comes again; otherwise it is the
        record's, and after a few tries it is parked."""
        answered = await record_to_blame(self._pool, error)
        tries = self._tries.failed(record, database_answered=answered)
        if answered and tries < self._tries.limit:
            log = get_logger(topic=record.topic, partition=record.partition, offset=record.offset)
            log.warning("record_retry", tries=tries, error_class=type(error).__name__, error=str(error))
        return answered and tries >= self._tries.limit

    async def _park(self, conn: Connection, record: Incoming, error: BaseException) -> Ended:
        log = get_logger(topic=record.topic, partition=record.partition, offset=record.offset, **trace_ids())
        _, tries, _ = self._tries.now(record)
        rejection = Rejected(
            Reason.HANDLER_ERROR,
            f"failed {tries} times while the database answered; last error {type(error).__name__}: {error}",
        )
        outcome, note = await self._letters.write(conn, record, rejection, Named(*record.coordinates), log)
        return Ended(outcome, None, rejection.reason.value, note)

    async def _one(self, conn: Connection, record: Incoming, admitted: Admitted, run: Pass) -> Ended:
        log = get_logger(topic=record.topic, partition=record.partition, offset=record.offset, **trace_ids())
        if isinstance(admitted, Rejected):
            return await self._reject_unread(conn, record, admitted, log)
        if isinstance(admitted, Exception):
            # A bug in reading the record must not stall the partition any more than one in a handler.
            log.error("handler_failed", error_class=type(admitted).__name__, exc_info=admitted)
            return await self._reject_unread(conn, record, Rejected(Reason.HANDLER_ERROR, described(admitted)), log)
        event, data = admitted
        log = log.bind(
            event_id=event.id, event_type=event.type, correlation_id=event.correlationid, source=event.source
        )
        try:
            return await self._handle(conn, record, event, data, log, run)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as error:
            if not run.savepoints:
                raise NeedsSavepoints from error  # its writes cannot be rolled back alone in this pass
            rejected = rejection_of(error, log)
        if not self._dead_letters and rejected.reason is not Reason.HANDLER_ERROR:
            return self._skip(rejected, event.type, log)
        outcome, note = await self._letters.write(conn, record, rejected, Named.of(event), log)
        return Ended(outcome, event.type, rejected.reason.value, note)

    async def _reject_unread(
        self, conn: Connection, record: Incoming, rejection: Rejected, log: structlog.stdlib.BoundLogger
    ) -> Ended:
        """Dead-letter (or, on another service's topic, pass by) a record that did not become an event to handle."""
        named, inbox = unread(record, rejection)
        if rejection.reason is not Reason.UNAUTHENTICATED and not self._dead_letters:
            return self._skip(rejection, named.event_type, log)
        outcome, note = await self._letters.write(conn, record, rejection, named, log, inbox)
        return Ended(outcome, named.event_type, rejection.reason.value, note)

    def _skip(self, rejection: Rejected, event_type: str | None, log: structlog.stdlib.BoundLogger) -> Ended:
        """On a topic another service owns, that service dead-letters what is invalid; here it is only passed by."""
        if rejection.reason is Reason.UNKNOWN_TYPE and event_type in catalog.BY_NAME:
            # The owner's event of a type this service ignores.
            return Ended("skipped", event_type, None, handling.silent)
        return Ended(
            "skipped",
            event_type,
            None,
            lambda: log.info("event_skipped", reason=rejection.reason.value, error=rejection.message),
        )

    async def _handle(
        self,
        conn: Connection,
        record: Incoming,
        event: CloudEvent,
        data: EventData,
        log: structlog.stdlib.BoundLogger,
        run: Pass,
    ) -> Ended:
        now = self._clock.now()
        # A savepoint, when the pass takes them: a rejected record rolls back alone.
        async with conn.transaction() if run.savepoints else contextlib.nullcontext():
            if not await claim_processed(conn, record, event, run.claimed):
                return Ended("duplicate", event.type, None, lambda: log.info("event_duplicate"))
            mine: list[Outgoing] = []  # the batch's only once this record's savepoint is released
            emitter = self._emitters.caused_by(
                conn,
                now,
                correlation_id=event.correlationid,
                causation_id=event.id,
                traceparent=event.traceparent,
                rows=mine,
                sign_later=not run.savepoints,  # signed with the batch's others, in threads
            )
            writes = Writes(conn, None if run.savepoints else run.deferred)  # at once inside a savepoint
            await self._handlers[event.type](HandlerContext(conn, event, now, emitter, log, writes, run.shared), data)
            if run.savepoints:
                await still_usable(conn)  # inside the savepoint: a swallowed error rolls back this record alone
        run.rows += mine
        return Ended(
            "processed",
            event.type,
            None,
            lambda: log.info("event_processed", emitted=emitter.emitted),
        )
