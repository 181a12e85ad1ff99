"""The dead-letter record: the original bytes unchanged, and headers that say where they came from and why.

A dead letter must fit in one Kafka record, or the outbox relay could never publish it: when the original value
and the headers would not fit, the value is cut to its first bytes and the headers say so, with the original's
length and SHA-256 (the whole value stays on the original topic and in the audit log). The key is kept byte for
byte, unless it alone would not fit either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from contracts import limits
from contracts.dead_letter_headers import (
    CONSUMER_GROUP as CONSUMER_GROUP,
)
from contracts.dead_letter_headers import (
    CORRELATION_ID as CORRELATION_ID,
)
from contracts.dead_letter_headers import (
    ERROR_CLASS as ERROR_CLASS,
)
from contracts.dead_letter_headers import (
    ERROR_MESSAGE as ERROR_MESSAGE,
)
from contracts.dead_letter_headers import (
    EVENT_ID as EVENT_ID,
)
from contracts.dead_letter_headers import (
    EVENT_SOURCE as EVENT_SOURCE,
)
from contracts.dead_letter_headers import (
    EVENT_TYPE as EVENT_TYPE,
)
from contracts.dead_letter_headers import (
    FAILED_AT as FAILED_AT,
)
from contracts.dead_letter_headers import (
    KEY_TRUNCATED as KEY_TRUNCATED,
)
from contracts.dead_letter_headers import (
    ORIGINAL_OFFSET as ORIGINAL_OFFSET,
)
from contracts.dead_letter_headers import (
    ORIGINAL_PARTITION as ORIGINAL_PARTITION,
)
from contracts.dead_letter_headers import (
    ORIGINAL_TOPIC as ORIGINAL_TOPIC,
)
from contracts.dead_letter_headers import (
    TRACEPARENT as TRACEPARENT,
)
from contracts.dead_letter_headers import (
    VALUE_SHA256 as VALUE_SHA256,
)
from contracts.dead_letter_headers import (
    VALUE_TRUNCATED as VALUE_TRUNCATED,
)
from contracts.envelope import TRACEPARENT_PATTERN, isoformat
from contracts.rejections import DESCRIPTIONS
from runtime.db import storable

if TYPE_CHECKING:
    from runtime.records import Incoming


@dataclass(frozen=True)
class DeadLetter:
    key: bytes | None
    value: bytes
    headers: dict[str, str]


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
_MAX_MESSAGE = limits.DEAD_LETTER_MESSAGE_CHARS

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
    VALUE_TRUNCATED: HeaderDoc(
        "Set when the original value would not fit in one record beside these headers: the value is then its first "
        f"{limits.DEAD_LETTER_KEPT_VALUE_BYTES} bytes, and this is the original's length in bytes, in decimal; the "
        "whole value stays on the original topic and in the audit log.",
        always=False,
        pattern=_DECIMAL,
    ),
    VALUE_SHA256: HeaderDoc(
        "With dlq-value-truncated: the SHA-256 of the original value, in lower-case hex.",
        always=False,
        pattern=r"^[0-9a-f]{64}$",
    ),
    KEY_TRUNCATED: HeaderDoc(
        "Set when the original key alone would not fit: the key is then cut, and this is its length in bytes.",
        always=False,
        pattern=_DECIMAL,
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
        ERROR_MESSAGE: message[: limits.DEAD_LETTER_MESSAGE_CHARS],
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
    bound = limits.DEAD_LETTER_HEADER_VALUE_CHARS
    return {name: storable(value if name == ERROR_MESSAGE else value[:bound]) for name, value in headers.items()}


def fitted(record: Incoming, headers: dict[str, str]) -> DeadLetter:
    """The dead letter of a record: its key and value as they were when they fit in one record with the headers."""
    value = record.value or b""
    key = record.key
    encoded = [(name.encode(), text.encode()) for name, text in headers.items()]
    if limits.record_bytes(key, value, encoded) <= limits.MAX_RECORD_BYTES:
        return DeadLetter(key, value, headers)
    headers = {
        **headers,
        VALUE_TRUNCATED: str(len(value)),
        VALUE_SHA256: hashlib.sha256(value).hexdigest(),
    }
    kept = value[: limits.DEAD_LETTER_KEPT_VALUE_BYTES]
    encoded = [(name.encode(), text.encode()) for name, text in headers.items()]
    room = limits.MAX_RECORD_BYTES - limits.record_bytes(None, kept, encoded)
    if key is not None and len(key) > room - 64:  # the 64 bytes: the KEY_TRUNCATED header itself
        headers[KEY_TRUNCATED] = str(len(key))
        key = key[: max(room - 64, 0)]
    return DeadLetter(key, kept, headers)
