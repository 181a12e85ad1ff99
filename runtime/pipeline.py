"""The consume pipeline: decode, validate, deduplicate, handle in one transaction, or dead-letter with a reason.

Every record ends in exactly one of four ways, whatever its bytes, key, headers and size: processed, a duplicate of
one already handled (no second effect), skipped (an invalid event on a topic another service owns), or
dead-lettered with a reason; the first and last are recorded in the inbox in the same transaction as their
effects. Only the database being unreachable makes a record come again (after a pause); a record that keeps
failing while the database answers is dead-lettered as handler_error after a bounded number of tries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from pydantic import ValidationError

from contracts import catalog
from contracts.envelope import CloudEvent
from contracts.events.base import EventData
from contracts.reference import ReferenceDataError
from contracts.rejections import Reason, Rejected
from contracts.signing import Signer
from runtime import boundary
from runtime.admission import Check, admit
from runtime.clock import Clock
from runtime.db import Connection
from runtime.dead_lettering import DeadLetterWriter, Named
from runtime.emitters import Emitters
from runtime.identity import identity_of
from runtime.inbox import Outcome, database_answers, record_in_inbox
from runtime.logging import get_logger
from runtime.outbox import Emitter
from runtime.polling import INFRASTRUCTURE_ERRORS as INFRASTRUCTURE_ERRORS  # still importable from here
from runtime.records import Incoming
from runtime.tries import Tries
from runtime.verification import EventVerifier


@dataclass
class HandlerContext:
    """What a handler gets: the open transaction, the event, the clock's now, and a way to emit."""

    conn: Connection
    event: CloudEvent
    now: datetime
    emitter: Emitter
    log: structlog.stdlib.BoundLogger

    async def emit(
        self,
        data: EventData,
        *,
        agreement_id: str,
        region: str | None,
        subject: str | None = None,
        business_key: str | None = None,
    ) -> CloudEvent:
        return await self.emitter.emit(
            data, agreement_id=agreement_id, region=region, subject=subject, business_key=business_key
        )


Handler = Callable[[HandlerContext, Any], Awaitable[None]]
Observe = Callable[[str, str | None, str, str | None, float], None]
"""Called after each record: (topic, event type, outcome, dead-letter reason, seconds)."""


