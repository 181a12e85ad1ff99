"""What every record of a batch reads alike is read once per pass (`HandlerContext.shared`) and shared by its
handlers; a pass taken again with savepoints reads it afresh."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from runtime import db
from runtime.handling import HandlerContext
from tests.integration.runtime.test_batches import event_id_of, held_records
from tests.support.infra import Infra
from tests.support.pipelines import held_meeting_pipeline, runtime_pool


@pytest.fixture
async def pool(infra: Infra, run_id: str) -> AsyncIterator[db.Pool]:
    async with runtime_pool(infra, f"t{run_id}_reads", "CREATE TABLE settings (value text NOT NULL)") as created:
        await created.execute("INSERT INTO settings VALUES ('first')")
        yield created


async def test_the_records_of_a_batch_share_one_read(pool: db.Pool) -> None:
    reads: list[str] = []
    seen: list[str] = []

    async def handle(ctx: HandlerContext, data: Any) -> None:
        async def read() -> str:
            value: str = await ctx.conn.fetchval("SELECT value FROM settings")
            reads.append(value)
            return value

        seen.append(await ctx.shared.once("settings", read))

    pipeline = held_meeting_pipeline(pool, handle, name="reads", max_tries=3)
    assert await pipeline.process_batch(held_records(5)) == ["processed"] * 5
    assert (reads, seen) == (["first"], ["first"] * 5)

    await pool.execute("UPDATE settings SET value = 'second'")
    assert await pipeline.process_batch(held_records(3, first_offset=40)) == ["processed"] * 3
    assert (reads, seen) == (["first", "second"], ["first"] * 5 + ["second"] * 3)  # the next batch sees the change


async def test_a_pass_taken_again_with_savepoints_reads_afresh(pool: db.Pool) -> None:
    records = held_records(4)
    reads = 0

    async def handle(ctx: HandlerContext, data: Any) -> None:
        async def read() -> int:
            nonlocal reads
            reads += 1
            return reads

        await ctx.shared.once("settings", read)
        if ctx.event.id == event_id_of(records[2]):
            raise RuntimeError("a bug in one handler")  # the pass is rolled back and taken again with savepoints

    outcomes = await held_meeting_pipeline(pool, handle, name="reads", max_tries=3).process_batch(records)

    assert outcomes == ["processed", "processed", "dead_lettered", "processed"]
    assert reads == 2
