"""A partition's batch is one transaction with a savepoint per record: a rejected record is dead-lettered alone and the
rest commit in order; a failure of the infrastructure commits nothing of the batch, which comes again; and the
consumer group's offsets move only once the transaction committed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest

from contracts import dsse, topics
from contracts.dead_letter_headers import ERROR_CLASS
from contracts.envelope import CloudEvent
from contracts.events.evaluations import AgreementExpired
from contracts.keys import raw_public
from contracts.rejections import Reason, Rejected
from contracts.signed_bytes import ValueSigning, value_signing
from contracts.signing import Signer
from contracts.wire import structured_view
from runtime import db, outbox, parallel
from runtime.clock import ManualClock
from runtime.handling import Handler, HandlerContext
from runtime.identity import identity_of
from runtime.pipeline import Pipeline
from runtime.polling import INFRASTRUCTURE_ERRORS
from runtime.records import Incoming
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.integration.runtime.test_offsets import committed_and_end
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.pipelines import held_meeting_pipeline, runtime_pool
from tests.support.services import fetch, running, settings_for
from tests.support.signing import keys_for_tests

AGREEMENT = "leve-hele-livet-2019-2023"


@pytest.fixture
async def pool(infra: Infra, run_id: str) -> AsyncIterator[db.Pool]:
    seen = "CREATE TABLE seen (n bigserial PRIMARY KEY, event_id text NOT NULL)"
    async with runtime_pool(infra, f"t{run_id}_batches", seen) as created:
        yield created


def pipeline_with(pool: asyncpg.Pool, handler: Handler, max_tries: int = 3) -> Pipeline:
    return held_meeting_pipeline(pool, handler, name="batches", max_tries=max_tries)


def held_records(count: int, first_offset: int = 20) -> list[Incoming]:
    records = []
    for n in range(count):
        event = keys_for_tests().sign(cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT))
        records.append(
            Incoming(topics.MEETINGS_INGRESS, 0, first_offset + n, event.partitionkey.encode(), event.to_bytes())
        )
    return records


async def test_a_rejected_record_in_the_middle_of_a_batch_is_dead_lettered_and_the_rest_commit_in_order(
    pool: db.Pool,
) -> None:
    records = held_records(5)
    refused_offset = records[2].offset

    async def handle(ctx: HandlerContext, data: Any) -> None:
        await ctx.conn.execute("INSERT INTO seen (event_id) VALUES ($1)", ctx.event.id)
        if ctx.event.id == event_id_of(records[2]):
            raise Rejected(Reason.INVALID_REFERENCE, "organiser: not one the agreement names")

    outcomes = await pipeline_with(pool, handle).process_batch(records)

    assert outcomes == ["processed", "processed", "dead_lettered", "processed", "processed"]
    seen = await pool.fetch("SELECT event_id FROM seen ORDER BY n")
    assert [r["event_id"] for r in seen] == [event_id_of(r) for r in records if r.offset != refused_offset]
    inbox = await pool.fetch("SELECT kafka_offset, outcome FROM inbox ORDER BY kafka_offset")
    assert [(r["kafka_offset"], r["outcome"]) for r in inbox] == [
        (r.offset, "dead_lettered" if r.offset == refused_offset else "processed") for r in records
    ]
    [letter] = await pool.fetch("SELECT event_id, headers FROM outbox WHERE topic = $1", topics.DEAD_LETTER)
    assert letter["event_id"] == event_id_of(records[2])
    assert letter["headers"][ERROR_CLASS] == "invalid_reference"


@pytest.mark.parametrize("failing", [0, 4])
async def test_a_handler_that_swallows_a_database_error_is_dead_lettered_alone_wherever_it_is_in_the_batch(
    pool: db.Pool, failing: int
) -> None:
    """The batch is taken without savepoints first; a statement that failed leaves that transaction unusable even
    when the handler goes on as if nothing happened, and the batch is taken again with a savepoint per record."""
    records = held_records(5)

    async def handle(ctx: HandlerContext, data: Any) -> None:
        await ctx.conn.execute("INSERT INTO seen (event_id) VALUES ($1)", ctx.event.id)
        if ctx.event.id == event_id_of(records[failing]):
            with contextlib.suppress(asyncpg.DataError):
                await ctx.conn.execute("SELECT 1 / 0")

    outcomes = await pipeline_with(pool, handle).process_batch(records)

    assert outcomes == ["dead_lettered" if n == failing else "processed" for n in range(5)]
    seen = await pool.fetch("SELECT event_id FROM seen ORDER BY n")
    assert [r["event_id"] for r in seen] == [event_id_of(r) for n, r in enumerate(records) if n != failing]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topics.DEAD_LETTER) == 1


async def test_an_infrastructure_failure_mid_batch_commits_nothing_and_the_batch_comes_again(pool: db.Pool) -> None:
    records = held_records(4)
    killed: list[str] = []

    async def handle(ctx: HandlerContext, data: Any) -> None:
        await ctx.conn.execute("INSERT INTO seen (event_id) VALUES ($1)", ctx.event.id)
        if ctx.event.id == event_id_of(records[2]) and not killed:
            # The database ends this batch's session, as a restart or failover of PostgreSQL would.
            killed.append(ctx.event.id)
            await pool.fetchval("SELECT pg_terminate_backend($1)", await ctx.conn.fetchval("SELECT pg_backend_pid()"))
            await ctx.conn.execute("SELECT 1")

    pipeline = pipeline_with(pool, handle)
    with pytest.raises(INFRASTRUCTURE_ERRORS):
        await pipeline.process_batch(records)
    assert await pool.fetchval("SELECT count(*) FROM seen") == 0
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 0

    assert await pipeline.process_batch(records) == ["processed"] * 4
    seen = await pool.fetch("SELECT event_id FROM seen ORDER BY n")
    assert [r["event_id"] for r in seen] == [event_id_of(r) for r in records]


async def test_an_event_that_comes_again_in_its_batch_or_a_later_one_is_handled_once(pool: db.Pool) -> None:
    """The batch's inbox claims are one statement; an event is still handled once, by the first record that
    brought it, whether its copy is later in the same batch or in another batch."""
    first = held_records(3)
    again = Incoming(topics.MEETINGS_INGRESS, 0, 23, first[0].key, first[0].value)
    handled: list[str] = []

    async def handle(ctx: HandlerContext, data: Any) -> None:
        handled.append(ctx.event.id)

    pipeline = pipeline_with(pool, handle)
    assert await pipeline.process_batch([*first, again]) == ["processed"] * 3 + ["duplicate"]
    later = held_records(1, first_offset=24)
    replayed = Incoming(topics.MEETINGS_INGRESS, 0, 25, first[1].key, first[1].value)
    assert await pipeline.process_batch([*later, replayed]) == ["processed", "duplicate"]

    assert handled == [event_id_of(r) for r in (*first, *later)]
    inbox = await pool.fetch("SELECT event_id, kafka_offset FROM inbox ORDER BY kafka_offset")
    assert [(r["event_id"], r["kafka_offset"]) for r in inbox] == [(event_id_of(r), r.offset) for r in (*first, *later)]


async def test_a_copy_refused_after_it_verified_claims_the_event_before_a_later_good_copy(pool: db.Pool) -> None:
    """A record whose event verified but whose key is wrong is dead-lettered under the event's identity; in a batch
    it still claims that identity before a later copy with the right key, as it would one record at a time."""
    [good] = held_records(1)
    wrong_key = Incoming(topics.MEETINGS_INGRESS, 0, 19, b"another-agreement", good.value)
    handled: list[str] = []

    async def handle(ctx: HandlerContext, data: Any) -> None:
        handled.append(ctx.event.id)

    outcomes = await pipeline_with(pool, handle).process_batch([wrong_key, good])

    assert outcomes == ["dead_lettered", "duplicate"]
    assert handled == []
    [claim] = await pool.fetch("SELECT event_id, kafka_offset, outcome FROM inbox")
    assert (claim["event_id"], claim["kafka_offset"], claim["outcome"]) == (event_id_of(good), 19, "dead_lettered")


async def test_two_partitions_that_deadlock_are_both_processed_and_neither_is_parked(infra: Infra, run_id: str) -> None:
    """A poll's partitions run at once, so their transactions can meet: here each locks its row, then the other's.
    PostgreSQL undoes one; that batch comes again, and a deadlock never counts as one of the record's tries, so even
    with a single try allowed nothing is dead-lettered."""
    rows = "CREATE TABLE rows (name text PRIMARY KEY, n integer NOT NULL); INSERT INTO rows VALUES ('a', 0), ('b', 0)"
    async with runtime_pool(infra, f"t{run_id}_deadlock", rows) as pool:
        first, second = held_records(1, first_offset=5), held_records(1, first_offset=7)
        second = [Incoming(topics.MEETINGS_INGRESS, 1, r.offset, r.key, r.value) for r in second]
        order = {event_id_of(first[0]): ("a", "b"), event_id_of(second[0]): ("b", "a")}
        locked = {"a": asyncio.Event(), "b": asyncio.Event()}

        async def handle(ctx: HandlerContext, data: Any) -> None:
            mine, theirs = order[ctx.event.id]
            await ctx.conn.execute("UPDATE rows SET n = n + 1 WHERE name = $1", mine)
            if not locked[mine].is_set():  # the first time only: wait until the other holds its row
                locked[mine].set()
                await asyncio.wait_for(locked[theirs].wait(), 10)
            await ctx.conn.execute("UPDATE rows SET n = n + 1 WHERE name = $1", theirs)

        pipeline = pipeline_with(pool, handle, max_tries=1)
        results = await asyncio.gather(
            pipeline.process_batch(first), pipeline.process_batch(second), return_exceptions=True
        )

        outcomes = dict(zip(("first", "second"), results, strict=True))
        [(undone, error)] = [(name, r) for name, r in outcomes.items() if isinstance(r, BaseException)]
        assert isinstance(error, asyncpg.DeadlockDetectedError)
        assert [r for r in outcomes.values() if not isinstance(r, BaseException)] == [["processed"]]
        assert await pipeline.process_batch(first if undone == "first" else second) == ["processed"]
        assert {r["name"]: r["n"] for r in await pool.fetch("SELECT name, n FROM rows")} == {"a": 2, "b": 2}
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topics.DEAD_LETTER) == 0


async def test_the_group_offsets_move_only_after_the_batch_transaction_committed(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    settings = settings_for(MeetingsSettings, infra, run_id, topic_partitions=1)
    clock = ManualClock(datetime(2021, 9, 2, tzinfo=UTC))
    first, *later = [cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT) for _ in range(6)]
    async with running(create_app(settings, clock)) as runtime:
        await bus.publish_event(topics.MEETINGS_INGRESS, first)
        async with asyncio.timeout(30):
            while (await committed_and_end(infra, settings))[0] != {0: 1}:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        async with runtime.pool.acquire() as blocker, blocker.transaction():
            # Reads go on, but no batch can write its inbox rows (and so commit) until this transaction ends.
            await blocker.execute("LOCK TABLE inbox IN EXCLUSIVE MODE")
            for event in later:
                await bus.publish_event(topics.MEETINGS_INGRESS, event)
            await asyncio.sleep(3 * settings.offset_commit_seconds + 1)
            assert (await committed_and_end(infra, settings))[0] == {0: 1}
            assert len(await fetch(runtime, "SELECT 1 FROM inbox")) == 1
        async with asyncio.timeout(30):
            while (await committed_and_end(infra, settings))[0] != {0: 1 + len(later)}:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert len(await fetch(runtime, "SELECT 1 FROM inbox")) == 1 + len(later)


def event_id_of(record: Incoming) -> str:
    return identity_of(record)[1]


async def test_a_batchs_derived_events_are_signed_together_and_one_that_cannot_be_signed_is_its_record_alone(
    pool: db.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without savepoints the emitted events are signed when the batch is written; one that cannot be signed then
    sends the batch round again with a savepoint per record, where it is signed as it is emitted, so only its
    record is dead-lettered, and the others' events are written, signed, in their order."""
    records = held_records(parallel.SMALL_BATCH + 12)  # enough for the batch to be signed in the threads
    bad = event_id_of(records[7])

    async def handle(ctx: HandlerContext, data: Any) -> None:
        await ctx.emitter.emit(
            AgreementExpired(agreement_id=AGREEMENT, expired_on=date(2023, 12, 31)),
            agreement_id=AGREEMENT,
            region=None,
            subject=ctx.event.id,
        )

    signed_in: set[str] = set()
    messages_of_bad: set[bytes] = set()

    def noting(value: bytes, key_id: str) -> ValueSigning:
        pending = value_signing(value, key_id)
        if json.loads(value)["subject"] == bad:
            messages_of_bad.add(pending.to_sign.message)
        return pending

    def signature(job: tuple[Signer, bytes]) -> bytes:
        signed_in.add(threading.current_thread().name)
        if job[1] in messages_of_bad:
            raise ValueError("the signing key's module failed")
        return job[0].sign(job[1])

    monkeypatch.setattr(outbox, "value_signing", noting)
    monkeypatch.setattr(outbox, "_signature", signature)
    outcomes = await pipeline_with(pool, handle).process_batch(records)

    assert outcomes == ["dead_lettered" if event_id_of(r) == bad else "processed" for r in records]
    # The first pass made its signatures in the worker threads (on a machine with more than one core).
    assert any(name.startswith("lhl-cpu") for name in signed_in) or parallel.WORKERS == 1
    rows = await pool.fetch("SELECT payload FROM outbox WHERE topic = $1 ORDER BY id", topics.EVALUATIONS_EVENTS)
    derived = [CloudEvent.model_validate_json(r["payload"]) for r in rows]
    assert [e.subject for e in derived] == [event_id_of(r) for r in records if event_id_of(r) != bad]
    key = raw_public(keys_for_tests().ensure_service("meetings").key.public_key())  # the pipeline's signer
    for row in rows:
        view = structured_view(row["payload"])
        material = dsse.open_material(view.attributes[dsse.ATTRIBUTE])
        assert dsse.core_digest(view.attributes, view.data) == material.core
        assert dsse.verifies(material, key, material.signatures[0][1])
