"""The consume pipeline: decode, validate, deduplicate, handle in one transaction, or dead-letter with a reason.

Every record ends in exactly one of three ways, each recorded in the inbox in the same transaction as its
effects: processed, a duplicate of one already handled (no second effect), or dead-lettered. Only failures of
the infrastructure itself (database or broker unreachable) propagate, so the record is redelivered.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg
import structlog
from pydantic import ValidationError

from contracts import catalog, topics
from contracts.envelope import CloudEvent
from contracts.events.base import EventData
from contracts.reference import ReferenceDataError
from contracts.rejections import Reason, Rejected
from contracts.signing import Signer
from runtime.admission import Check, admit, identity_of
from runtime.clock import Clock
from runtime.db import Connection
from runtime.deadletter import dead_letter_headers
from runtime.logging import get_logger
from runtime.outbox import Emitter, add_record
from runtime.records import Incoming
from runtime.verification import EventVerifier

Outcome = Literal["processed", "duplicate", "dead_lettered", "skipped"]

INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    TimeoutError,
)


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
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._service = service
        self._group_id = group_id
        self._source = source
        self._topic_of = topic_of
        self._handlers = handlers
        self._verifier = verifier
        self._signer = signer
        self._types = {name: catalog.BY_NAME[name] for name in handlers}
        self._checks = checks or {}
        self._on_committed = on_committed
        self._observe = observe
        self._dead_letters = dead_letters

    async def process(self, record: Incoming) -> Outcome:
        started = time.perf_counter()
        outcome, event_type, reason = await self._process(record)
        if self._observe is not None:
            self._observe(record.topic, event_type, outcome, reason, time.perf_counter() - started)
        return outcome

    async def _process(self, record: Incoming) -> tuple[Outcome, str | None, str | None]:
        log = get_logger(topic=record.topic, partition=record.partition, offset=record.offset)
        try:
            event, data = admit(record, self._types, self._checks, verify=self._verifier.check)
        except Rejected as rejection:
            # Set when the event verified and only the key or the service's checks refused it.
            read: CloudEvent | None = rejection.event
            source, event_id, event_type = (read.source, read.id, read.type) if read else identity_of(record)
            coordinates = (f"kafka:{record.topic}", f"{record.partition}:{record.offset}")
            if rejection.reason is Reason.UNAUTHENTICATED:
                # Dead-lettered on every topic, by every consumer, and named by its Kafka coordinates: the source it
                # claims is not told, for it never said this.
                source, event_id = coordinates
            elif not self._dead_letters:
                return self._skip(rejection, event_type, log)
            # Until it verified, its source and id are only claims: its inbox row must not take the slot of the
            # genuine event it may imitate, so it is claimed under its Kafka coordinates.
            inbox = (source, event_id) if read is not None else coordinates
            outcome = await self._dead_letter(record, rejection, source, event_id, event_type, read, log, inbox)
            return outcome, event_type, rejection.reason.value
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
            rejected = Rejected(Reason.HANDLER_ERROR, f"{type(error).__name__}: {error}")
        else:
            self._on_committed()
            return outcome, event.type, None
        if not self._dead_letters and rejected.reason is not Reason.HANDLER_ERROR:
            return self._skip(rejected, event.type, log)
        outcome = await self._dead_letter(record, rejected, event.source, event.id, event.type, event, log)
        return outcome, event.type, rejected.reason.value

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
            if not await _record_in_inbox(conn, record, event.source, event.id, event.type, "processed"):
                log.info("event_duplicate")
                return "duplicate"
            emitter = Emitter(
                conn,
                source=self._source,
                topic_of=self._topic_of,
                now=now,
                correlation_id=event.correlationid,
                causation_id=event.id,
                traceparent=event.traceparent,
                signer=self._signer,
            )
            await self._handlers[event.type](HandlerContext(conn, event, now, emitter, log), data)
        log.info("event_processed", emitted=[e.type for e in emitter.emitted])
        return "processed"

    async def _dead_letter(
        self,
        record: Incoming,
        rejection: Rejected,
        source: str,
        event_id: str,
        event_type: str | None,
        event: CloudEvent | None,
        log: structlog.stdlib.BoundLogger,
        inbox: tuple[str, str] | None = None,
    ) -> Outcome:
        now = self._clock.now()
        headers = dead_letter_headers(
            record,
            group_id=self._group_id,
            reason=rejection.reason,
            message=rejection.message,
            failed_at=now,
            event_source=source,
            event_id=event_id,
            event_type=event_type,
            correlation_id=event.correlationid if event else None,
            traceparent=event.traceparent if event else None,
        )
        async with self._pool.acquire() as conn, conn.transaction():
            claimed_source, claimed_id = inbox or (source, event_id)
            if not await _record_in_inbox(conn, record, claimed_source, claimed_id, event_type, "dead_lettered"):
                log.info("event_duplicate", rejected=True)
                return "duplicate"
            key = record.key.decode(errors="replace") if record.key is not None else None
            await add_record(
                conn,
                self._topic_of(topics.DEAD_LETTER),
                record.value or b"",
                key,
                headers,
                event_id=event_id,
                event_type=event_type,
            )
        log.warning("event_dead_lettered", reason=rejection.reason, error=rejection.message)
        self._on_committed()
        return "dead_lettered"


async def _record_in_inbox(
    conn: Connection,
    record: Incoming,
    source: str,
    event_id: str,
    event_type: str | None,
    outcome: str,
) -> bool:
    """Claim the event for this outcome; False when it was handled before (a duplicate).

    A replay from the dead-letter topic (marked with the REPLAY_HEADER) may take a dead-lettered event through
    again, once per replayed record: its Kafka coordinates differ from those already recorded.
    """
    row = await conn.fetchrow(
        "INSERT INTO inbox (event_source, event_id, event_type, topic, kafka_partition, kafka_offset, outcome)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (event_source, event_id) DO UPDATE SET outcome = EXCLUDED.outcome, topic = EXCLUDED.topic,"
        "   kafka_partition = EXCLUDED.kafka_partition, kafka_offset = EXCLUDED.kafka_offset, processed_at = now()"
        " WHERE $8 AND inbox.outcome = 'dead_lettered'"
        "   AND (inbox.topic, inbox.kafka_partition, inbox.kafka_offset)"
        "       IS DISTINCT FROM (EXCLUDED.topic, EXCLUDED.kafka_partition, EXCLUDED.kafka_offset)"
        " RETURNING event_id",
        source,
        event_id,
        event_type,
        record.topic,
        record.partition,
        record.offset,
        outcome,
        record.is_replay,
    )
    return row is not None
