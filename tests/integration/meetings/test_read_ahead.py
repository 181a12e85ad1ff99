"""A batch of held minutes is read ahead in one round trip and its meetings written together at its end; whatever
the batch holds, it leaves the same rows, timers and derived events as its records handled one at a time (a batch
of one is never read ahead)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import asyncpg
import pytest

from contracts import reference, topics
from contracts.envelope import CloudEvent
from contracts.events.base import EventData
from runtime import db
from runtime.clock import ManualClock
from runtime.pipeline import Pipeline
from runtime.records import Incoming
from runtime.verification import EventVerifier, TrustedKeys
from services.meetings import checks, handlers, repository, timing
from services.meetings.app import MIGRATIONS
from tests.integration.meetings.helpers import SOURCE
from tests.support.infra import Infra
from tests.support.kafka import cloud_event
from tests.support.signing import keys_for_tests
from tests.unit.meetings import builders
from tests.unit.meetings.builders import cancelled, completed, item, scheduled

NOW = datetime(2022, 5, 2, 8, tzinfo=UTC)
LOAD = "load_before_minutes"


def held(meeting_id: str, held_on: date, *item_ids: str) -> EventData:
    items = tuple(item(i, due_on=date(2022, 9, 1)) for i in item_ids or (f"{meeting_id}-a1",))
    return builders.held(meeting_id, held_on=held_on, items=items)


class Shape(NamedTuple):
    read_ahead: bool
    batch: Callable[[], list[EventData]]
    earlier: Callable[[], list[EventData]] = list
    """Handled one at a time before the batch, in either case."""


BATCHES: dict[str, Shape] = {
    "held minutes of one level, out of date order": Shape(
        True,
        lambda: [
            held("m1", date(2022, 3, 10)),
            held("m2", date(2022, 2, 1)),
            held("m3", date(2022, 4, 5)),
            held("m4", date(2022, 3, 20)),
        ],
    ),
    "held minutes whose items were reported done before": Shape(
        True,
        lambda: [held("m1", date(2022, 3, 10), "a1", "a2"), held("m2", date(2022, 3, 11), "a3")],
        # One names the meeting the item is agreed at, and closes it; the other names another meeting.
        lambda: [completed("a1", "m1"), completed("a3", "m1")],
    ),
    "a meeting held twice": Shape(False, lambda: [held("m1", date(2022, 3, 10)), held("m1", date(2022, 3, 11))]),
    "an item agreed at two meetings": Shape(
        False, lambda: [held("m1", date(2022, 3, 10), "a1"), held("m2", date(2022, 3, 11), "a1", "a2")]
    ),
    "a plan, its minutes and another's cancellation": Shape(
        False, lambda: [scheduled("m1"), held("m1", date(2022, 3, 10)), scheduled("m2"), cancelled("m2")]
    ),
}


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many minutes each load before minutes read."""
    counted: list[int] = []
    original = repository.load_before_minutes

    async def counting(conn: db.Connection, wanted: Any) -> list[repository.BeforeMinutes]:
        counted.append(len(wanted))
        return await original(conn, wanted)

    monkeypatch.setattr(repository, LOAD, counting)
    return counted


@pytest.mark.parametrize("name", list(BATCHES))
async def test_a_batch_leaves_what_its_records_handled_one_at_a_time_leave(
    infra: Infra, run_id: str, name: str, loads: list[int]
) -> None:
    shape = BATCHES[name]
    earlier, records = signed_records(shape.earlier()), signed_records(shape.batch(), first_offset=100)

    async with meetings_pool(infra, f"t{run_id}_one_by_one") as pool:
        pipeline = meetings_pipeline(pool)
        for record in earlier:
            await pipeline.process_batch([record])
        one_by_one = [outcome for record in records for outcome in await pipeline.process_batch([record])]
        expected = await state_of(pool)
    async with meetings_pool(infra, f"t{run_id}_batch") as pool:
        pipeline = meetings_pipeline(pool)
        for record in earlier:
            await pipeline.process_batch([record])
        loads.clear()
        together = await pipeline.process_batch(records)
        found = await state_of(pool)

    assert together == one_by_one
    assert found == expected
    held_minutes = sum(1 for record in records if b"meeting.held" in (record.value or b""))
    assert loads == ([held_minutes] if shape.read_ahead else [1] * len(loads)), loads


