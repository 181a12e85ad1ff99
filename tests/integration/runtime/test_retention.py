"""Inbox rows past the horizon are deleted in bounded batches; nothing else is. (The outbox keeps no published rows:
the relay deletes them, and migration 006 deleted those an earlier version kept.)"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg

from runtime import db
from runtime.db import Connection
from runtime.definition import ServiceDefinition
from runtime.lifecycle import ServiceRuntime
from runtime.logging import configure_logging
from runtime.observability import Metrics
from runtime.retention import STATEMENTS, Retention, RetentionPolicy
from runtime.settings import RuntimeSettings
from runtime.wiring import build_app
from tests.support.infra import Infra
from tests.support.services import fetch, playing, running, settings_for

DAY = timedelta(days=1)


@asynccontextmanager
async def migrated_schema(infra: Infra, run_id: str) -> AsyncIterator[asyncpg.Pool]:
    """The runtime's tables in a fresh schema, as the evaluations service's role; logging to this test's stderr,
    as a service would configure it (not to an earlier test's, captured and closed)."""
    configure_logging("retentiontest", fmt="json")
    pool = await db.create_pool(infra.service_database_url("evaluations"), f"t{run_id}_retention", max_size=2)
    try:
        await db.migrate(pool, [db.RUNTIME_MIGRATIONS])
        yield pool
    finally:
        await pool.close()


async def add_inbox_rows(conn: Connection, count: int, age: timedelta) -> None:
    for _ in range(count):
        await conn.execute(
            "INSERT INTO inbox (event_source, event_id, event_type, topic, kafka_partition, kafka_offset, outcome,"
            " processed_at) VALUES ('/test', $1, 't', 'topic', 0, 0, 'processed', now() - $2::interval)",
            uuid.uuid4().hex,
            age,
        )


async def add_outbox_row(conn: Connection, *, created: timedelta, set_aside: bool = False) -> int:
    row_id: int = await conn.fetchval(
        "INSERT INTO outbox (topic, headers, payload, created_at, failed_at, last_error)"
        " VALUES ('topic', '{}', '\\x00', now() - $1::interval,"
        "  CASE WHEN $2 THEN now() - $1::interval END, CASE WHEN $2 THEN 'refused' END) RETURNING id",
        created,
        set_aside,
    )
    return row_id


async def test_inbox_rows_past_the_horizon_go_in_batches_and_outbox_rows_stay_however_old(
    infra: Infra, run_id: str
) -> None:
    metrics = Metrics("retentiontest")
    statements: list[tuple[str, int]] = []

    def deleted(table: str, count: int) -> None:
        statements.append((table, count))
        metrics.observe_retention(table, count)

    policy = RetentionPolicy(horizon=8 * DAY, batch=3, max_batches=10, interval_seconds=3600)
    async with migrated_schema(infra, run_id) as pool:
        async with pool.acquire() as conn:
            await add_inbox_rows(conn, 7, 9 * DAY)
            await add_inbox_rows(conn, 2, 7 * DAY)
            # Still to be published (the broker away for a month), or set aside for an operator: neither may go.
            unpublished = await add_outbox_row(conn, created=30 * DAY)
            set_aside = await add_outbox_row(conn, created=30 * DAY, set_aside=True)
        swept = await Retention(pool, policy, on_deleted=deleted).sweep()
        again = await Retention(pool, policy, on_deleted=deleted).sweep()
        inbox_left = await pool.fetchval("SELECT count(*) FROM inbox")
        outbox_left = {r["id"] for r in await pool.fetch("SELECT id FROM outbox")}
    assert swept == {"inbox": 7}
    assert again == {"inbox": 0}
    assert [c for t, c in statements if t == "inbox"][:3] == [3, 3, 1]  # no statement deletes more than a batch
    assert inbox_left == 2
    assert outbox_left == {unpublished, set_aside}
    sample = metrics.registry.get_sample_value
    assert sample("lhl_retention_deleted_total", {"service": "retentiontest", "table": "inbox"}) == 7


async def test_the_migration_that_ends_the_published_rows_deletes_them_and_keeps_the_rest(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    before = sorted(db.RUNTIME_MIGRATIONS.glob("00[1-5]_*.sql"))
    assert [f.name[:3] for f in before] == ["001", "002", "003", "004", "005"]
    earlier = tmp_path / "runtime" / "migrations"  # a migration is known by its folder's parent and its name
    earlier.mkdir(parents=True)
    for migration in before:
        (earlier / migration.name).write_bytes(migration.read_bytes())
    pool = await db.create_pool(infra.service_database_url("evaluations"), f"t{run_id}_m006", max_size=2)
    try:
        await db.migrate(pool, [earlier])
        ids = {}
        for name, published, set_aside in [
            ("published", True, False),
            ("waiting", False, False),
            ("aside", False, True),
        ]:
            ids[name] = await pool.fetchval(
                "INSERT INTO outbox (topic, headers, payload, published_at, failed_at) VALUES ('topic', '{}', '\\x00',"
                " CASE WHEN $1 THEN now() END, CASE WHEN $2 THEN now() END) RETURNING id",
                published,
                set_aside,
            )
        applied = await db.migrate(pool, [db.RUNTIME_MIGRATIONS])
        left = {r["id"] for r in await pool.fetch("SELECT id FROM outbox")}
        columns = {
            r["column_name"]
            for r in await pool.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = 'outbox'"
            )
        }
    finally:
        await pool.close()
    assert applied == ["runtime/006_outbox_rows_deleted_once_published"]
    assert left == {ids["waiting"], ids["aside"]}
    assert "published_at" not in columns


async def test_a_run_stops_at_its_cap_and_the_next_run_goes_on(infra: Infra, run_id: str) -> None:
    policy = RetentionPolicy(horizon=8 * DAY, batch=2, max_batches=2, interval_seconds=3600)
    async with migrated_schema(infra, run_id) as pool:
        async with pool.acquire() as conn:
            await add_inbox_rows(conn, 5, 9 * DAY)
        retention = Retention(pool, policy, on_deleted=lambda table, count: None)
        first = await retention.sweep()
        second = await retention.sweep()
    assert (first["inbox"], second["inbox"]) == (4, 1)


class RetentionSettings(RuntimeSettings):
    service_name: str = "retentiontest"


async def test_the_service_sweeps_at_start_and_counts_what_it_deleted(
    infra: Infra, run_id: str, tmp_path: Path
) -> None:
    settings = settings_for(
        RetentionSettings, infra, run_id, retention_interval_seconds=3600, **playing(infra, "evaluations")
    )
    definition = ServiceDefinition(name="retentiontest", description="retention only", migrations=tmp_path, consumes={})
    async with running(build_app(definition, settings)) as runtime, runtime.pool.acquire() as conn:
        # The rows go in after this start's own sweep, or it may take some of them first.
        await counted(runtime, lambda sample: all(sample(table) is not None for table in STATEMENTS))
        await add_inbox_rows(conn, 3, 9 * DAY)
        await add_inbox_rows(conn, 1, DAY)
    # Started again, it deletes what is past the horizon without waiting for its interval.
    async with running(build_app(definition, settings)) as runtime:
        await counted(runtime, lambda sample: sample("inbox") == 3)
        left = await fetch(runtime, "SELECT count(*) AS n FROM inbox")
    assert left[0]["n"] == 1


async def counted(runtime: ServiceRuntime, done: Callable[[Callable[[str], float | None]], bool]) -> None:
    """Until `done` holds of the service's deletions counted per table (None for a table no sweep reached yet)."""

    def sample(table: str) -> float | None:
        labels = {"service": "retentiontest", "table": table}
        return runtime.metrics.registry.get_sample_value("lhl_retention_deleted_total", labels)

    async with asyncio.timeout(10):
        while not done(sample):  # noqa: ASYNC110 (a counter has nothing to wait on)
            await asyncio.sleep(0.05)
