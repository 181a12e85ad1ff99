"""A clean stop lets the delivery in hand finish, so a restart sends no message a second time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from contracts import topics
from runtime.clock import ManualClock
from services.notifications.app import create_app
from tests.integration.notifications import scenario as sc
from tests.integration.notifications.servers import SmtpServer, WebhookServer
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running


async def test_a_stop_while_a_mail_is_being_accepted_waits_for_it_and_the_restart_does_not_send_it_again(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    smtp.answer_after_seconds = 2.0
    clock = ManualClock(datetime.now(UTC))
    settings = sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url))
    overdue = cloud_event(sc.report_overdue("vestland"), source=sc.EVALUATIONS_SOURCE, region="vestland")
    async with running(create_app(settings, clock, secrets=sc.webhook_secrets().get)):
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        # The server holds the message but has not answered yet when the stop begins.
        await sc.eventually(lambda: len(smtp.mails) >= 1, "a first message reaches the SMTP server")
    smtp.answer_after_seconds = 0.0
    async with running(create_app(settings, clock, secrets=sc.webhook_secrets().get)) as runtime:
        await bus.events(
            topics.NOTIFICATIONS_EVENTS,
            lambda es: sum(e["type"].endswith("notification.delivered.v1") for e in es) >= 3,
        )
        rows = await fetch(
            runtime,
            "SELECT recipient_id, channel, status, attempts FROM deliveries WHERE about_event_id = $1"
            " ORDER BY recipient_id, channel",
            overdue.id,
        )
    assert [tuple(r) for r in rows] == [
        ("hdir", "email", "delivered", 1),
        ("hdir", "webhook", "delivered", 1),
        ("sf-vestland", "email", "delivered", 1),
    ]
    assert len(smtp.to(sc.ADDRESS["hdir"])) == 1
    assert len(smtp.to(sc.ADDRESS["sf-vestland"])) == 1
