"""What a service answers on /ready and the gauges it refreshes before each /metrics scrape."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from runtime import db, timers
from runtime.clock import Clock
from runtime.definition import Database
from runtime.lag import LagProbe, refresh_lag
from runtime.observability import Metrics
from runtime.outbox import backlog

CHECK_SECONDS = 3.0
"""A probe that waits longer than this has its answer: not ready."""


async def readiness(
    pool: asyncpg.Pool | None, producer: AIOKafkaProducer | None, migrations: Sequence[Path]
) -> dict[str, bool]:
    """Ready when the database answers with every migration applied and the broker answers."""
    checks = {"database": False, "migrations": False, "broker": False}
    if pool is not None:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                checks["database"] = await pool.fetchval("SELECT 1") == 1
                checks["migrations"] = not await db.pending_migrations(pool, migrations)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pass
    if producer is not None:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                checks["broker"] = bool(await producer.client.fetch_all_metadata())
        except Exception:
            checks["broker"] = False
    return checks


async def own_database(database: Database, pool: asyncpg.Pool | None, broker: KafkaBroker | None) -> dict[str, bool]:
    """Ready when the service's own database says so and the broker answers (a service with no producer)."""
    checks = {"database": False, "migrations": False, "broker": False}
    if pool is not None:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                checks["database"] = checks["migrations"] = await database.ready(pool)
        except (OSError, TimeoutError, RuntimeError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pass
    if broker is not None:
        checks["broker"] = await broker.ping(timeout=CHECK_SECONDS)
    return checks


async def refresh_gauges(pool: asyncpg.Pool, lag: LagProbe, metrics: Metrics, clock: Clock) -> None:
    """Consumer lag, the outbox's backlog and its oldest row's age, rows set aside, and timers still to fire."""
    await refresh_lag(lag, metrics)
    pending = await backlog(pool)
    metrics.outbox_backlog.labels(metrics.service).set(pending["pending"])
    oldest = pending["oldest"]
    age = (clock.now() - oldest).total_seconds() if oldest is not None else 0.0
    metrics.outbox_oldest_age.labels(metrics.service).set(max(age, 0.0))
    metrics.outbox_set_aside.labels(metrics.service).set(pending["set_aside"])
    async with pool.acquire() as conn:
        metrics.timers_pending.labels(metrics.service).set(await timers.waiting(conn))
