"""Subscriptions managed with the CLI take effect at once, and a removal survives the seed at the next start."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from contracts import topics
from services.notifications.app import create_app
from tests.integration.notifications import scenario as sc
from tests.integration.notifications.servers import SmtpServer, WebhookServer
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running

BERGEN = "postmottak@bergen.lhl.test"


async def test_a_recipient_added_with_the_cli_is_told_and_a_removed_contact_point_stays_removed(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    settings = sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url))
    cli = [
        ("add-recipient", "kommune-4601", "--name", "Bergen kommune", "--organisation", "kommune-4601"),
        ("add-contact-point", "kommune-4601", "kommune-4601-epost", "--email", BERGEN),
        ("remove", "contact-point", "hdir-epost"),
    ]
    async with running(create_app(settings, secrets=sc.webhook_secrets().get)):
        for args in cli:
            await asyncio.to_thread(sc.run_cli, settings, *args)
        listed = json.loads(await asyncio.to_thread(sc.run_cli, settings, "list"))
        item = cloud_event(sc.assigned(owner="kommune-4601"), source=sc.MEETINGS_SOURCE, region="vestland")
        await bus.publish_event(topics.MEETINGS_EVENTS, item)
        first = cloud_event(sc.report_overdue("vestland"), source=sc.EVALUATIONS_SOURCE, region="vestland")
        await bus.publish_event(topics.EVALUATIONS_EVENTS, first)
        await sc.eventually(lambda: smtp.to(BERGEN) and smtp.to(sc.ADDRESS["sf-vestland"]), "both events told")
    second = cloud_event(sc.report_overdue("vestland"), source=sc.EVALUATIONS_SOURCE, region="vestland")
    async with running(create_app(settings, secrets=sc.webhook_secrets().get)) as runtime:
        await bus.publish_event(topics.EVALUATIONS_EVENTS, second)
        await sc.eventually(lambda: len(webhook.requests) == 2, "the directorate's webhook is told the second time")
        await sc.eventually(lambda: len(smtp.to(sc.ADDRESS["sf-vestland"])) == 2, "the office is told again")
        # Delivery rows are written with the event's inbox row, so this is the whole plan for the event.
        planned = await fetch(runtime, "SELECT contact_point_id FROM deliveries WHERE about_event_id = $1", second.id)
    bergen = next(r for r in listed if r["id"] == "kommune-4601")
    assert bergen["contact_points"] == [{"id": "kommune-4601-epost", "channel": "email", "address": BERGEN}]
    assert [cp["id"] for r in listed if r["id"] == "hdir" for cp in r["contact_points"]] == ["hdir-webhook"]
    [to_bergen] = smtp.to(BERGEN)
    assert item.data["action_item_id"] in to_bergen.body
    assert smtp.to(sc.ADDRESS["hdir"]) == []
    assert sorted(r["contact_point_id"] for r in planned) == ["hdir-webhook", "sf-vestland-epost"]
