"""The wire names of a dead letter's headers: written by the runtime's dead-lettering, read by `lhl dlq`, the
notifications service (to tell the publisher) and the audit (to index why). Their meanings, for the AsyncAPI
documents, are in runtime.deadletter.HEADERS."""

from __future__ import annotations

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
VALUE_TRUNCATED = "dlq-value-truncated"
"""Set when the value was cut: the original value's length in bytes; VALUE_SHA256 is the original's digest."""
VALUE_SHA256 = "dlq-value-sha256"
KEY_TRUNCATED = "dlq-key-truncated"
"""Set when the key alone was too large to keep: the original key's length in bytes."""
CORRELATION_ID = "correlationid"
TRACEPARENT = "traceparent"
