"""Running the meetings service on a manual clock, and waiting for what it did without sleeping and hoping."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from faststream import FastStream

from contracts import topics
from contracts.envelope import CloudEvent
from contracts.events.base import EventData
from runtime.clock import ManualClock
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import settings_for

T = TypeVar("T")

SOURCE = "/statsforvalteren/vestland/moter"
NATIONAL_SOURCE = "/hod/saksbehandling"


def meetings_app(infra: Infra, run_id: str, clock: ManualClock) -> FastStream:
    # A long poll keeps the background timer loop out of the way: the tests fire timers themselves.
    return create_app(settings_for(MeetingsSettings, infra, run_id, timer_poll_seconds=3600), clock)


async def wait_until(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 30.0) -> T:
    """Poll until `done(value)` holds; return the last value (the caller's assert then explains a timeout)."""
    value = await probe()
    async with asyncio.timeout(timeout):
        while not done(value):
            await asyncio.sleep(0.05)
            value = await probe()
    return value


async def publish(bus: Bus, data: EventData, *, at: datetime | None = None, **options: Any) -> CloudEvent:
    region = options.pop("region", getattr(data, "region", None))
    source = options.pop("source", SOURCE if region else NATIONAL_SOURCE)
    event = cloud_event(data, source=source, region=region, time=at, **options)
    await bus.publish_event(topics.MEETINGS_INGRESS, event)
    return event


def of_type(events: list[dict[str, Any]], suffix: str, subject: str | None = None) -> list[dict[str, Any]]:
    return [
        e for e in events if e["type"].endswith(f".{suffix}.v1") and (subject is None or e.get("subject") == subject)
    ]