class Pipeline:
    """Consumes records of one service: one transaction per record, effects and inbox row together."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        clock: Clock,
        service: str,
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
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._service = service
        self._handlers = handlers
        self._verifier = verifier
        self._emitters = Emitters(source, topic_of, signer)
        self._types = {name: catalog.BY_NAME[name] for name in handlers}
        self._checks = checks or {}
        self._on_committed = on_committed
        self._letters = DeadLetterWriter(pool, clock, group_id, topic_of, on_committed)
        self._observe = observe
        self._dead_letters = dead_letters
        self._tries = Tries(max_tries)

    async def process(self, record: Incoming) -> Outcome:
        """Handle one record; raises (after a pause) only while the database is unreachable, so it comes again."""
        started = time.perf_counter()
        try:
            outcome, event_type, reason = await self._process(record)
        except INFRASTRUCTURE_ERRORS as error:
            outcome, event_type, reason = await self._after_failure(record, error)
        self._tries.forget(record)
        if self._observe is not None:
            self._observe(record.topic, event_type, outcome, reason, time.perf_counter() - started)
        return outcome

    async def _after_failure(self, record: Incoming, error: BaseException) -> tuple[Outcome, str | None, str | None]:
        """A failure that looks like the infrastructure's. While the database does not answer it is one, and the
        record comes again; when the database answers, it is the record's, and after a few tries it is parked."""
        log = get_logger(topic=record.topic, partition=record.partition, offset=record.offset)
        answered = await database_answers(self._pool)
        tries = self._tries.failed(record, database_answered=answered)
        if not answered:
            await asyncio.sleep(self._tries.pause(record))
            raise error
        if tries < self._tries.limit:
            log.warning("record_retry", tries=tries, error_class=type(error).__name__, error=str(error))
            await asyncio.sleep(self._tries.pause(record))
            raise error
        rejection = Rejected(
            Reason.HANDLER_ERROR,
            f"failed {tries} times while the database answered; last error {type(error).__name__}: {error}",
        )
        outcome = await self._letters.write(record, rejection, Named(*record.coordinates), log)
        return outcome, None, rejection.reason.value

    async def _process(self, record: Incoming) -> tuple[Outcome, str | None, str | None]:
        log = get_logger(topic=record.topic, partition=record.partition, offset=record.offset)
        try:
            refused = boundary.refusal(record)
            if refused is not None:
                raise refused
            event, data = admit(record, self._types, self._checks, verify=self._verifier.check)
        except Rejected as rejection:
            return await self._reject_unread(record, rejection, log)
        except Exception as error:
            # A bug in reading the record must not stall the partition any more than one in a handler.
            log.exception("handler_failed", error_class=type(error).__name__)
            return await self._reject_unread(record, Rejected(Reason.HANDLER_ERROR, _described(error)), log)
        log = log.bind(
            event_id=event.id, event_type=event.type, correlation_id=event.correlationid, source=event.source
        )
        try:
            outcome = await self._handle(record, event, data, log)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Rejected as rejection:
            rejected = rejection
        except (ReferenceDataError, ValidationError) as error:
            rejected = Rejected(Reason.INVALID_REFERENCE, str(error))
        except Exception as error:
            # A bug must not stall the partition: park the event with the error for replay after a fix.
            log.exception("handler_failed", error_class=type(error).__name__)
            rejected = Rejected(Reason.HANDLER_ERROR, _described(error))
        else:
            self._on_committed()
            return outcome, event.type, None
        if not self._dead_letters and rejected.reason is not Reason.HANDLER_ERROR:
            return self._skip(rejected, event.type, log)
        outcome = await self._letters.write(record, rejected, Named.of(event), log)
        return outcome, event.type, rejected.reason.value

    async def _reject_unread(
        self, record: Incoming, rejection: Rejected, log: structlog.stdlib.BoundLogger
    ) -> tuple[Outcome, str | None, str | None]:
        """Dead-letter (or, on another service's topic, pass by) a record that did not become an event to handle."""
        # Set when the event verified and only the key or the service's checks refused it.
        read: CloudEvent | None = rejection.event
        event_type: str | None
        if read is not None:
            source, event_id, event_type = read.source, read.id, read.type
        else:
            try:
                source, event_id, event_type = identity_of(record)
            except Exception:  # whatever the record holds, its coordinates name it
                (source, event_id), event_type = record.coordinates, None
        if rejection.reason is Reason.UNAUTHENTICATED:
            # Dead-lettered on every topic, by every consumer, and named by its Kafka coordinates: the source it
            # claims is not told, for it never said this.
            source, event_id = record.coordinates
        elif not self._dead_letters:
            return self._skip(rejection, event_type, log)
        # Until it verified, its source and id are only claims: its inbox row must not take the slot of the genuine
        # event it may imitate, so it is claimed under its Kafka coordinates.
        inbox = (source, event_id) if read is not None else record.coordinates
        outcome = await self._letters.write(record, rejection, Named(source, event_id, event_type, read), log, inbox)
        return outcome, event_type, rejection.reason.value

    def _skip(
        self, rejection: Rejected, event_type: str | None, log: structlog.stdlib.BoundLogger
    ) -> tuple[Outcome, str | None, str | None]:
        """On a topic another service owns, that service dead-letters what is invalid; here it is only passed by."""
        if rejection.reason is Reason.UNKNOWN_TYPE and event_type in catalog.BY_NAME:
            return "skipped", event_type, None  # the owner's event of a type this service does not act on
        log.info("event_skipped", reason=rejection.reason.value, error=rejection.message)
        return "skipped", event_type, None

    async def _handle(
        self, record: Incoming, event: CloudEvent, data: EventData, log: structlog.stdlib.BoundLogger
    ) -> Outcome:
        now = self._clock.now()
        async with self._pool.acquire() as conn, conn.transaction():
            if not await record_in_inbox(conn, record, event.source, event.id, event.type, "processed"):
                log.info("event_duplicate")
                return "duplicate"
            emitter = self._emitters.caused_by(
                conn, now, correlation_id=event.correlationid, causation_id=event.id, traceparent=event.traceparent
            )
            await self._handlers[event.type](HandlerContext(conn, event, now, emitter, log), data)
        log.info("event_processed", emitted=[e.type for e in emitter.emitted])
        return "processed"


def _described(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
