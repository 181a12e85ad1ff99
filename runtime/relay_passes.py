"""What one pass of the outbox relay (`runtime.relay`) reads and writes, and how the outbox is kept small."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from runtime.logging import get_logger

RELAY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended('lhl-outbox-relay:' || current_schema(), 0))"
"""One relay at a time per service (its schema holds its outbox), for the length of one pass's transaction.

Two relays that each publish a batch at once interleave a region's events on the topic, so the lock is taken before
the batch is read and held until its rows are deleted. It is a transaction-level advisory lock rather than a session
lock: the pools do not reset a connection they take back (`db.keep_session`), so a session lock would outlive the
pass, and a relay that dies with its connection gives the lock back with its transaction: nothing is left behind."""

LOCK_RETRY_SECONDS = 0.05
"""A relay that found another instance relaying tries again this soon rather than a whole poll later: the rows its
own handlers just wrote may have come after that instance read its batch, and nothing else would wake it."""

BATCH_ROWS = 2_000
"""Most rows one pass reads. Over a catch-up of 100k held meetings (five derived events each) a relay reading 500 a
pass fell behind the handlers, up to 150,000 rows, and published the last 3.5 s after the last record was handled;
at 2,000 it kept pace (0.05 s behind or less): 1,992 and 1,897 events/s against 1,765 and 1,815 in alternating runs
(docs/performance.md). A pass of light traffic reads what is there: the limit costs no latency."""
BATCH_BYTES = 8 * 1024 * 1024
"""Most payload bytes one pass reads (besides its first row, which is read whatever its size): the relay holds a
pass's rows in memory, and two thousand dead letters of nearly a megabyte each (`contracts.limits`) would be 2 GB."""

NEXT_ROWS = (
    "SELECT id, topic, message_key, headers, payload, candidates FROM ("
    " SELECT id, topic, message_key, headers, payload, count(*) OVER () AS candidates,"
    " sum(octet_length(payload)) OVER (ORDER BY id) - octet_length(payload) AS before"
    " FROM (SELECT * FROM outbox WHERE failed_at IS NULL ORDER BY id LIMIT $1) AS next"
    ") AS pass WHERE before < $2 OR before = 0 ORDER BY id"
)
"""A pass's rows: the first `BATCH_ROWS` unpublished rows in id order, up to `BATCH_BYTES` of payload, and how many
the row limit alone would have given (`candidates`), which says whether the byte limit cut the pass short.
`octet_length` of a stored value reads its size from its header, without decompressing it."""

SET_ASIDE = "UPDATE outbox SET failed_at = now(), last_error = $2 WHERE id = $1"
DELETE_PUBLISHED = "DELETE FROM outbox WHERE id = ANY($1::bigint[])"

VACUUM_AFTER_ROWS = 20_000
"""Rows published (and deleted) between two vacuums of the outbox by its relay.

The outbox is a queue: every row is inserted once and deleted once published, and a deleted row's space is used
again only once a vacuum has freed it. Autovacuum visits a database at most once a minute (`autovacuum_naptime`),
and a 100k catch-up of held meetings deleted 500,000 rows in that time: the table grew to 800 MB, nearly all of it
dead rows. A vacuum after every 20,000 rows (about two seconds of that catch-up) keeps it at a few megabytes. In
alternating 100k catch-ups it took PostgreSQL's CPU per held meeting from 0.161-0.162 ms to 0.151-0.152 and left the
rate as it was, within the noise (docs/performance.md)."""


class OutboxVacuum:
    """Vacuums the outbox, on a connection of its own and beside the relay's passes, once enough rows were deleted.

    Only the table's owner may vacuum it: the services own theirs, having made them. For any other role PostgreSQL
    skips the table with a warning and autovacuum alone keeps it, as before. A failed vacuum is logged and tried
    again after as many rows: keeping the table small never holds up a pass."""

    def __init__(self, pool: asyncpg.Pool, after_rows: int = VACUUM_AFTER_ROWS) -> None:
        self._pool = pool
        self._after_rows = after_rows
        self._deleted = 0
        self._running: asyncio.Task[None] | None = None
        self._stopping = False

    def deleted(self, rows: int) -> None:
        """`rows` were deleted; vacuum now if enough were since the last, and none is running or the relay stopping."""
        self._deleted += rows
        if self._deleted < self._after_rows or self._stopping:
            return
        if self._running is None or self._running.done():
            self._deleted = 0
            self._running = asyncio.create_task(self._vacuum(), name="outbox-vacuum")

    async def _vacuum(self) -> None:
        try:
            async with self._pool.acquire() as conn:
                await conn.execute("VACUUM outbox")
        except Exception as error:
            get_logger(component="outbox_relay").warning(
                "outbox_vacuum_failed", error=f"{type(error).__name__}: {error}"
            )

    def stop(self) -> None:
        self._stopping = True

    async def finish(self) -> None:
        """Wait for a vacuum still running, so it does not outlive the pool it runs on."""
        if self._running is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._running
