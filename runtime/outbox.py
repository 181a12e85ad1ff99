"""The transactional outbox: events written with the state, published afterwards by the relay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import errors as kafka_errors
from opentelemetry import propagate

from contracts import catalog
from contracts.envelope import CloudEvent, new_event_id, stable_event_id
from contracts.events.base import EventData
from contracts.signing import Signer, sign_event
from contracts.topics import partition_key
from runtime.db import Connection
from runtime.logging import get_logger
from runtime.polling import poll
from runtime.wakeup import Wakeup

Send = Callable[[str, bytes, bytes | None, Mapping[str, str]], Awaitable[None]]
"""Publish one record (topic, value, key, headers) and wait until the broker acknowledged it."""

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


async def add_record(
    conn: Connection,
    topic: str,
    payload: bytes,
    key: bytes | None,
    headers: Mapping[str, str],
    *,
    event_id: str | None = None,
    event_type: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO outbox (topic, message_key, headers, payload, event_id, event_type)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        topic,
        key,
        dict(headers),
        payload,
        event_id,
        event_type,
    )


def child_traceparent(cause: str | None) -> str | None:
    """The traceparent for a derived event: the current consume span (a child in the cause's trace) if there is one.

    FastStream's OpenTelemetry middleware opens a span from the record's `traceparent` header. A publisher that set
    the trace only in the CloudEvents extension gets a span in a new trace; then the extension wins, so that one
    trace id still runs from the external event to the last notification.
    """
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    current = carrier.get("traceparent")
    if current is None:
        return cause
    if cause is not None and cause.split("-")[1] != current.split("-")[1]:
        return cause
    return current


class Emitter:
    """Builds derived CloudEvents, signs them with the service's key and writes them to the outbox inside the
    caller's transaction."""

    def __init__(
        self,
        conn: Connection,
        *,
        source: str,
        topic_of: Callable[[str], str],
        now: datetime,
        correlation_id: str,
        causation_id: str | None,
        traceparent: str | None,
        signer: Signer,
    ) -> None:
        self._conn = conn
        self._signer = signer
        self._source = source
        self._topic_of = topic_of
        self._now = now
        self._correlation_id = correlation_id
        self._causation_id = causation_id
        self._traceparent = traceparent
        self.emitted: list[CloudEvent] = []

    async def emit(
        self,
        data: EventData,
        *,
        agreement_id: str,
        region: str | None,
        subject: str | None = None,
        business_key: str | None = None,
    ) -> CloudEvent:
        """Emit one derived event; a business key makes its id stable for the same cause."""
        kind = catalog.of(type(data))
        traceparent = child_traceparent(self._traceparent)
        event_id = (
            stable_event_id(self._causation_id or "", kind.name, business_key) if business_key else new_event_id()
        )
        event = CloudEvent(
            specversion="1.0",
            id=event_id,
            source=self._source,
            type=kind.name,
            time=self._now,
            subject=subject,
            dataschema=kind.dataschema,
            correlationid=self._correlation_id,
            causationid=self._causation_id,
            traceparent=traceparent,
            partitionkey=partition_key(agreement_id, region),
            data=data.model_dump(mode="json"),
        )
        event = sign_event(event, self._signer)
        await add_record(
            self._conn,
            self._topic_of(kind.topic),
            event.to_bytes(),
            event.partitionkey.encode(),
            event.kafka_headers(),
            event_id=event.id,
            event_type=event.type,
        )
        self.emitted.append(event)
        return event


async def _set_aside(conn: Connection, row_id: int, error: str) -> None:
    await conn.execute("UPDATE outbox SET failed_at = now(), last_error = $2 WHERE id = $1", row_id, error)


class OutboxRelay:
    """Publishes unpublished outbox rows in id order and marks them published after the broker acknowledged.

    The order holds for the rows the broker takes; a row it refuses for good is set aside with the error
    (`failed_at`, `last_error`), logged as `outbox_row_set_aside` and counted by `lhl_outbox_set_aside`, and the
    rows behind it go on. Without that, one dead letter too large for the broker blocked every event behind it.
    """

    def __init__(self, pool: asyncpg.Pool, send: Send, *, poll_seconds: float, batch_size: int = 500) -> None:
        self._pool = pool
        self._send = send
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._wakeup = Wakeup()
        self._stopping = False
        self._log = get_logger(component="outbox_relay")

    def wake(self) -> None:
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """One pass: publish up to a batch; returns how many were published."""
        failure: Exception | None = None
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, topic, message_key, headers, payload FROM outbox"
                " WHERE published_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch_size,
            )
            if not rows:
                return 0
            sent: list[int] = []
            # Send in order and wait for each acknowledgement; idempotence keeps retries free of duplicates.
            for row in rows:
                key = bytes(row["message_key"]) if row["message_key"] is not None else None
                try:
                    await self._send(row["topic"], bytes(row["payload"]), key, row["headers"])
                except PERMANENT_SEND_ERRORS as error:
                    text = f"{type(error).__name__}: {error}"[:1000]
                    await _set_aside(conn, row["id"], text)
                    self._log.error("outbox_row_set_aside", outbox_id=row["id"], topic=row["topic"], error=text)
                    continue
                except Exception as error:
                    failure = error  # the broker is away: keep what it acknowledged, retry the rest later
                    break
                sent.append(row["id"])
            await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", sent)
        if failure is not None:
            raise failure
        self._log.debug("outbox_published", count=len(sent))
        return len(rows)

    def stop(self) -> None:
        """Ask `run` to finish its current pass and return: cancelling mid-send would publish a row twice."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        await poll(
            self._drain,
            wakeup=self._wakeup,
            seconds=self._poll_seconds,
            stopping=lambda: self._stopping,
            failed="outbox_publish_failed",
            log=self._log,
        )

    async def _drain(self) -> None:
        while await self.publish_pending() == self._batch_size:
            pass


async def backlog(pool: asyncpg.Pool) -> dict[str, Any]:
    """Unpublished rows and the age of the oldest, and the rows set aside, for metrics and readiness."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE failed_at IS NULL) AS pending,"
            " min(created_at) FILTER (WHERE failed_at IS NULL) AS oldest,"
            " count(*) FILTER (WHERE failed_at IS NOT NULL) AS set_aside"
            " FROM outbox WHERE published_at IS NULL"
        )
    assert row is not None
    return {"pending": row["pending"], "oldest": row["oldest"], "set_aside": row["set_aside"]}


async def has_unpublished(conn: Connection) -> bool:
    """Whether a row still waits for the relay (rows set aside as unpublishable do not wait)."""
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL AND failed_at IS NULL)")
    )
