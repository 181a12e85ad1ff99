"""A publisher whose event was rejected is told, once, why, at the contact registered for its source; by e-mail in
one message per window, however many events it had rejected."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from pathlib import Path

from contracts import dead_letter_headers as dlq
from contracts import topics
from contracts.events.evaluations import TerminationNoticeGiven
from services.evaluations.app import create_app as create_evaluations
from services.evaluations.settings import EvaluationsSettings
from services.notifications.app import create_app
from tests.integration.notifications import scenario as sc
from tests.integration.notifications.servers import SmtpServer, WebhookServer
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import fetch, running, settings_for


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
    seed = sc.write_seed(tmp_path, webhook.url)
    app = create_app(sc.settings(infra, run_id, smtp.port, seed, rejection_digest_seconds=1))
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
            lambda es: sum(e["data"]["about_event_source"] == sc.HOD_SYSTEM_SOURCE for e in es) >= 2,
        )
    first, second = smtp.to(sc.ADDRESS["system-hod"])
    assert first.subject == "[Leve hele livet] 1 hendelse avvist (invalid_data)"
    assert "data.effective_date" in first.body
    assert f"Hendelses-id: {rejected_id}" in first.body
    assert f"Kilde: {sc.HOD_SYSTEM_SOURCE}" in first.body
    assert later[dlq.EVENT_ID] in second.body
    assert rejected_id not in second.body
    assert [m.to for m in smtp.mails] == [(sc.ADDRESS["system-hod"],), (sc.ADDRESS["system-hod"],)]
    told = [e["data"] for e in events if e["data"]["about_event_source"] == sc.HOD_SYSTEM_SOURCE]
    assert [(d["about_event_type"], d["recipient"], d["channel"]) for d in told] == [
        ("deadletter", "system-hod", "email"),
        ("deadletter", "system-hod", "email"),
    ]


async def test_a_burst_of_rejections_from_one_source_is_told_in_one_email_listing_the_first_ones(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    seed = sc.write_seed(tmp_path, webhook.url)
    # The window must outlast consuming the whole burst on a loaded CI machine, or its tail opens a second digest.
    app = create_app(
        sc.settings(infra, run_id, smtp.port, seed, rejection_digest_seconds=10, rejection_digest_max_listed=5)
    )
    ids = [str(uuid.uuid4()) for _ in range(120)]
    async with running(app) as runtime:
        for n, event_id in enumerate(ids):
            headers = {
                dlq.EVENT_SOURCE: sc.HOD_SYSTEM_SOURCE,
                dlq.EVENT_ID: event_id,
                dlq.ERROR_CLASS: "not_json" if n % 3 else "invalid_data",
                dlq.ERROR_MESSAGE: f"feil nummer {n}",
                dlq.ORIGINAL_TOPIC: "lhl.ingress.agreement.v1",
            }
            await bus.publish_raw(topics.DEAD_LETTER, b"{}", key="burst", headers=headers)
        await sc.eventually(lambda: smtp.to(sc.ADDRESS["system-hod"]), "the publisher's contact is told")
        await asyncio.sleep(1)  # long enough for a second e-mail, if one were planned
        planned = await fetch(runtime, "SELECT count(*) AS n FROM deliveries WHERE channel = 'email'")
    [mail] = smtp.to(sc.ADDRESS["system-hod"])
    assert mail.subject == "[Leve hele livet] 120 hendelser avvist (invalid_data, not_json)"
    assert "Avvist etter årsak: invalid_data: 40, not_json: 80" in mail.body
    assert [line for line in mail.body.splitlines() if line.startswith("Hendelses-id")] == [
        f"Hendelses-id: {event_id}" for event_id in ids[:5]
    ]
    assert "... og 115 til." in mail.body
    assert f"lhl dlq list --source {sc.HOD_SYSTEM_SOURCE}" in mail.body
    assert planned[0]["n"] == 1
