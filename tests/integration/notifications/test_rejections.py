"""A publisher whose event was rejected is told, once, why, at the contact registered for its source."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

from contracts import topics
from contracts.events.evaluations import TerminationNoticeGiven
from runtime import deadletter as dlq
from services.evaluations.app import create_app as create_evaluations
from services.evaluations.settings import EvaluationsSettings
from services.notifications.app import create_app
from tests.integration.notifications import scenario as sc
from tests.integration.notifications.servers import SmtpServer, WebhookServer
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import running, settings_for


def notice_with_bad_effective_date() -> bytes:
    notice = TerminationNoticeGiven(
        agreement_id=sc.AGREEMENT, given_by="hod", notice_date=date(2022, 6, 1), effective_date=date(2022, 10, 1)
    )
    raw = json.loads(cloud_event(notice, source=sc.HOD_SYSTEM_SOURCE).to_bytes())
    raw["data"]["effective_date"] = "snart"
    return json.dumps(raw).encode()


async def test_a_rejected_events_publisher_is_told_the_reason_once(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    app = create_app(sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url)))
    # The evaluations service owns the agreement ingress: it dead-letters the notice, notifications tells why.
    evaluations = create_evaluations(settings_for(EvaluationsSettings, infra, run_id))
    rejected = notice_with_bad_effective_date()
    rejected_id = json.loads(rejected)["id"]
    async with running(evaluations), running(app):
        await bus.publish_raw(topics.AGREEMENT_INGRESS, rejected)
        [letter] = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 1)
        await sc.eventually(lambda: smtp.to(sc.ADDRESS["system-hod"]), "the publisher's contact is told")
        # The same rejection seen by another consumer group must not tell the publisher again.
        # One key, so the copy is handled before the later rejection and a second message would show up first.
        key = f"deadletters/{uuid.uuid4()}"
        await bus.publish_raw(topics.DEAD_LETTER, letter.value, key=key, headers=headers_of(letter))
        later = {**headers_of(letter), dlq.EVENT_ID: str(uuid.uuid4())}
        await bus.publish_raw(topics.DEAD_LETTER, b"\x00not json", key=key, headers=later)
        await sc.eventually(lambda: len(smtp.to(sc.ADDRESS["system-hod"])) >= 2, "the later rejection is told")
        events = await bus.events(
            topics.NOTIFICATIONS_EVENTS,
            lambda es: {e["data"]["about_event_id"] for e in es} >= {rejected_id, later[dlq.EVENT_ID]},
        )
    first, second = smtp.to(sc.ADDRESS["system-hod"])
    assert first.subject == "[Leve hele livet] Hendelse avvist (invalid_data)"
    assert "data.effective_date" in first.body
    assert f"Hendelses-id: {rejected_id}" in first.body
    assert f"Kilde: {sc.HOD_SYSTEM_SOURCE}" in first.body
    assert later[dlq.EVENT_ID] in second.body
    assert [m.to for m in smtp.mails] == [(sc.ADDRESS["system-hod"],), (sc.ADDRESS["system-hod"],)]
    told = [e["data"] for e in events if e["data"]["about_event_id"] == rejected_id]
    assert [(d["about_event_type"], d["recipient"], d["channel"]) for d in told] == [
        ("deadletter", "system-hod", "email")
    ]
