"""A derived event that its service did not sign is dead-lettered by every consumer, told to nobody, and recorded
by the audit as failing verification; the genuine one goes through."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from contracts import topics
from contracts.dead_letter_headers import CONSUMER_GROUP, ERROR_CLASS, ERROR_MESSAGE
from contracts.signing import sign_event
from services.evaluations.app import create_app as create_evaluations
from services.evaluations.settings import EvaluationsSettings
from services.notifications.app import create_app
from tests.integration.audit.helpers import (
    audit_cli,
    audit_settings,
    jsonl,
    running_audit,
    wait_for_count,
    wait_until_caught_up,
)
from tests.integration.notifications import scenario as sc
from tests.integration.notifications.servers import SmtpServer, WebhookServer
from tests.support.infra import Infra
from tests.support.kafka import Bus, cloud_event, headers_of
from tests.support.services import running, settings_for
from tests.support.signing import keys_for_tests

PHISHING = "Bekreft oppgaven innen i dag: http://ks-vestland.example.net/logg-inn"


async def test_an_action_item_assigned_not_signed_by_the_meetings_service_is_refused_by_every_consumer(
    infra: Infra, run_id: str, bus: Bus, smtp: SmtpServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    notifications = create_app(sc.settings(infra, run_id, smtp.port, sc.write_seed(tmp_path, webhook.url)))
    evaluations = create_evaluations(settings_for(EvaluationsSettings, infra, run_id))
    audit = audit_settings(infra, run_id, tmp_path / "checkpoints")
    # Someone with KS Vestland's key, and write access to the meetings service's topic, speaks as that service.
    forged_item = sc.assigned(owner="ks-vestland").model_copy(update={"text": PHISHING})
    unsigned = cloud_event(forged_item, source=sc.MEETINGS_SOURCE, region="vestland")
    forged = sign_event(unsigned, keys_for_tests().signer("/ks/vestland"))
    genuine = cloud_event(sc.assigned(owner="ks-vestland"), source=sc.MEETINGS_SOURCE, region="vestland")
    async with running(evaluations), running(notifications), running_audit(audit) as recorder:
        await bus.publish_event(topics.MEETINGS_EVENTS, forged)
        letters = await bus.read(topics.DEAD_LETTER, lambda rs: len(rs) >= 2)
        await bus.publish_event(topics.MEETINGS_EVENTS, genuine)
        told = await sc.eventually(lambda: smtp.to(sc.ADDRESS["ks-vestland"]), "the genuine assignment is told")
        await wait_for_count(recorder, 3)  # the forgery, its dead letter (one for both groups), the genuine event
        await wait_until_caught_up(recorder)
    reasons = Counter((headers_of(r)[CONSUMER_GROUP], headers_of(r)[ERROR_CLASS]) for r in letters)
    assert reasons == {
        (f"t{run_id}.lhl-evaluations", "unauthenticated"): 1,
        (f"t{run_id}.lhl-notifications", "unauthenticated"): 1,
    }
    assert all("published only by the meetings service" not in headers_of(r)[ERROR_MESSAGE] for r in letters)
    assert all("registered for /ks/vestland" in headers_of(r)[ERROR_MESSAGE] for r in letters)
    assert len(told) == 1
    assert PHISHING not in told[0].body
    trail = jsonl(await audit_cli(audit, "trail", "--output", "jsonl"))
    kinds = {(r["kind"], r["event_id"]) for r in trail}
    assert ("unauthenticated", forged.id) in kinds
    assert ("event", genuine.id) in kinds
    verified = await audit_cli(audit, "verify")
    assert verified.exit_code == 0, verified.stdout
    assert "1 recorded as failing verification" in verified.stdout
