"""Overdue timers fire many to a transaction: a failing handler parks its own timer only, and a timer that an
earlier handler of the same batch cancelled does not fire."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from runtime import db, timers
from runtime.clock import ManualClock
from runtime.emitters import Emitters
from runtime.timers import TimerContext, TimerRunner
from tests.support.infra import Infra
from tests.support.pipelines import runtime_pool
from tests.support.signing import keys_for_tests

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
async def pool(infra: Infra, run_id: str) -> AsyncIterator[db.Pool]:
    rang = "CREATE TABLE rang (n bigserial PRIMARY KEY, timer_key text NOT NULL)"
    async with runtime_pool(infra, f"t{run_id}_timer_batches", rang) as created:
        yield created


async def ring(tctx: TimerContext) -> None:
    await tctx.conn.execute("INSERT INTO rang (timer_key) VALUES ($1)", tctx.timer.key)
    if tctx.timer.payload.get("cancels"):
        await timers.cancel(tctx.conn, tctx.timer.payload["cancels"], tctx.now)


async def explode(tctx: TimerContext) -> None:
    await tctx.conn.execute("INSERT INTO rang (timer_key) VALUES ($1)", tctx.timer.key)
    raise KeyError("a bug in a timer handler")


async def test_a_batch_of_overdue_timers_parks_the_failing_one_and_skips_the_one_cancelled_in_it(pool: db.Pool) -> None:
    async with pool.acquire() as conn:
        for n, (kind, payload) in enumerate(
            [("ring", {}), ("explode", {}), ("ring", {"cancels": "t4"}), ("ring", {}), ("ring", {}), ("ring", {})]
        ):
            await timers.schedule(conn, f"t{n}", kind, NOW - timedelta(days=30) + timedelta(minutes=n), payload)
    emitters = Emitters("/lhl/timer-batches", lambda name: name, keys_for_tests().ensure_service("meetings"))
    runner = TimerRunner(
        pool, ManualClock(NOW), {"ring": ring, "explode": explode}, emitters.for_timer, poll_seconds=1, batch_size=4
    )

    assert await runner.fire_due() == 4

    rang = await pool.fetch("SELECT timer_key FROM rang ORDER BY n")
    assert [r["timer_key"] for r in rang] == ["t0", "t2", "t3", "t5"]
    rows = {
        r["timer_key"]: r
        for r in await pool.fetch("SELECT timer_key, fired_at, cancelled_at, failed_at, last_error FROM timers")
    }
    assert {key for key, r in rows.items() if r["fired_at"] is not None} == {"t0", "t2", "t3", "t5"}
    assert rows["t1"]["failed_at"] is not None
    assert rows["t1"]["fired_at"] is None
    assert rows["t1"]["last_error"] == "KeyError: 'a bug in a timer handler'"
    assert rows["t4"]["cancelled_at"] is not None
    assert rows["t4"]["fired_at"] is None
    assert await runner.fire_due() == 0


async def swallow(tctx: TimerContext) -> None:
    await tctx.conn.execute("INSERT INTO rang (timer_key) VALUES ($1)", tctx.timer.key)
    with contextlib.suppress(asyncpg.DataError):
        await tctx.conn.execute("SELECT 1 / 0")


@pytest.mark.parametrize("failing", [0, 2])
async def test_a_handler_that_swallows_a_database_error_parks_its_timer_alone_and_the_others_fire(
    pool: db.Pool, failing: int
) -> None:
    """A batch is fired without savepoints first; a statement that failed there leaves the transaction unusable
    even when the handler carries on, and the batch is fired again with a savepoint per timer."""
    async with pool.acquire() as conn:
        for n in range(3):
            kind = "swallow" if n == failing else "ring"
            await timers.schedule(conn, f"t{n}", kind, NOW - timedelta(days=1) + timedelta(minutes=n), {})
    emitters = Emitters("/lhl/timer-batches", lambda name: name, keys_for_tests().ensure_service("meetings"))
    runner = TimerRunner(
        pool, ManualClock(NOW), {"ring": ring, "swallow": swallow}, emitters.for_timer, poll_seconds=1, batch_size=3
    )

    assert await runner.fire_due() == 2

    rang = await pool.fetch("SELECT timer_key FROM rang ORDER BY n")
    assert [r["timer_key"] for r in rang] == [f"t{n}" for n in range(3) if n != failing]
    parked = await pool.fetchrow(
        "SELECT fired_at, failed_at, last_error FROM timers WHERE timer_key = $1", f"t{failing}"
    )
    assert parked is not None
    assert parked["fired_at"] is None
    assert parked["failed_at"] is not None
    assert parked["last_error"].startswith("InFailedSQLTransactionError")
