"""The evaluations service (owner of the agreement ingress) and the notifications service (which reads it too) get
past hostile records the same way meetings does: each is dead-lettered once, by the owner, with its reason, and a
valid event sent behind them on the same partition is processed by both."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

from contracts import limits, topics
from contracts.envelope import CONTENT_TYPE
from contracts.events.evaluations import TerminationNoticeGiven
from runtime.clock import ManualClock
from runtime.lifecycle import ServiceRuntime
from services.evaluations.app import create_app as create_evaluations
from services.evaluations.settings import EvaluationsSettings
from services.notifications.app import create_app as create_notifications
from services.notifications.settings import NotificationsSettings
from tests.integration.hostile.harness import CANARY_SECONDS, letters_of, read_to_end
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.raw_records import RawName, RawProducer
from tests.support.services import fetch, running, settings_for
from tests.support.signing import keys_for_tests

CE: tuple[str, bytes | None] = ("content-type", CONTENT_TYPE.encode())


async def processed(runtime: ServiceRuntime, event_id: str) -> bool:
    rows = await fetch(runtime, "SELECT outcome FROM inbox WHERE event_id = $1", event_id)
    return [r["outcome"] for r in rows] == ["processed"]


async def test_evaluations_and_notifications_get_past_hostile_records_on_the_agreement_ingress(
    infra: Infra, run_id: str, bus: Bus, tmp_path: Path
) -> None:
    clock = ManualClock(datetime(2022, 6, 2, tzinfo=UTC))
    seed = tmp_path / "subscriptions.json"
    seed.write_text('{"recipients": []}', encoding="utf-8")
    notice = TerminationNoticeGiven(
        agreement_id="leve-hele-livet-2019-2023",
        given_by="hod",
        notice_date=date(2022, 6, 1),
        effective_date=date(2022, 10, 1),
    )
    canary = keys_for_tests().sign(cloud_event(notice, source="/hod/saksbehandling"))
    hostile: list[tuple[bytes, bytes, list[tuple[str, bytes | None]]]] = [
        (b"{}", canary.partitionkey.encode(), [CE, (RawName(b"\xc3\x28"), b"1")]),
        (b"{}", canary.partitionkey.encode(), [CE, ("x-empty", None)]),
        (b"[]", b"\xff" * (limits.MAX_KEY_BYTES + 1), [CE]),
        (b"x" * limits.MAX_RECORD_BYTES, canary.partitionkey.encode(), [CE]),
    ]
    producer = RawProducer(infra.kafka)
    evaluations = create_evaluations(settings_for(EvaluationsSettings, infra, run_id), clock=clock)
    notifications = create_notifications(
        settings_for(NotificationsSettings, infra, run_id, subscriptions_seed=str(seed)), clock=clock
    )
    topic = bus.topic(topics.AGREEMENT_INGRESS)
    await producer.start()
    try:
        async with running(evaluations) as owner, running(notifications) as reader:
            for value, key, headers in hostile:
                await producer.send_record(topic, value, key=key, headers=headers, partition=0)
            await producer.send_record(
                topic, canary.to_bytes(), key=canary.partitionkey.encode(), headers=[CE], partition=0
            )
            async with asyncio.timeout(CANARY_SECONDS):
                while True:
                    if await processed(owner, canary.id) and await processed(reader, canary.id):
                        break
                    await asyncio.sleep(0.05)
            await asyncio.sleep(1)  # time enough for a second service's dead letter, if one were written
            letters = letters_of(await read_to_end(bus, topics.DEAD_LETTER), topic)
    finally:
        await producer.stop()
    assert [(letter.reason, letter.headers["dlq-consumer-group"]) for _, letter in sorted(letters.items())] == [
        ("invalid_record", f"t{run_id}.lhl-evaluations"),
        ("not_cloudevent", f"t{run_id}.lhl-evaluations"),
        ("invalid_record", f"t{run_id}.lhl-evaluations"),
        ("invalid_record", f"t{run_id}.lhl-evaluations"),
    ]
    assert letters[(0, 0)].message == "headers[1] '\\xc3(': the header name is not UTF-8"