async def test_each_minutes_of_a_batch_decides_from_the_level_the_earlier_ones_left(infra: Infra, run_id: str) -> None:
    records = signed_records(BATCHES["held minutes of one level, out of date order"].batch())

    async with meetings_pool(infra, f"t{run_id}_level") as pool:
        await meetings_pipeline(pool).process_batch(records)
        level = await pool.fetchval("SELECT last_held_on FROM meeting_levels WHERE level_key = 'vestland'")
        watches = await pool.fetch(
            "SELECT timer_key FROM timers WHERE kind = $1 AND cancelled_at IS NULL", timing.CONTACT_MEETINGS_OVERDUE
        )

    assert level == date(2022, 4, 5)
    assert [w["timer_key"] for w in watches] == [
        timing.contact_meetings_key("leve-hele-livet-2019-2023", "vestland", date(2022, 4, 5))
    ]


def signed_records(events: list[EventData], first_offset: int = 0) -> list[Incoming]:
    records = []
    for offset, data in enumerate(events, first_offset):
        event: CloudEvent = keys_for_tests().sign(cloud_event(data, source=SOURCE, region="vestland"))
        records.append(Incoming(topics.MEETINGS_INGRESS, 0, offset, event.partitionkey.encode(), event.to_bytes()))
    return records


def meetings_pipeline(pool: db.Pool) -> Pipeline:
    deps = reference.ReferenceData.load(None)
    clock = ManualClock(NOW)
    keys = keys_for_tests()
    return Pipeline(
        pool=pool,
        clock=clock,
        group_id="lhl-meetings",
        source="/lhl/meetings",
        topic_of=lambda topic: topic,
        handlers=handlers.routes(deps)[topics.MEETINGS_INGRESS],
        checks=checks.admission(deps),
        verifier=EventVerifier(TrustedKeys.installed(keys.registry), clock),
        signer=keys.ensure_service("meetings"),
    )


@contextlib.asynccontextmanager
async def meetings_pool(infra: Infra, schema: str) -> AsyncIterator[db.Pool]:
    pool = await db.create_pool(infra.database_url, schema, min_size=1, max_size=2)
    try:
        await db.migrate(pool, [db.RUNTIME_MIGRATIONS, MIGRATIONS])
        yield pool
    finally:
        await pool.close()


async def state_of(pool: db.Pool) -> dict[str, list[tuple[Any, ...]]]:
    """The rows a batch leaves, in a stable order."""
    queries = {
        "meetings": "SELECT meeting_id, status, held_on, scheduled_for, minutes, cancel_reason FROM meetings",
        "items": "SELECT action_item_id, meeting_id, owner, due_on, assigned_at, overdue_at, completed_on, closed_late"
        " FROM action_items",
        "early completions": "SELECT action_item_id, completion FROM early_completions",
        "levels": "SELECT level_key, last_held_on FROM meeting_levels",
        "timers": "SELECT timer_key, kind, due_at, cancelled_at IS NOT NULL FROM timers",
        # In their order on each topic: a pass with savepoints writes a dead letter before the events emitted.
        "outbox (and dead letters)": "SELECT topic, event_type, event_id FROM outbox ORDER BY topic, id",
    }
    state: dict[str, list[tuple[Any, ...]]] = {}
    for name, query in queries.items():
        rows: list[asyncpg.Record] = await pool.fetch(query)
        state[name] = [tuple(row.values()) for row in rows]
        if "ORDER BY" not in query:
            state[name].sort(key=repr)
    return state
