"""A handler's write-only statements (`HandlerContext.writes`) wait for the end of the batch's pass and go together,
in the order they were made; one that fails is its record's alone, as any failure of a handler is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE
from runtime import db
from runtime.handling import HandlerContext
from tests.integration.runtime.test_batches import event_id_of, held_records
from tests.support.infra import Infra
from tests.support.pipelines import held_meeting_pipeline, runtime_pool

INSERT = "INSERT INTO seen (event_id, note) VALUES ($1, $2)"


@pytest.fixture
async def pool(infra: Infra, run_id: str) -> AsyncIterator[db.Pool]:
    seen = "CREATE TABLE seen (n bigserial PRIMARY KEY, event_id text NOT NULL, note text NOT NULL)"
    async with runtime_pool(infra, f"t{run_id}_writes", seen) as created:
        yield created


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Each `executemany` the pipeline sends: its statement and how many argument rows it carried."""
    calls: list[tuple[str, int]] = []
    original = asyncpg.Connection.executemany

    async def counting(self: asyncpg.Connection, command: str, args: Any, *, timeout: float | None = None) -> None:
        rows = list(args)
        calls.append((command, len(rows)))
        await original(self, command, rows, timeout=timeout)

    monkeypatch.setattr(asyncpg.Connection, "executemany", counting)
    return calls


async def test_a_batchs_write_only_statements_go_in_one_round_trip_in_their_order_after_its_handlers(
    pool: db.Pool, sent: list[tuple[str, int]]
) -> None:
    records = held_records(5)
    visible_while_handling: list[int] = []

    async def handle(ctx: HandlerContext, data: Any) -> None:
        visible_while_handling.append(await ctx.conn.fetchval("SELECT count(*) FROM seen"))
        await ctx.writes.execute(INSERT, ctx.event.id, "first")
        await ctx.writes.execute(INSERT, ctx.event.id, "second")

    outcomes = await held_meeting_pipeline(pool, handle, name="writes", max_tries=3).process_batch(records)

    assert outcomes == ["processed"] * 5
    assert visible_while_handling == [0] * 5  # the rows appear at the end of the pass, not at once
    assert [(command, rows) for command, rows in sent if command == INSERT] == [(INSERT, 10)]
    seen = await pool.fetch("SELECT event_id, note FROM seen ORDER BY n")
    assert [(r["event_id"], r["note"]) for r in seen] == [
        (event_id_of(record), note) for record in records for note in ("first", "second")
    ]


@pytest.mark.parametrize("failing", [0, 2, 4])
async def test_a_write_only_statement_that_fails_dead_letters_its_record_alone_and_the_rest_commit(
    pool: db.Pool, failing: int
) -> None:
    records = held_records(5)

    async def handle(ctx: HandlerContext, data: Any) -> None:
        refused = ctx.event.id == event_id_of(records[failing])
        await ctx.writes.execute(INSERT, ctx.event.id, None if refused else "kept")  # NOT NULL refuses it

    outcomes = await held_meeting_pipeline(pool, handle, name="writes", max_tries=3).process_batch(records)

    assert outcomes == ["dead_lettered" if n == failing else "processed" for n in range(5)]
    seen = await pool.fetch("SELECT event_id FROM seen ORDER BY n")
    assert [r["event_id"] for r in seen] == [event_id_of(r) for n, r in enumerate(records) if n != failing]
    [letter] = await pool.fetch("SELECT event_id, headers FROM outbox WHERE topic = $1", topics.DEAD_LETTER)
    assert letter["event_id"] == event_id_of(records[failing])
    assert letter["headers"][ERROR_CLASS] == "handler_error"
    assert "NotNullViolation" in letter["headers"][ERROR_MESSAGE]


async def test_a_batch_of_one_writes_its_statements_too(pool: db.Pool) -> None:
    [record] = held_records(1)

    async def handle(ctx: HandlerContext, data: Any) -> None:
        await ctx.writes.execute(INSERT, ctx.event.id, "alone")

    assert await held_meeting_pipeline(pool, handle, name="writes", max_tries=3).process(record) == "processed"
    assert await pool.fetchval("SELECT note FROM seen WHERE event_id = $1", event_id_of(record)) == "alone"
