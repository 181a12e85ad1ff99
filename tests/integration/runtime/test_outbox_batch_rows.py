"""A batch's outbox rows are written several to a statement, and come out of the outbox as they went in: every row,
each once, in the batch's order, whatever the batch's size."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from runtime import db
from runtime.outbox import ROWS_PER_STATEMENT, OutboxRow, add_batch_rows
from tests.support.infra import Infra


@pytest.fixture
async def pool(infra: Infra, run_id: str) -> AsyncIterator[db.Pool]:
    schema = f"t{run_id}_outbox_rows"
    created = await db.create_pool(infra.database_url, schema)
    await db.migrate(created, [db.RUNTIME_MIGRATIONS])
    yield created
    await created.close()


def rows(count: int) -> list[OutboxRow]:
    return [
        (
            f"topic-{n % 3}",
            f"key-{n % 7}".encode() if n % 5 else None,
            {"content-type": "application/cloudevents+json", "n": str(n)},
            f'{{"n":{n}}}'.encode(),
            f"e-{n}",
            "no.levehelelivet.meeting.recorded.v1" if n % 2 else None,
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [1, 9, 10, 11, 49, 50, 51, 123, 2 * ROWS_PER_STATEMENT[0] + 17])
async def test_a_batchs_rows_are_written_in_their_order_whatever_its_size(pool: db.Pool, count: int) -> None:
    written = rows(count)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM outbox")
        await add_batch_rows(conn, written)

    found = await pool.fetch(
        "SELECT topic, message_key, headers, payload, event_id, event_type FROM outbox ORDER BY id"
    )

    assert [(r[0], r[1], r[2], bytes(r[3]), r[4], r[5]) for r in found] == written


async def test_a_batch_without_rows_writes_none(pool: db.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM outbox")
        await add_batch_rows(conn, [])

    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
