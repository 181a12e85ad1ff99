"""The transactional outbox: events written with the state in one transaction, published afterwards by the relay
(runtime.relay)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg
from opentelemetry import propagate

from contracts import catalog
from contracts.envelope import kafka_headers, new_event_id, stable_event_id, unsigned_value
from contracts.events.base import EventData
from contracts.signed_bytes import ValueSigning, value_signing
from contracts.signing import Signer
from contracts.topics import partition_key
from runtime.db import Connection, JsonText, still_usable
from runtime.parallel import map_in_threads

OutboxRow = tuple[str, bytes | None, dict[str, str] | JsonText, bytes, str | None, str | None]
"""(topic, key, headers, payload, event id, event type), in the order of the outbox's columns below; the headers as
a dict, or as their JSON already written."""
INSERT_ROW = (
    "INSERT INTO outbox (topic, message_key, headers, payload, event_id, event_type) VALUES ($1, $2, $3, $4, $5, $6)"
)


@dataclass(frozen=True)
class Unsigned:
    """A derived event signed only when its batch is written, with the batch's others: the Python around each
    signature on the event loop, the Ed25519 signatures alone in worker threads, where they release the GIL. Whole
    rows in the threads were slower than on the event loop (their Python contended for the GIL); split, a row costs
    72-95 µs against 95-134 (docs/performance.md).

    The event is its exact bytes without `dssematerial` (`contracts.envelope.unsigned_value`), which
    `contracts.signed_bytes.value_signing` signs as they are, here or in a check process."""

    value: bytes
    topic: str
    signer: Signer
    event_id: str
    event_type: str
    key: bytes
    headers: JsonText

    def row(self) -> OutboxRow:
        pending = self.signing()
        return self.with_value(pending.signed(_signature((self.signer, pending.to_sign.message))))

    def signing(self) -> ValueSigning:
        return value_signing(self.value, self.signer.key_id)

    def with_value(self, value: bytes) -> OutboxRow:
        """The row of this event signed: `value` is its exact signed bytes."""
        return (self.topic, self.key, self.headers, value, self.event_id, self.event_type)


Outgoing = OutboxRow | Unsigned
"""A row of the outbox, or an event to sign into one when the batch is written."""


ROWS_PER_STATEMENT: Final = (50, 10, 1)
"""A batch's rows go in INSERTs of this many rows each, the largest first: PostgreSQL spent 12-13 µs of CPU per row
inserted one per statement, 7-9 at ten or fifty (docs/performance.md), and three shapes keep the prepared statements
few. One statement's rows take their ids in the order they are listed, so the rows keep the batch's order."""


async def add_batch_rows(conn: Connection, rows: Sequence[Outgoing]) -> None:
    """A batch's rows, in their order, as the last statements before its COMMIT, its unsigned events signed first:
    a round trip for each size of `ROWS_PER_STATEMENT` used (asyncpg pipelines executemany's statements). With no
    rows it still runs one (`db.still_usable`): a COMMIT of a transaction that a swallowed error aborted rolls back
    without a word, where a statement fails."""
    if not rows:
        await still_usable(conn)
        return
    signed = await signed_rows(rows)
    at = 0
    for size in ROWS_PER_STATEMENT:
        count = (len(signed) - at) // size
        if count:
            runs = [signed[start : start + size] for start in range(at, at + count * size, size)]
            await conn.executemany(_insert_rows(size), [tuple(v for row in run for v in row) for run in runs])
            at += count * size


@functools.cache
def _insert_rows(count: int) -> str:
    """INSERT_ROW for `count` rows."""
    values = ", ".join("(" + ", ".join(f"${n * 6 + i}" for i in range(1, 7)) + ")" for n in range(count))
    return INSERT_ROW.partition(" VALUES ")[0] + " VALUES " + values


async def signed_rows(rows: Sequence[Outgoing]) -> list[OutboxRow]:
    """The batch's rows with its unsigned events signed: the Python of each here, the signatures in the threads."""
    pending = {n: (row, row.signing()) for n, row in enumerate(rows) if isinstance(row, Unsigned)}
    signatures = await map_in_threads(_signature, [(row.signer, p.to_sign.message) for row, p in pending.values()])
    made = {
        n: row.with_value(p.signed(signature))
        for (n, (row, p)), signature in zip(pending.items(), signatures, strict=True)
    }
    return [made[n] if isinstance(row, Unsigned) else row for n, row in enumerate(rows)]


def _signature(job: tuple[Signer, bytes]) -> bytes:
    signer, message = job
    return signer.sign(message)


def to_send(row: asyncpg.Record) -> tuple[str, bytes, bytes | None, Mapping[str, str]]:
    """A row as the relay hands it to the producer: topic, value, key and headers.

    The headers must be a JSON object of texts. Anything else (a number, null, a list) would fail in the producer
    on every pass and hold up every row behind it, so it raises TypeError, which sets the row aside alone."""
    headers = row["headers"]
    if not isinstance(headers, dict) or not all(isinstance(text, str) for text in headers.values()):
        raise TypeError(f"the outbox row's headers are not a JSON object of texts: {str(headers)[:200]}")
    key = bytes(row["message_key"]) if row["message_key"] is not None else None
    return row["topic"], bytes(row["payload"]), key, headers


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
    await conn.execute(INSERT_ROW, topic, key, dict(headers), payload, event_id, event_type)


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
    caller's transaction; given `rows`, it adds them there instead, for the caller to write with its batch's
    (`add_batch_rows`), and with `sign_later` unsigned, for that to sign together."""

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
        rows: list[Outgoing] | None = None,
        sign_later: bool = False,
    ) -> None:
        self._conn = conn
        self._rows = rows
        self._sign_later = sign_later
        self._signer = signer
        self._source = source
        self._topic_of = topic_of
        self._now = now
        self._correlation_id = correlation_id
        self._causation_id = causation_id
        # Every caller makes its emitter where its events are emitted, inside the cause's span if there is one: read
        # once, not for each event (five a held meeting; the propagator's read was 2 % of the service's time).
        self._traceparent = child_traceparent(traceparent)
        self.emitted: list[str] = []
        """The types of the events emitted: what a log line names."""

    @functools.cached_property
    def _headers_json(self) -> JsonText:
        """The same for every event of the cause: written out once, at its first event (a cause that emits nothing
        writes none), and sent to the jsonb column as it is (a dict went through `json.dumps` for each of the
        batch's rows, 2 µs each on the loop)."""
        return JsonText(json.dumps(kafka_headers(self._traceparent)))

    async def emit(
        self,
        data: EventData,
        *,
        agreement_id: str,
        region: str | None,
        subject: str | None = None,
        business_key: str | None = None,
    ) -> None:
        """Emit one derived event; a business key makes its id stable for the same cause."""
        kind = catalog.of(type(data))
        event_id = (
            stable_event_id(self._causation_id or "", kind.name, business_key) if business_key else new_event_id()
        )
        key = partition_key(agreement_id, region)
        value = unsigned_value(
            id=event_id,
            source=self._source,
            type=kind.name,
            time=self._now,
            subject=subject,
            dataschema=kind.dataschema,
            correlationid=self._correlation_id,
            causationid=self._causation_id,
            traceparent=self._traceparent,
            partitionkey=key,
            data=data.model_dump_json().encode(),
        )
        topic = self._topic_of(kind.topic)
        outgoing = Unsigned(value, topic, self._signer, event_id, kind.name, key.encode(), self._headers_json)
        if self._rows is None:
            await self._conn.execute(INSERT_ROW, *outgoing.row())
        else:
            self._rows.append(outgoing if self._sign_later else outgoing.row())
        self.emitted.append(kind.name)


async def backlog(pool: asyncpg.Pool) -> dict[str, Any]:
    """Unpublished rows and the age of the oldest, and the rows set aside, for metrics and readiness."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE failed_at IS NULL) AS pending,"
            " min(created_at) FILTER (WHERE failed_at IS NULL) AS oldest,"
            " count(*) FILTER (WHERE failed_at IS NOT NULL) AS set_aside"
            " FROM outbox"
        )
    assert row is not None
    return {"pending": row["pending"], "oldest": row["oldest"], "set_aside": row["set_aside"]}


async def has_unpublished(conn: Connection) -> bool:
    """Whether a row still waits for the relay (rows set aside as unpublishable do not wait)."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM outbox WHERE failed_at IS NULL)"))
