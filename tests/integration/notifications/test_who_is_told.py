"""The right recipients get exactly one message each, over real SMTP and a real webhook receiver."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import services.notifications
from contracts import topics
from contracts.events.evaluations import AgreementExpired
from services.notifications.app import create_app
from tests.integration.notifications import scenario as sc
from tests.integration.notifications.servers import SmtpServer, WebhookServer
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event
from tests.support.services import fetch, running

README = Path(services.notifications.__file__).parent / "README.md"


def documented_verify() -> Callable[[bytes, dict[str, str], bytes], bool]:
    """The receiver's check exactly as the README documents it: its `python verify` block, executed."""
    text = README.read_text(encoding="utf-8")
    snippet = text.split("```python verify\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    verify: Callable[[bytes, dict[str, str], bytes], bool] = namespace["verify"]
    return verify


def told(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(event, recipient, channel) of every delivered notification, duplicates kept."""
    delivered = sc.of_type(events, "notification.delivered.v1")
    return [(e["data"]["about_event_id"], e["data"]["recipient"], e["data"]["channel"]) for e in delivered]


async def test_owner_office_and_directorate_each_get_one_message_even_when_an_event_arrives_twice(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    app = create_app(
        sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url)), secrets=sc.webhook_secrets().get
    )
    item = cloud_event(sc.assigned(owner="ks-vestland"), source=sc.MEETINGS_SOURCE, region="vestland")
    overdue = cloud_event(sc.report_overdue("vestland"), source=sc.EVALUATIONS_SOURCE, region="vestland")
    marker = cloud_event(sc.report_due("vestland"), source=sc.EVALUATIONS_SOURCE, region="vestland")
    hod_marker = cloud_event(sc.assigned(owner="hod"), source=sc.MEETINGS_SOURCE, region="vestland")
    expected = {
        (item.id, "ks-vestland", "email"),
        (overdue.id, "sf-vestland", "email"),
        (overdue.id, "hdir", "email"),
        (overdue.id, "hdir", "webhook"),
    }
    async with running(app) as runtime:
        await bus.publish_event(topics.MEETINGS_EVENTS, item)
        await bus.publish_event(topics.MEETINGS_EVENTS, item)
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        # Later events on the same partitions: once they are told, a wrongly duplicated message would be too.
        await bus.publish_event(topics.MEETINGS_EVENTS, hod_marker)
        await bus.publish_event(topics.EVALUATIONS_EVENTS, marker)
        markers = {(hod_marker.id, "hod", "email"), (marker.id, "sf-vestland", "email")}
        delivered = await bus.events(topics.NOTIFICATIONS_EVENTS, lambda es: set(told(es)) >= expected | markers)
        rows = await fetch(
            runtime,
            "SELECT about_event_id, recipient_id, status FROM deliveries WHERE about_event_id = ANY($1)",
            [item.id, overdue.id],
        )
    assert sorted(t for t in told(delivered) if t[0] in (item.id, overdue.id)) == sorted(expected)
    assert sorted((r["recipient_id"], r["status"]) for r in rows) == [
        ("hdir", "delivered"),
        ("hdir", "delivered"),
        ("ks-vestland", "delivered"),
        ("sf-vestland", "delivered"),
    ]
    [to_owner] = smtp.to(sc.ADDRESS["ks-vestland"])
    assert to_owner.subject == "[Leve hele livet] Ny oppgave: Invitere kommunene til læringsnettverk"
    assert "Frist: 1. april 2022" in to_owner.body
    assert f"Oppgave-id: {item.data['action_item_id']}" in to_owner.body
    assert f"Hendelses-id: {item.id}" in to_owner.body
    assert "Region: Statsforvalteren i Vestland" in to_owner.body
    [to_office] = [m for m in smtp.to(sc.ADDRESS["sf-vestland"]) if "mangler" in m.subject]
    assert to_office.subject == "[Leve hele livet] Statusrapport for 15. mai 2022 mangler"
    assert len([m for m in smtp.to(sc.ADDRESS["hdir"]) if "mangler" in m.subject]) == 1
    assert smtp.to(sc.ADDRESS["ks"]) == []
    assert smtp.to(sc.ADDRESS["sf-rogaland"]) == []
    hooks = [r for r in webhook.requests if json.loads(r.body)["id"] == overdue.id]
    assert len(hooks) == 1


async def test_webhook_signature_verifies_with_the_documented_algorithm(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    app = create_app(
        sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url)), secrets=sc.webhook_secrets().get
    )
    overdue = cloud_event(sc.report_overdue("rogaland"), source=sc.EVALUATIONS_SOURCE, region="rogaland")
    async with running(app):
        await bus.publish_event(topics.EVALUATIONS_EVENTS, overdue)
        await sc.eventually(lambda: webhook.requests, "the webhook is called")
    [request] = webhook.requests
    verify = documented_verify()
    headers = {
        "X-LHL-Timestamp": request.headers["x-lhl-timestamp"],
        "X-LHL-Signature": request.headers["x-lhl-signature"],
    }
    assert verify(b"s3cret-for-hdir", headers, request.body)
    assert not verify(b"s3cret-for-hdir", headers, request.body + b" ")
    assert not verify(b"another-secret", headers, request.body)
    assert request.headers["content-type"] == "application/cloudevents+json"
    sent = json.loads(request.body)
    assert (sent["id"], sent["type"], sent["source"]) == (overdue.id, overdue.type, overdue.source)


async def test_expiry_is_told_once_to_every_organisation_on_the_agreement_and_not_to_publishing_systems(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    app = create_app(
        sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url)), secrets=sc.webhook_secrets().get
    )
    expired = cloud_event(
        AgreementExpired(agreement_id=sc.AGREEMENT, expired_on=date(2023, 12, 31)), source=sc.EVALUATIONS_SOURCE
    )
    organisations = {"hod", "ks", "hdir", "sf-vestland", "ks-vestland", "sf-rogaland"}
    expected = {(expired.id, o, "email") for o in organisations} | {(expired.id, "hdir", "webhook")}
    async with running(app):
        await bus.publish_event(topics.EVALUATIONS_EVENTS, expired)
        delivered = await bus.events(topics.NOTIFICATIONS_EVENTS, lambda es: set(told(es)) >= expected)
    assert sorted(told(delivered)) == sorted(expected)
    for organisation in organisations:
        [mail] = smtp.to(sc.ADDRESS[organisation])
        assert mail.subject == "[Leve hele livet] Avtalen er utløpt"
        assert "Avtaleperioden endte 31. desember 2023." in mail.body
    assert smtp.to(sc.ADDRESS["system-hod"]) == []
