"""Writing a dead letter: its headers, its inbox claim and its outbox row in the batch's transaction, under the
identity the event claimed, or under the record's Kafka coordinates when that identity cannot be stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from contracts import topics
from contracts.envelope import CloudEvent
from contracts.rejections import Reason, Rejected
from runtime.clock import Clock
from runtime.db import Connection, storable
from runtime.deadletter import dead_letter_headers, fitted
from runtime.identity import identity_of
from runtime.inbox import Outcome, record_in_inbox
from runtime.outbox import add_record
from runtime.polling import INFRASTRUCTURE_ERRORS
from runtime.records import Incoming


@dataclass(frozen=True)
class Named:
    """Whom a dead letter names: the event as far as it was read, or (for a record with no usable identity of its
    own) the record's Kafka coordinates."""

    source: str
    event_id: str
    event_type: str | None = None
    event: CloudEvent | None = None

    @classmethod
    def of(cls, event: CloudEvent) -> Named:
        return cls(event.source, event.id, event.type, event)


def unread(record: Incoming, rejection: Rejected) -> tuple[Named, tuple[str, str]]:
    """Whom the dead letter of a record that did not become an event names, and the inbox slot it claims."""
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
    # Until it verified, its source and id are only claims: its inbox row must not take the slot of the genuine
    # event it may imitate, so it is claimed under its Kafka coordinates.
    inbox = (source, event_id) if read is not None else record.coordinates
    return Named(source, event_id, event_type, read), inbox


Note = Callable[[], None]
"""A log line about a record, written once the transaction that holds its outcome committed."""


@dataclass(frozen=True)
class DeadLetterWriter:
    """Dead-letters the records one consumer group rejects, inside the transaction of the batch in hand."""

    clock: Clock
    group_id: str
    topic_of: Callable[[str], str]

    async def write(
        self,
        conn: Connection,
        record: Incoming,
        rejection: Rejected,
        named: Named,
        log: structlog.stdlib.BoundLogger,
        inbox: tuple[str, str] | None = None,
    ) -> tuple[Outcome, Note]:
        try:
            # A savepoint: a refused identity must leave the batch's transaction usable for the second attempt.
            async with conn.transaction():
                return await self._write(conn, record, rejection, named, log, inbox)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as error:
            if (named.source, named.event_id) == record.coordinates:
                raise
            # What the event says of itself could not be stored (PostgreSQL refused the identity, say): the record's
            # coordinates always can be, and the dead letter still says why it was rejected.
            log.warning("dead_letter_under_coordinates", error_class=type(error).__name__, error=str(error))
        async with conn.transaction():
            return await self._write(conn, record, rejection, Named(*record.coordinates), log, None)

    async def _write(
        self,
        conn: Connection,
        record: Incoming,
        rejection: Rejected,
        named: Named,
        log: structlog.stdlib.BoundLogger,
        inbox: tuple[str, str] | None,
    ) -> tuple[Outcome, Note]:
        now = self.clock.now()
        headers = dead_letter_headers(
            record,
            group_id=self.group_id,
            reason=rejection.reason,
            message=rejection.message,
            failed_at=now,
            event_source=named.source,
            event_id=named.event_id,
            event_type=named.event_type,
            correlation_id=named.event.correlationid if named.event else None,
            traceparent=named.event.traceparent if named.event else None,
        )
        letter = fitted(record, headers)
        claimed_source, claimed_id = inbox or (named.source, named.event_id)
        if not await record_in_inbox(conn, record, claimed_source, claimed_id, named.event_type, "dead_lettered"):
            return "duplicate", lambda: log.info("event_duplicate", rejected=True)
        await add_record(
            conn,
            self.topic_of(topics.DEAD_LETTER),
            letter.value,
            letter.key,
            letter.headers,
            event_id=storable(named.event_id),
            event_type=storable(named.event_type) if named.event_type else None,
        )
        return "dead_lettered", lambda: log.warning(
            "event_dead_lettered", reason=rejection.reason, error=rejection.message
        )
