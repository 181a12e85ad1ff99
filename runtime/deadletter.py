"""The dead-letter record: the original bytes unchanged, and headers that say where they came from and why."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from contracts.envelope import isoformat
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

_MAX_MESSAGE = 2000


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
        headers["correlationid"] = correlation_id
    if traceparent:
        headers["traceparent"] = traceparent
    # A rejection's message may quote what was wrong, and the headers go through PostgreSQL (the outbox) and Kafka.
    return {name: storable(value) for name, value in headers.items()}
