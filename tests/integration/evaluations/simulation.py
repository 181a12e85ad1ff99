"""Driving the evaluations service through simulated days: the manual clock, timers and processed events."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import reference
from contracts.envelope import CloudEvent
from contracts.events.evaluations import FocusAreaStatus, RegionalStatusReportSubmitted
from contracts.oslo_calendar import OSLO
from runtime.clock import ManualClock
from runtime.lifecycle import ServiceRuntime
from tests.support.kafka import Bus
from tests.support.services import fetch

AGREEMENT = reference.DEFAULT_AGREEMENT_ID
EVALUATIONS = "no.levehelelivet."


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=OSLO)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def live_through(runtime: ServiceRuntime, clock: ManualClock, day: date) -> int:
    """Move the clock to noon of the day and fire whatever fell due; returns how many timers fired."""
    clock.set(noon(day))
    assert runtime.timers is not None
    return await runtime.timers.fire_due()


async def processed(runtime: ServiceRuntime, event: CloudEvent, timeout: float = 30.0) -> str:
    """Wait until the service has handled the event; returns its inbox outcome."""
    async with asyncio.timeout(timeout):
        while True:
            rows = await fetch(
                runtime, "SELECT outcome FROM inbox WHERE event_source = $1 AND event_id = $2", event.source, event.id
            )
            if rows:
                outcome: str = rows[0]["outcome"]
                return outcome
            await asyncio.sleep(0.05)


async def drained(runtime: ServiceRuntime, timeout: float = 30.0) -> None:
    """Wait until the outbox relay has published every event the service wrote."""
    async with asyncio.timeout(timeout):
        while True:
            rows = await fetch(runtime, "SELECT count(*) AS n FROM outbox WHERE failed_at IS NULL")
            if rows[0]["n"] == 0:
                return
            await asyncio.sleep(0.05)


async def everything_on(bus: Bus, topic: str, partitions: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every CloudEvent on the topic up to its current end, so an unexpected extra event cannot hide."""
    consumer = AIOKafkaConsumer(**bus.kafka.options(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [TopicPartition(bus.topic(topic), p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                batch = await consumer.getmany(timeout_ms=200)
                events.extend(json.loads(r.value) for records in batch.values() for r in records if r.value)
        return events
    finally:
        await consumer.stop()


def status_report(region: str, reporting_date: date, reached: int = 20) -> RegionalStatusReportSubmitted:
    return RegionalStatusReportSubmitted(
        report_id=f"r-{region}-{uuid.uuid4().hex[:8]}",
        agreement_id=AGREEMENT,
        region=region,
        reporting_date=reporting_date,
        submitted_by=f"sf-{region}",
        focus_areas=(
            FocusAreaStatus(
                focus_area="aktivitet-og-fellesskap",
                municipalities_reached=reached,
                planning=reached // 2,
                decided=reached // 4,
                implementing=reached // 5,
            ),
        ),
        summary="Alle kommuner har deltatt på dialogmøter.",
    )


def short(event_type: str) -> str:
    """no.levehelelivet.report.due.v1 -> report.due"""
    return event_type.removeprefix(EVALUATIONS).rsplit(".", 1)[0]


def tally(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(short(e["type"]) for e in events)


def occurrences(events: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """How often each (type, subject) was published: each must be exactly once."""
    return Counter((short(e["type"]), e.get("subject") or "") for e in events)
