"""The pipeline reads a batch with its signature checks made elsewhere, in the check processes or together in the
threads: a record whose signature does not verify is dead-lettered as unauthenticated with its exact reason, alone,
and the rest are handled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE
from contracts.envelope import CloudEvent
from runtime import db, parallel
from runtime.check_processes import CheckProcesses
from runtime.handling import HandlerContext
from runtime.records import Incoming
from tests.integration.runtime.test_batches import event_id_of, held_records
from tests.support.infra import Infra
from tests.support.pipelines import held_meeting_pipeline, runtime_pool
from tests.support.signing import with_signature_of


@pytest.fixture
async def pool(infra: Infra, run_id: str) -> AsyncIterator[db.Pool]:
    seen = "CREATE TABLE seen (n bigserial PRIMARY KEY, event_id text NOT NULL)"
    async with runtime_pool(infra, f"t{run_id}_checks", seen) as created:
        yield created


async def test_a_signature_that_does_not_verify_in_a_large_batch_is_refused_alone_with_its_reason(
    pool: db.Pool, checks_elsewhere: CheckProcesses | None
) -> None:
    records = held_records(parallel.SMALL_BATCH + 8)  # enough for the checks to go elsewhere
    forged = with_signature_of(event_of(records[5]), event_of(records[6]))
    records[5] = Incoming(topics.MEETINGS_INGRESS, 0, records[5].offset, records[5].key, forged.to_bytes())

    async def handle(ctx: HandlerContext, data: Any) -> None:
        await ctx.conn.execute("INSERT INTO seen (event_id) VALUES ($1)", ctx.event.id)

    outcomes = await held_meeting_pipeline(
        pool, handle, name="checks", max_tries=3, checks_elsewhere=checks_elsewhere
    ).process_batch(records)

    if checks_elsewhere is not None:
        assert checks_elsewhere.sent == len(records)

    assert outcomes == ["dead_lettered" if n == 5 else "processed" for n in range(len(records))]
    seen = await pool.fetch("SELECT event_id FROM seen ORDER BY n")
    assert [r["event_id"] for r in seen] == [event_id_of(r) for n, r in enumerate(records) if n != 5]
    [letter] = await pool.fetch("SELECT headers FROM outbox WHERE topic = $1", topics.DEAD_LETTER)
    assert letter["headers"][ERROR_CLASS] == "unauthenticated"
    assert "does not verify" in letter["headers"][ERROR_MESSAGE]


def event_of(record: Incoming) -> CloudEvent:
    return CloudEvent.model_validate_json(record.value or b"")
