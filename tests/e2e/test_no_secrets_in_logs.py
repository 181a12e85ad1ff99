"""Operators' logs never show a secret, nor the text of the messages sent, which may hold personal data."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from contracts import topics
from contracts.events.meetings import ActionItem, ContactMeetingHeld, MeetingKind
from lhl.demo.mailbox import Mailbox
from runtime.clock import ManualClock
from services.meetings.app import create_app as create_meetings
from services.meetings.settings import MeetingsSettings
from services.notifications.app import create_app as create_notifications
from services.notifications.settings import NotificationsSettings
from tests.integration.notifications.servers import WebhookServer
from tests.support.http import LOCAL_RECEIVERS
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running, settings_for


async def test_secrets_and_message_texts_stay_out_of_the_logs(
    infra: Infra,
    run_id: str,
    bus: Bus,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_password = f"smtp-{secrets.token_hex(8)}"
    webhook_secret = f"hook-{secrets.token_hex(8)}"
    private_text = f"Opplysning om bruker {secrets.token_hex(4)}"
    monkeypatch.setenv("LHL_TEST_KS_VESTLAND_HOOK", webhook_secret)
    webhook = WebhookServer()
    await webhook.start()
    seed = tmp_path / "subscriptions.json"
    seed.write_text(
        json.dumps(
            {
                "recipients": [
                    {
                        "id": "ks-vestland",
                        "name": "KS Vestland",
                        "kind": "organisation",
                        "organisation": "ks-vestland",
                        "agreements": ["leve-hele-livet-2019-2023"],
                        "contact_points": [
                            {"id": "ks-vestland-epost", "email": "post@ks-vestland.lhl.test"},
                            {
                                "id": "ks-vestland-hook",
                                "webhook_url": webhook.url,
                                "signing_secret_env": "LHL_TEST_KS_VESTLAND_HOOK",
                            },
                        ],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    mailbox = Mailbox()
    mailbox.start()
    clock = ManualClock(datetime(2022, 3, 11, tzinfo=UTC))
    # The SMTP sink offers no login, so the configured password is tried, fails and is retried: every error path.
    notifications = create_notifications(
        settings_for(
            NotificationsSettings,
            infra,
            run_id,
            smtp_port=mailbox.port,
            smtp_username="lhl",
            smtp_password=smtp_password,
            subscriptions_seed=str(seed),
            delivery_poll_seconds=0.1,
            log_level="DEBUG",
            webhook_allowed_hosts=(LOCAL_RECEIVERS,),
        ),
        clock,
    )
    meetings = create_meetings(settings_for(MeetingsSettings, infra, run_id, log_level="DEBUG"), clock)
    meeting_id = f"m-{uuid.uuid4().hex[:8]}"
    held = ContactMeetingHeld(
        meeting_id=meeting_id,
        agreement_id="leve-hele-livet-2019-2023",
        kind=MeetingKind.REGIONAL,
        region="vestland",
        held_on=date(2022, 3, 10),
        organiser="sf-vestland",
        participants=("sf-vestland",),
        action_items=(
            ActionItem(
                action_item_id=f"{meeting_id}-a1", text=private_text, owner="ks-vestland", due_on=date(2022, 4, 20)
            ),
        ),
    )
    try:
        async with running(meetings), running(notifications) as runtime:
            await bus.publish_event(
                topics.MEETINGS_INGRESS, cloud_event(held, source="/statsforvalteren/vestland/moter")
            )
            await bus.events(topics.NOTIFICATIONS_EVENTS, lambda es: any(e["data"]["channel"] == "webhook" for e in es))
            # The e-mail goes by another worker: wait until its failed login has been tried and a retry planned.
            async with asyncio.timeout(30):
                while not await fetch(  # noqa: ASYNC110
                    runtime, "SELECT 1 FROM deliveries WHERE channel = 'email' AND attempts >= 1"
                ):
                    await asyncio.sleep(0.1)
    finally:
        mailbox.stop()
        await webhook.stop()
    logs = capfd.readouterr().err
    assert "notification_delivered" in logs  # the logs were captured, and they did record the delivery
    assert "notification_retry_scheduled" in logs  # and the failed SMTP login
    assert webhook.requests, "the webhook was called with the signed event"
    assert smtp_password not in logs
    assert webhook_secret not in logs
    assert private_text not in logs
    # Nor the services' own broker and database passwords, which their settings carry.
    for service in ("meetings", "notifications"):
        assert own_secret(service, "KAFKA_PASSWORD") not in logs
        assert own_secret(service, "DATABASE_URL").split("@")[0] not in logs


def own_secret(service: str, variable: str) -> str:
    return os.environ[f"LHL_{service.upper()}_{variable}"]
