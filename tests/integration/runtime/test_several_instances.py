"""Two instances of a service in one consumer group, one of them killed mid-stream: every effect happens once and
every region's derived events leave in the order their causes came."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from faststream import FastStream

from contracts import topics
from contracts.topics import partition_key
from runtime.clock import ManualClock
from runtime.logging import get_logger
from runtime.service import ServiceRuntime, runtime_of, stop_broker
from tests.integration.meetings.helpers import meetings_app, publish, wait_until
from tests.support.infra import Infra
from tests.support.kafka import Bus
from tests.support.services import fetch
from tests.unit.meetings.builders import AGREEMENT, held, item, new_id

REGIONS = ("vestland", "agder", "rogaland", "nordland")
MEETINGS_PER_REGION = 30


def assignment(runtime: ServiceRuntime) -> set[Any]:
    """The partitions this instance's consumer holds now."""
    assert runtime.broker is not None
    consumer = runtime.broker.subscribers[0].consumer  # type: ignore[attr-defined]
    return set(consumer.assignment()) if consumer is not None else set()


async def crash(app: FastStream) -> None:
    """As near a crash as one process allows: the instance's background work stops where it is (its relay perhaps
    between sending a batch and marking it), its database connections drop, so open transactions roll back, and
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


def a_meeting_held(region: str, meeting_id: str) -> Any:
    return held(
        meeting_id,
        region=region,
        county=None,
        organiser=f"sf-{region}",
        participants=(f"sf-{region}", f"ks-{region}"),
        items=(item(f"{meeting_id}-a1", owner=f"ks-{region}"),),
    )


def in_first_seen_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as a consumer that drops repeats by id sees them."""
    seen: set[str] = set()
    kept = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            kept.append(event)
    return kept


def meetings_in_order(events: list[dict[str, Any]], region_key: str) -> list[str]:
    """The meetings a region's derived events are about, in topic order, each run of one meeting told once."""
    order: list[str] = []
    for event in events:
        if event["partitionkey"] == region_key and (not order or order[-1] != event["data"]["meeting_id"]):
            order.append(event["data"]["meeting_id"])
    return order


async def test_two_meetings_instances_one_killed_mid_stream_lose_nothing_duplicate_nothing_and_keep_each_regions_order(
    infra: Infra, run_id: str, bus: Bus
) -> None:
    clock = ManualClock(datetime(2022, 3, 10, 12, tzinfo=UTC))
    written = {region: [new_id("m") for _ in range(MEETINGS_PER_REGION)] for region in REGIONS}
    total = len(REGIONS) * MEETINGS_PER_REGION
    doomed, survivor = meetings_app(infra, run_id, clock), meetings_app(infra, run_id, clock)
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
                    await publish(
                        bus, a_meeting_held(region, written[region][n]), source=f"/statsforvalteren/{region}/moter"
                    )

        async def processed() -> int:
            count: int = (await fetch(b, "SELECT count(*) AS n FROM inbox"))[0]["n"]
            return count

        await offer(range(MEETINGS_PER_REGION // 3))
        await wait_until(processed, lambda n: n >= total // 6)
        assert assignment(a), "the instance to kill holds partitions with work on them"
        await crash(doomed)
        await offer(range(MEETINGS_PER_REGION // 3, MEETINGS_PER_REGION))

        def all_recorded(events: list[dict[str, Any]]) -> bool:
            return len({e["id"] for e in events if e["type"].endswith(".meeting.recorded.v1")}) >= total

        published = await bus.events(topics.MEETINGS_EVENTS, all_recorded, timeout=120)
        await wait_until(processed, lambda n: n >= total)
        inbox = await fetch(b, "SELECT event_id FROM inbox")
        state = await fetch(b, "SELECT meeting_id, status FROM meetings")
        items = await fetch(b, "SELECT action_item_id FROM action_items")
        outbox = await fetch(b, "SELECT event_id, payload, published_at FROM outbox WHERE event_type IS NOT NULL")
    finally:
        await survivor.stop()

    meetings = {m for ids in written.values() for m in ids}
    assert len(inbox) == total
    assert {r["meeting_id"]: r["status"] for r in state} == dict.fromkeys(meetings, "held")
    assert sorted(r["action_item_id"] for r in items) == sorted(f"{m}-a1" for m in meetings)
    # Each effect written once: one recorded and one assigned per meeting (and one warning per level that never
    # met, from the start-up watch both instances ran), each with its own id, all published.
    written_events = [json.loads(bytes(r["payload"])) for r in outbox]
    assert Counter((e["type"], e["subject"]) for e in written_events).most_common(1)[0][1] == 1
    kinds = Counter(e["type"].split(".")[-2] for e in written_events if "meeting_id" in e["data"])
    assert kinds == {"recorded": total, "assigned": total}
    assert len({r["event_id"] for r in outbox}) == len(outbox)
    assert all(r["published_at"] is not None for r in outbox)
    # On the topic: the same events and no others (a relay killed before marking may have sent some twice).
    seen = in_first_seen_order(published)
    assert {e["id"] for e in seen} == {r["event_id"] for r in outbox}
    about_meetings = [e for e in seen if "meeting_id" in e["data"]]
    assert Counter(e["data"]["meeting_id"] for e in about_meetings) == dict.fromkeys(meetings, 2)
    # Each region's derived events in the order its meetings were offered.
    for region in REGIONS:
        assert meetings_in_order(about_meetings, partition_key(AGREEMENT, region)) == written[region], region
