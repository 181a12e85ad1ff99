"""Two instances of a service in one consumer group, one of them killed mid-stream: every effect happens once and
every region's derived events leave in the order their causes came."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from faststream import FastStream

from contracts import reference, topics
from contracts.events.base import EventData
from contracts.topics import partition_key
from runtime import db
from runtime.clock import ManualClock
from runtime.kafka_admin import stop_broker
from runtime.lifecycle import ServiceRuntime
from runtime.logging import get_logger
from runtime.wiring import runtime_of
from services.evaluations.app import create_app as evaluations_app
from services.evaluations.settings import EvaluationsSettings
from tests.integration.evaluations.simulation import noon
from tests.integration.meetings.helpers import meetings_app, wait_until
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, settings_for
from tests.unit.evaluations.builders import report
from tests.unit.meetings.builders import held, item, new_id

REGIONS = ("vestland", "agder", "rogaland", "nordland")
PER_REGION = 30


@dataclass(frozen=True)
class Scenario:
    """One service under the test: what it is offered per region, and what it derives from each offered cause."""

    app: Callable[[Infra, str, ManualClock], FastStream]
    start: datetime
    ingress: str
    output: str
    offered: Callable[[str, str], tuple[EventData, str]]
    """(region, cause id) -> the event and the source that publishes it."""
    cause: str
    """The data field of a derived event that names its cause."""
    derived: Counter[str]
    """The derived event types (the name's last word but the version) per cause."""
    state: str
    """A query of the cause ids the service keeps as state."""


def a_meeting_held(region: str, meeting_id: str) -> tuple[EventData, str]:
    event = held(
        meeting_id,
        region=region,
        county=None,
        organiser=f"sf-{region}",
        participants=(f"sf-{region}", f"ks-{region}"),
        items=(item(f"{meeting_id}-a1", owner=f"ks-{region}"),),
    )
    return event, f"/statsforvalteren/{region}/moter"


def a_status_report(region: str, report_id: str) -> tuple[EventData, str]:
    # Every report of a region is for the same date, so each one supersedes the one before: order is visible.
    return report(region).model_copy(update={"report_id": report_id}), f"/statsforvalteren/{region}/rapportering"


SCENARIOS = {
    "meetings": Scenario(
        app=meetings_app,
        start=datetime(2022, 3, 10, 12, tzinfo=UTC),
        ingress=topics.MEETINGS_INGRESS,
        output=topics.MEETINGS_EVENTS,
        offered=a_meeting_held,
        cause="meeting_id",
        derived=Counter({"recorded": 1, "assigned": 1}),
        state="SELECT meeting_id AS id FROM meetings WHERE status = 'held'",
    ),
    "evaluations": Scenario(
        app=lambda infra, run_id, clock: evaluations_app(
            settings_for(EvaluationsSettings, infra, run_id, timer_poll_seconds=3600), clock
        ),
        start=noon(date(2022, 5, 10)),
        ingress=topics.REPORTS_INGRESS,
        output=topics.EVALUATIONS_EVENTS,
        offered=a_status_report,
        cause="report_id",
        derived=Counter({"received": 1}),
        state="SELECT report_id AS id FROM reports",
    ),
}


def assignment(runtime: ServiceRuntime) -> set[Any]:
    """The partitions this instance's consumer holds now."""
    assert runtime.broker is not None
    consumer = runtime.broker.subscribers[0].consumer  # type: ignore[attr-defined]
    return set(consumer.assignment()) if consumer is not None else set()


async def crash(app: FastStream) -> None:
    """As near a crash as one process allows: the instance's background work stops where it is (its relay perhaps
    between sending a batch and deleting its rows), its database connections drop, so open transactions roll back, and
    its consumer goes without committing the offsets of what it processed since the last commit."""
    runtime = runtime_of(app)
    tasks = list(runtime._tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    runtime.pool.terminate()
    assert runtime.broker is not None
    await stop_broker(runtime.broker, get_logger(component="test"))
    if runtime._producer is not None:
        await runtime._producer.stop()


async def note_every_outbox_row(runtime: ServiceRuntime) -> None:
    """Keep a copy of every row the service will write to its outbox, from before either instance starts (each emits
    a few events at its start): the relay deletes a row once the broker has it, and an effect written twice would
    otherwise look on the topic like a batch a killed relay sent again. The service's own migrations run first, as
    its start would run them (and then finds nothing left to apply)."""
    s = runtime.settings
    pool = await db.create_pool(s.database_url, s.schema_name)
    try:
        await db.migrate(pool, runtime.migration_dirs())
        await pool.execute(
            f"""
            CREATE TABLE "{s.schema_name}".outbox_written (event_id text, event_type text, payload bytea);
            CREATE FUNCTION "{s.schema_name}".note_outbox_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO "{s.schema_name}".outbox_written VALUES (NEW.event_id, NEW.event_type, NEW.payload);
                RETURN NULL;
            END $$;
            CREATE TRIGGER outbox_written AFTER INSERT ON "{s.schema_name}".outbox
                FOR EACH ROW EXECUTE FUNCTION "{s.schema_name}".note_outbox_row();
            """
        )
    finally:
        await pool.close()


def in_first_seen_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as a consumer that drops repeats by id sees them."""
    seen: set[str] = set()
    kept = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            kept.append(event)
    return kept


def causes_in_order(events: list[dict[str, Any]], cause: str, region_key: str) -> list[str]:
    """The causes a region's derived events name, in topic order, each run of one cause told once."""
    order: list[str] = []
    for event in events:
        if event["partitionkey"] == region_key and (not order or order[-1] != event["data"][cause]):
            order.append(event["data"][cause])
    return order


@pytest.mark.parametrize("service", SCENARIOS)
async def test_two_instances_one_killed_mid_stream_lose_nothing_duplicate_nothing_and_keep_each_regions_order(
    infra: Infra, run_id: str, bus: Bus, service: str
) -> None:
    scenario = SCENARIOS[service]
    clock = ManualClock(scenario.start)
    written = {region: [new_id(service[0]) for _ in range(PER_REGION)] for region in REGIONS}
    total = len(REGIONS) * PER_REGION
    doomed, survivor = scenario.app(infra, run_id, clock), scenario.app(infra, run_id, clock)
    await note_every_outbox_row(runtime_of(doomed))
    await doomed.start()
    await survivor.start()
    try:
        a, b = runtime_of(doomed), runtime_of(survivor)

        # Both hold partitions of the ingress topic before anything is published, so the kill takes work away.
        async def holding() -> list[set[Any]]:
            return [assignment(a), assignment(b)]

        await wait_until(holding, lambda held: all(held))

        async def offer(numbers: range) -> None:
            for n in numbers:
                for region in REGIONS:
                    data, source = scenario.offered(region, written[region][n])
                    await bus.publish_event(scenario.ingress, cloud_event(data, source=source, region=region))

        async def processed() -> int:
            count: int = (await fetch(b, "SELECT count(*) AS n FROM inbox"))[0]["n"]
            return count

        def all_derived(events: list[dict[str, Any]]) -> bool:
            return len({e["id"] for e in events if scenario.cause in e["data"]}) >= total * scenario.derived.total()

        await offer(range(PER_REGION // 3))
        await wait_until(processed, lambda n: n >= total // 6)
        assert assignment(a), "the instance to kill holds partitions with work on them"
        await crash(doomed)
        await offer(range(PER_REGION // 3, PER_REGION))
        published = await bus.events(scenario.output, all_derived, timeout=120)
        await wait_until(processed, lambda n: n >= total)
        inbox = await fetch(b, "SELECT event_id FROM inbox")
        state = await fetch(b, scenario.state)
        # The relay deletes what the broker took after the acknowledgements: the last events seen on the topic may
        # still be in the outbox for a moment, so it is read until it is empty (or the wait times out and fails).
        await wait_until(lambda: fetch(b, "SELECT id FROM outbox"), lambda rows: not rows)
        outbox = await fetch(b, "SELECT event_id, payload FROM outbox_written WHERE event_type IS NOT NULL")
    finally:
        await survivor.stop()

    causes = {c for ids in written.values() for c in ids}
    assert len(inbox) == total
    assert sorted(r["id"] for r in state) == sorted(causes)
    # Each effect written once, with its own id (a derived event's id is stable for its cause, so a second effect
    # would repeat an id), and all of them published; timers both instances armed at start count too.
    derived = [e for e in (json.loads(bytes(r["payload"])) for r in outbox) if scenario.cause in e["data"]]
    kinds = Counter(e["type"].split(".")[-2] for e in derived)
    assert kinds == {kind: n * total for kind, n in scenario.derived.items()}
    assert Counter(e["data"][scenario.cause] for e in derived) == dict.fromkeys(causes, scenario.derived.total())
    assert len({r["event_id"] for r in outbox}) == len(outbox)
    # On the topic: the same events and no others (a relay killed before deleting may have sent some twice).
    seen = in_first_seen_order(published)
    assert {e["id"] for e in seen} == {r["event_id"] for r in outbox}
    about_causes = [e for e in seen if scenario.cause in e["data"]]
    assert Counter(e["data"][scenario.cause] for e in about_causes) == dict.fromkeys(causes, scenario.derived.total())
    # Each region's derived events in the order its causes were offered.
    for region in REGIONS:
        key = partition_key(reference.DEFAULT_AGREEMENT_ID, region)
        assert causes_in_order(about_causes, scenario.cause, key) == written[region], region
