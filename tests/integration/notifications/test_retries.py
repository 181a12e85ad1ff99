"""Retries on a persisted schedule, across a restart, and failures that end in NotificationFailed."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from contracts import topics
from runtime.clock import ManualClock
from runtime.db import Connection
from runtime.lifecycle import ServiceRuntime
from services.notifications.app import create_app, delivery_worker_of
from services.notifications.repository import deliveries
from tests.integration.notifications import scenario as sc
from tests.integration.notifications.servers import SmtpServer, WebhookServer
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running


async def delivery(runtime: ServiceRuntime, event_id: str, recipient: str, channel: str) -> asyncpg.Record | None:
    rows = await fetch(
        runtime,
        "SELECT notification_id, status, attempts, next_attempt_at, last_error, permanent FROM deliveries"
        " WHERE about_event_id = $1 AND recipient_id = $2 AND channel = $3",
        event_id,
        recipient,
        channel,
    )
    return rows[0] if rows else None


def outcomes(events: list[dict[str, Any]], notification_id: str) -> list[tuple[str, int]]:
    return [
        (e["type"].split(".")[3], e["data"]["attempts"])
        for e in events
        if e["type"].startswith("no.levehelelivet.notification.") and e["data"]["notification_id"] == notification_id
    ]


async def test_webhook_that_fails_twice_then_succeeds_is_delivered_once(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    webhook.statuses = [500, 503]
    clock = ManualClock(datetime.now(UTC))
    app = create_app(
        sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url)),
        clock,
        secrets=sc.webhook_secrets().get,
    )
    overdue = cloud_event(sc.report_overdue("vestland"), source=sc.EVALUATIONS_SOURCE, region="vestland")
    async with running(app) as runtime:
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        row = await sc.eventually(
            lambda: _with_attempts(runtime, overdue.id, 1), "the first attempt fails and a retry is scheduled"
        )
        assert row["next_attempt_at"] == clock.now() + timedelta(seconds=10)
        assert row["last_error"] == "HTTP 500 from webhook"
        clock.advance(timedelta(seconds=10))
        row = await sc.eventually(lambda: _with_attempts(runtime, overdue.id, 2), "the second attempt fails")
        assert row["next_attempt_at"] == clock.now() + timedelta(seconds=30)
        clock.advance(timedelta(seconds=30))
        nid = row["notification_id"]
        events = await bus.events(topics.NOTIFICATIONS_EVENTS, lambda es: ("delivered", 3) in outcomes(es, nid))
        clock.advance(timedelta(hours=13))
        assert await delivery_worker_of(app).deliver_due() == 0
        final = await delivery(runtime, overdue.id, "hdir", "webhook")
        counted = {
            outcome: runtime.metrics.registry.get_sample_value(
                "lhl_deliveries_total", {"service": "notifications", "channel": "webhook", "outcome": outcome}
            )
            for outcome in ("retry_scheduled", "delivered", "failed")
        }
    assert outcomes(events, nid) == [("delivered", 3)]
    assert counted == {"retry_scheduled": 2.0, "delivered": 1.0, "failed": None}
    assert final is not None
    assert (final["status"], final["attempts"]) == ("delivered", 3)
    assert len(webhook.requests) == 3
    assert len({r.body for r in webhook.requests}) == 1
    assert {r.headers["x-lhl-notification-id"] for r in webhook.requests} == {nid}


async def _with_attempts(runtime: ServiceRuntime, event_id: str, attempts: int) -> asyncpg.Record | None:
    row = await delivery(runtime, event_id, "hdir", "webhook")
    return row if row is not None and row["attempts"] == attempts else None


async def test_a_retry_scheduled_before_a_restart_still_happens_after_it(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    webhook.statuses = [503]
    clock = ManualClock(datetime.now(UTC))
    settings = sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url))
    overdue = cloud_event(sc.report_overdue("vestland"), source=sc.EVALUATIONS_SOURCE, region="vestland")
    async with running(create_app(settings, clock, secrets=sc.webhook_secrets().get)) as runtime:
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        row = await sc.eventually(lambda: _with_attempts(runtime, overdue.id, 1), "the first attempt fails")
        await sc.eventually(lambda: len(smtp.to(sc.ADDRESS["sf-vestland"])) == 1, "the office's e-mail is sent")
    assert len(webhook.requests) == 1
    clock.advance(timedelta(seconds=11))
    nid = row["notification_id"]
    async with running(create_app(settings, clock, secrets=sc.webhook_secrets().get)):
        events = await bus.events(topics.NOTIFICATIONS_EVENTS, lambda es: ("delivered", 2) in outcomes(es, nid))
    assert outcomes(events, nid) == [("delivered", 2)]
    assert len(webhook.requests) == 2
    assert len(smtp.to(sc.ADDRESS["sf-vestland"])) == 1
    assert len(smtp.to(sc.ADDRESS["hdir"])) == 1


async def test_a_permanent_failure_ends_in_notification_failed_and_can_be_retried_by_hand(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    smtp.refused.add(sc.ADDRESS["sf-vestland"])
    clock = ManualClock(datetime.now(UTC))
    settings = sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url))
    overdue = cloud_event(sc.report_overdue("vestland"), source=sc.EVALUATIONS_SOURCE, region="vestland")
    async with running(create_app(settings, clock, secrets=sc.webhook_secrets().get)):
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        events = await bus.events(
            topics.NOTIFICATIONS_EVENTS, lambda es: any(e["type"].endswith("notification.failed.v1") for e in es)
        )
        [failed] = [e for e in events if e["type"].endswith("notification.failed.v1")]
        nid = failed["data"]["notification_id"]
        listed = [
            json.loads(line)
            for line in (await asyncio.to_thread(sc.run_cli, settings, "failures", "list")).splitlines()
        ]
        smtp.refused.clear()
        await asyncio.to_thread(sc.run_cli, settings, "failures", "retry", nid)
        clock.advance(timedelta(minutes=1))
        events = await bus.events(topics.NOTIFICATIONS_EVENTS, lambda es: ("delivered", 1) in outcomes(es, nid))
    assert failed["data"]["recipient"] == "sf-vestland"
    assert failed["data"]["permanent"] is True
    assert failed["data"]["attempts"] == 1
    assert "550" in failed["data"]["error"]
    assert failed["causationid"] == overdue.id
    assert failed["correlationid"] == overdue.correlationid
    assert [(f["notification_id"], f["recipient_id"], f["permanent"]) for f in listed] == [(nid, "sf-vestland", True)]
    assert outcomes(events, nid) == [("failed", 1), ("delivered", 1)]
    assert len(smtp.to(sc.ADDRESS["sf-vestland"])) == 1


async def test_a_message_accepted_before_the_worker_crashed_is_recorded_on_retry_not_sent_again(
    infra: Infra,
    run_id: str,
    bus: Bus,
    smtp: SmtpServer,
    webhook: WebhookServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_delivered = deliveries.record_delivered
    crashes: list[str] = []

    async def crashes_once(conn: Connection, notification_id: str, *args: Any) -> None:
        if not crashes:
            crashes.append(notification_id)
            raise RuntimeError("a bug after the recipient accepted the message")
        await record_delivered(conn, notification_id, *args)

    monkeypatch.setattr(deliveries, "record_delivered", crashes_once)
    clock = ManualClock(datetime.now(UTC))
    settings = sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url), delivery_concurrency=1)
    overdue = cloud_event(sc.report_overdue("rogaland"), source=sc.EVALUATIONS_SOURCE, region="rogaland")
    async with running(create_app(settings, clock, secrets=sc.webhook_secrets().get)) as runtime:
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        [parked] = await sc.eventually(
            lambda: fetch(runtime, "SELECT notification_id, accepted_at FROM deliveries WHERE accepted_at IS NOT NULL"),
            "the crashed row is parked, remembering the acceptance",
        )
        clock.advance(timedelta(minutes=31))
        nid = parked["notification_id"]
        events = await bus.events(topics.NOTIFICATIONS_EVENTS, lambda es: ("delivered", 1) in outcomes(es, nid))
        [row] = await fetch(
            runtime, "SELECT status, channel, recipient_id FROM deliveries WHERE notification_id = $1", nid
        )
    assert crashes == [nid]
    assert outcomes(events, nid) == [("delivered", 1)]
    assert row["status"] == "delivered"
    sent_to = webhook.requests if row["channel"] == "webhook" else smtp.to(sc.ADDRESS[row["recipient_id"]])
    assert len(sent_to) == 1
