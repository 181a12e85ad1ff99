"""A poll's records reach the pipeline, and the audit's recorder, on the event loop's thread: FastStream injected the
handlers' `KafkaMessage` in a worker thread, a thread hop and a wake-up per poll (at a steady 100 events/s, one per
event)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest

from contracts import topics
from runtime.clock import ManualClock
from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from tests.integration.audit.helpers import audit_settings, running_audit, wait_for_count
from tests.support.events import NATIONAL_SECRETARIAT, national_meeting_held
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import running, settings_for


class Hops:
    """Counts what is sent to anyio's worker threads, and sends it on."""

    def __init__(self, run_sync: Callable[..., Any]) -> None:
        self._run_sync = run_sync
        self.sent: list[str] = []

    async def __call__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.sent.append(getattr(func, "__qualname__", repr(func)))
        return await self._run_sync(func, *args, **kwargs)


async def test_records_are_handled_without_a_worker_thread_per_poll(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = Hops(anyio.to_thread.run_sync)
    settings = settings_for(MeetingsSettings, infra, run_id)
    event = cloud_event(national_meeting_held(), source=NATIONAL_SECRETARIAT)
    async with (
        running(create_app(settings, ManualClock(datetime(2021, 9, 2, tzinfo=UTC)))),
        running_audit(audit_settings(infra, run_id, tmp_path)) as audit,
    ):
        monkeypatch.setattr(anyio.to_thread, "run_sync", hops)  # after the starts, whose sync hooks may use them
        await bus.publish_event(topics.MEETINGS_INGRESS, event)
        derived = await bus.events(topics.MEETINGS_EVENTS, lambda es: any(e["causationid"] == event.id for e in es))
        await wait_for_count(audit, 1 + len([e for e in derived if e["causationid"] == event.id]))
        while_consuming = list(hops.sent)  # the stops that follow may run their sync hooks in the threads

    assert while_consuming == []
