"""A service reading a topic another service owns passes invalid events by instead of dead-lettering them twice."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from contracts import topics
from contracts.events.evaluations import TerminationNoticeGiven
from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running, settings_for


async def test_invalid_events_on_a_secondary_topic_are_skipped_not_dead_lettered(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    seed = tmp_path / "subscriptions.json"
    seed.write_text('{"recipients": []}', encoding="utf-8")
    app = create_app(settings_for(NotificationsSettings, infra, run_id, subscriptions_seed=str(seed)))
    valid = cloud_event(
        TerminationNoticeGiven(
            agreement_id="leve-hele-livet-2019-2023",
            given_by="hod",
            notice_date=date(2022, 6, 1),
            effective_date=date(2022, 10, 1),
        ),
        source="/hod/saksbehandling",
    )
    async with running(app) as runtime:
        await bus.publish_raw(topics.AGREEMENT_INGRESS, b"not json at all")
        await bus.publish_event(topics.AGREEMENT_INGRESS, valid)
        async with asyncio.timeout(30):
            while not await fetch(runtime, "SELECT 1 FROM inbox WHERE event_id = $1", valid.id):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 1, timeout=2)
        inbox = await fetch(runtime, "SELECT event_id, outcome FROM inbox")
    assert letters == []
    assert [(r["event_id"], r["outcome"]) for r in inbox] == [(valid.id, "processed")]
