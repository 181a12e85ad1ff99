"""The pipeline reads a batch with its signature checks made elsewhere, in the check processes or together in the
threads: a record whose signature does not verify is dead-lettered as unauthenticated with its exact reason, alone,
and the rest are handled. The events a large batch derives are signed elsewhere too, with the same bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from contracts import dsse, topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE
from contracts.envelope import CloudEvent
from contracts.events.evaluations import AgreementExpired
from contracts.keys import raw_public
from contracts.signing import signed_with_bytes
from contracts.wire import structured_view
from runtime import db, parallel
from runtime.check_processes import CheckProcesses
from runtime.handling import HandlerContext
from runtime.records import Incoming
from tests.integration.runtime.test_batches import event_id_of, held_records
from tests.support.infra import Infra
from tests.support.pipelines import held_meeting_pipeline, runtime_pool
from tests.support.signing import keys_for_tests, with_signature_of

AGREEMENT = "leve-hele-livet-2019-2023"


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


async def test_a_large_batchs_derived_events_are_signed_elsewhere_with_the_bytes_signed_in_place(
    pool: db.Pool, checks_elsewhere: CheckProcesses | None
) -> None:
    records = held_records(parallel.SMALL_BATCH + 8)

    async def handle(ctx: HandlerContext, data: Any) -> None:
        for n in range(2):
            await ctx.emitter.emit(
                AgreementExpired(agreement_id=AGREEMENT, expired_on=date(2023, 12, 31)),
                agreement_id=AGREEMENT,
                region=None,
                subject=f"{ctx.event.id}/{n}",
                business_key=str(n),
            )

    outcomes = await held_meeting_pipeline(
        pool, handle, name="signs", max_tries=3, checks_elsewhere=checks_elsewhere
    ).process_batch(records)

    assert outcomes == ["processed"] * len(records)
    derived = 2 * len(records)
    if checks_elsewhere is not None:  # every chunk of 64 events sent as it was emitted; the last, smaller one in place
        assert checks_elsewhere.sent == len(records) + derived - derived % parallel.CHUNK
    rows = await pool.fetch("SELECT payload FROM outbox WHERE topic = $1 ORDER BY id", topics.EVALUATIONS_EVENTS)
    events = [CloudEvent.model_validate_json(r["payload"]) for r in rows]
    assert [e.subject for e in events] == [f"{event_id_of(r)}/{n}" for r in records for n in range(2)]
    signer = keys_for_tests().ensure_service("meetings")  # the pipeline's signer
    for row, event in zip(rows, events, strict=True):
        assert signed_with_bytes(event, signer)[1] == row["payload"]  # as signed in place: Ed25519 is deterministic
        view = structured_view(row["payload"])
        material = dsse.open_material(view.attributes[dsse.ATTRIBUTE])
        assert dsse.core_digest(view.attributes, view.data) == material.core
        assert dsse.verifies(material, raw_public(signer.key.public_key()), material.signatures[0][1])


def event_of(record: Incoming) -> CloudEvent:
    return CloudEvent.model_validate_json(record.value or b"")
