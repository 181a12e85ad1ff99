"""Claiming the next due delivery reads from the front of the queue, however many e-mails are due: with a backlog,
the delivery worker must not read and sort every due delivery to take one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runtime import db
from services.notifications.app import MIGRATIONS
from services.notifications.repository.deliveries import claim_due
from tests.support.infra import Infra

DUE = 2000
READ = (
    "SELECT sum(pg_stat_get_xact_tuples_returned(c.oid)) FROM pg_class c WHERE c.oid = 'deliveries'::regclass"
    "   OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'deliveries'::regclass)"
)
"""Rows and index entries the current transaction's scans of deliveries returned."""


async def test_the_claim_of_the_next_delivery_reads_the_front_of_the_queue_only(infra: Infra, run_id: str) -> None:
    pool = await db.create_pool(infra.database_url, f"t{run_id}_claim", min_size=1, max_size=1, generic_plans=True)
    now = datetime(2026, 12, 3, 9, tzinfo=UTC)
    try:
        await db.migrate(pool, [db.RUNTIME_MIGRATIONS, MIGRATIONS])
        await pool.execute("INSERT INTO recipients (recipient_id, name, kind) VALUES ('ks', 'KS', 'organisation')")
        await pool.execute(
            "INSERT INTO contact_points (contact_point_id, recipient_id, channel, address)"
            " VALUES ('ks-mail', 'ks', 'email', 'post@ks.no')"
        )
        async with pool.acquire() as conn, conn.transaction():  # the plan is made now, with nothing due
            assert await claim_due(conn, now) is None
        await pool.executemany(
            "INSERT INTO deliveries (notification_id, about_event_source, about_event_id, about_event_type,"
            " recipient_id, contact_point_id, channel, correlation_id, subject, body, payload, next_attempt_at,"
            " created_at) VALUES ($1, '/hod', $1, 'no.levehelelivet.meeting.held.v1', 'ks', 'ks-mail', 'email',"
            " 'c', 'Emne', 'Tekst', '\\x00'::bytea, $2, $3)",
            [(f"n{n:05}", now - timedelta(seconds=DUE - n), now) for n in range(DUE)],
        )

        async with pool.acquire() as conn, conn.transaction():
            claimed = await claim_due(conn, now)
            read = await conn.fetchval(READ)

        assert claimed is not None
        assert claimed.notification_id == "n00000"  # the longest due first
        assert read <= 4, f"claiming one delivery read {read} rows and index entries of {DUE} due"
    finally:
        await pool.close()
