"""The dead-letter record: the original bytes unchanged, and headers that say where they came from and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from contracts.envelope import TRACEPARENT_PATTERN, isoformat
from contracts.rejections import DESCRIPTIONS
from runtime.db import storable

if TYPE_CHECKING:
    from runtime.records import Incoming

ORIGINAL_TOPIC = "dlq-original-topic"
ORIGINAL_PARTITION = "dlq-original-partition"
ORIGINAL_OFFSET = "dlq-original-offset"
CONSUMER_GROUP = "dlq-consumer-group"
ERROR_CLASS = "dlq-error-class"
ERROR_MESSAGE = "dlq-error-message"
FAILED_AT = "dlq-failed-at"
EVENT_SOURCE = "dlq-event-source"
EVENT_ID = "dlq-event-id"
EVENT_TYPE = "dlq-event-type"
CORRELATION_ID = "correlationid"
TRACEPARENT = "traceparent"


@dataclass(frozen=True)
class HeaderDoc:
    """What one dead-letter header means, for the AsyncAPI documents: a reader's contract, kept beside the code."""

    description: str
    always: bool = True
    """Set on every dead letter; otherwise only when the rejected record revealed it."""
    pattern: str | None = None
    format: str | None = None
    values: tuple[tuple[str, str], ...] = ()
    """The only values it takes, each with its meaning."""


_DECIMAL = r"^[0-9]+$"
_MAX_MESSAGE = 2000

HEADERS: Final[Mapping[str, HeaderDoc]] = {
    ORIGINAL_TOPIC: HeaderDoc("The topic the rejected record was consumed from."),
    ORIGINAL_PARTITION: HeaderDoc("Its partition, in decimal.", pattern=_DECIMAL),
    ORIGINAL_OFFSET: HeaderDoc("Its offset in that partition, in decimal.", pattern=_DECIMAL),
    CONSUMER_GROUP: HeaderDoc("The consumer group of the service that rejected it."),
    ERROR_CLASS: HeaderDoc(
        "Why it was rejected: a stable reason code.", values=tuple((r.value, text) for r, text in DESCRIPTIONS.items())
    ),
    ERROR_MESSAGE: HeaderDoc(
        f"What was wrong and where, for the publisher to read (at most {_MAX_MESSAGE} characters)."
    ),
    FAILED_AT: HeaderDoc("When it was rejected, RFC 3339 UTC.", format="date-time"),
    EVENT_SOURCE: HeaderDoc("The event's source; 'kafka:<topic>' when the value could not be read."),
    EVENT_ID: HeaderDoc("The event's id; '<partition>:<offset>' when the value could not be read."),
    EVENT_TYPE: HeaderDoc("The event's type, when it could be read.", always=False),
    CORRELATION_ID: HeaderDoc("The event's correlationid, when the envelope could be read.", always=False),
    TRACEPARENT: HeaderDoc(
        "The event's W3C trace context, when the envelope could be read.", always=False, pattern=TRACEPARENT_PATTERN
    ),
}
"""Every header a dead letter can carry; the AsyncAPI documents are generated from this, so add a new one here."""


def dead_letter_headers(
    record: Incoming,
    *,
    group_id: str,
    reason: str,
    message: str,
    failed_at: datetime,
    event_source: str,
    event_id: str,
    event_type: str | None,
    correlation_id: str | None,
    traceparent: str | None,
) -> dict[str, str]:
    headers = {
        ORIGINAL_TOPIC: record.topic,
        ORIGINAL_PARTITION: str(record.partition),
        ORIGINAL_OFFSET: str(record.offset),
        CONSUMER_GROUP: group_id,
        ERROR_CLASS: reason,
        ERROR_MESSAGE: message[:_MAX_MESSAGE],
        FAILED_AT: isoformat(failed_at),
        EVENT_SOURCE: event_source,
        EVENT_ID: event_id,
    }
    if event_type:
        headers[EVENT_TYPE] = event_type
    if correlation_id:
        headers[CORRELATION_ID] = correlation_id
    if traceparent:
        headers[TRACEPARENT] = traceparent
    # A rejection's message may quote what was wrong, and the headers go through PostgreSQL (the outbox) and Kafka.
    return {name: storable(value) for name, value in headers.items()}
