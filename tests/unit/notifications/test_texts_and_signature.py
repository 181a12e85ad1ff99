"""The Norwegian texts carry what the reader needs, and the webhook signature follows the documented algorithm."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from contracts import catalog
from contracts.events import evaluations as ev
from contracts.events import meetings as mt
from services.notifications import handlers, templates
from services.notifications.channels import sign

FRAME = templates.Frame(
    agreement="Leve hele livet (leve-hele-livet-2019-2023)",
    region="Statsforvalteren i Vestland",
    event_id="e-123",
    event_source="/lhl/meetings",
    correlation_id="c-456",
)


def test_every_event_type_of_the_consumed_topics_has_a_handler_and_none_of_the_outcome_topic() -> None:
    routes = handlers.routes(handlers.Deps({}, None, None, "/lhl/notifications"))  # type: ignore[arg-type]
    for topic in handlers.CONSUMED_TOPICS:
        assert set(routes[topic]) == {k.name for k in catalog.on_topic(topic)}
    assert "lhl.notifications.events.v1" not in routes


def test_every_event_type_told_by_default_has_a_template() -> None:
    for topic in handlers.CONSUMED_TOPICS:
        for kind in catalog.on_topic(topic):
            if kind.producer != "external":
                assert templates.has_template(kind.model), kind.name


def test_an_overdue_action_item_says_what_where_when_and_which_ids_to_quote() -> None:
    overdue = mt.ActionItemOverdue(
        action_item_id="a-7",
        meeting_id="m-3",
        agreement_id="leve-hele-livet-2019-2023",
        region="vestland",
        owner="ks-vestland",
        text="Kartlegge status i kommunene",
        due_on=date(2022, 4, 1),
    )
    message = templates.render(overdue, FRAME)
    assert message.subject == "[Leve hele livet] Oppgave har passert fristen"
    for line in (
        "Oppgave: Kartlegge status i kommunene",
        "Avtale: Leve hele livet (leve-hele-livet-2019-2023)",
        "Region: Statsforvalteren i Vestland",
        "Frist: 1. april 2022",
        "Oppgave-id: a-7",
        "Møte-id: m-3",
        "Hendelses-id: e-123",
        "Korrelasjons-id: c-456",
    ):
        assert line in message.body.splitlines()


def test_a_national_text_says_so_instead_of_a_region() -> None:
    expired = ev.AgreementExpired(agreement_id="leve-hele-livet-2019-2023", expired_on=date(2023, 12, 31))
    frame = templates.Frame(FRAME.agreement, None, "e-1", "/lhl/evaluations", "c-1")
    message = templates.render(expired, frame)
    assert message.subject == "[Leve hele livet] Avtalen er utløpt"
    assert "Avtaleperioden endte 31. desember 2023." in message.body
    assert "Region: nasjonalt" in message.body


def test_a_rejection_text_gives_the_reason_and_the_field_path() -> None:
    message = templates.render_dead_letter(
        reason="invalid_data",
        message="data.effective_date: Input should be a valid date",
        event_id="e-9",
        event_source="/hod/saksbehandling",
        event_type=None,
        topic="lhl.ingress.agreement.v1",
        failed_at="2022-06-01T10:00:00Z",
    )
    assert message.subject == "[Leve hele livet] Hendelse avvist (invalid_data)"
    assert "Feil: data.effective_date: Input should be a valid date" in message.body
    assert "Hendelses-id: e-9" in message.body


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"id":"e-1"}'
    expected = hmac.new(b"secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("secret", 1700000000, body) == f"sha256={expected}"
    assert sign("secret", 1700000001, body) != f"sha256={expected}"
