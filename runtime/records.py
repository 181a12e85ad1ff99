"""How FastStream hands records to the services: headers made readable, bodies left as the bytes they were.

The handlers parse each record themselves and dead-letter what they cannot read. FastStream's defaults would get
there first: its parser decodes every header value as strict UTF-8 (and fails on a header whose value is null),
and its decoder json-decodes every body. One such header, or a body nested too deep for Python's JSON parser, then
failed before any handler ran, and the record was passed over without a dead letter (or, for the audit's batches,
retried for ever). FastStream reads a readable copy of the headers; the handlers get the record as it came.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any

from aiokafka import ConsumerRecord


async def parse_leniently(received: Any, original: Any) -> Any:
    """FastStream's parser, given records whose header values are valid UTF-8 (others replaced with U+FFFD, null
    ones empty); the parsed message keeps the records as they were received."""
    if isinstance(received, tuple):
        message = await original(tuple(_readable_headers(r) for r in received))
    else:
        message = await original(_readable_headers(received))
    message.raw_message = received
    return message


@dataclass(frozen=True)
class Polled:
    """What a handler gets of a poll: its records as they came, and the consumer they came from (to rewind and to
    commit)."""

    records: tuple[ConsumerRecord[Any, Any], ...]
    consumer: Any


async def polled(message: Any) -> Polled:
    """The decoder: no body is decoded, the handler gets the poll's records and reads them itself. So the broker
    injects nothing (`apply_types=False`): resolving a handler's `KafkaMessage` ran in a worker thread, a hop and a
    wake-up per poll, which at a steady 100 events/s was a poll per event. FastStream keeps the decoded body on the
    message, so it must not hold the message: the message itself as its own body was a reference cycle that kept
    every poll's records until a full collection (the audit's RSS grew from 113 to 169 MiB over 100k events)."""
    raw = message.raw_message
    return Polled(raw if isinstance(raw, tuple) else (raw,), message.consumer)


async def apart(work: Coroutine[Any, Any, None], context: contextvars.Context) -> None:
    """`work` (a poll's handling) as its own task, in a copy of `context` (the service's, from before any poll) rather
    than in FastStream's: FastStream keeps the poll's message in a context variable while the handler runs, and every
    callback and timer scheduled meanwhile keeps a copy of that context. A timer that is cancelled and scheduled again
    (as the connection pool's idle timer is at every release) stays in the loop's heap, with its context, until enough
    of them are purged: with its records read on the loop's thread the audit kept dozens of polls alive that way, up to
    a megabyte each (RSS 108 -> 128 MiB over 100k events; 103 -> 105 apart). Cancelling the handler cancels the task."""
    await asyncio.create_task(work, context=context.copy())


def _readable_headers(record: ConsumerRecord[Any, Any]) -> ConsumerRecord[Any, Any]:
    try:
        for _, value in record.headers or ():
            value.decode()
    except (UnicodeDecodeError, AttributeError):
        readable = [(name, (value or b"").decode("utf-8", "replace").encode()) for name, value in record.headers]
        return replace(record, headers=readable)
    return record


REPLAY_HEADER = "lhl-replay-of"
"""Set by `lhl dlq replay` on a dead letter sent back to its topic: '<dead-letter partition>:<offset>'."""


@dataclass(frozen=True)
class Incoming:
    """One Kafka record as the pipeline sees it: where it was, and its bytes as they came."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()

    @property
    def coordinates(self) -> tuple[str, str]:
        """The identity of a record that has no usable one of its own: where it is in Kafka, as (source, id)."""
        return f"kafka:{self.topic}", f"{self.partition}:{self.offset}"

    @property
    def is_replay(self) -> bool:
        return any(name == REPLAY_HEADER for name, _ in self.headers)
