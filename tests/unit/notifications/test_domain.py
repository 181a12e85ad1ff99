"""Who is told what by default, what filters add, and the retry schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts import catalog
from contracts.events import evaluations as ev
from contracts.events import meetings as mt
from contracts.events.base import EventData
from contracts.events.evaluations import EvaluationPacket, PacketMeetings
from services.notifications import domain
from services.notifications.domain import ContactPoint, Filter, Recipient, Subscriptions

AGREEMENT = "leve-hele-livet-2019-2023"
OFFICES = {"vestland": "sf-vestland", "rogaland": "sf-rogaland"}
DELAYS = (10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200)
T0 = datetime(2022, 5, 16, 8, 0, tzinfo=UTC)


def org(recipient_id: str, agreements: tuple[str, ...] = (AGREEMENT,)) -> Recipient:
    return Recipient(recipient_id, recipient_id, "organisation", recipient_id, (), agreements)


def subscriptions(*extra: Recipient, filters: tuple[Filter, ...] = ()) -> Subscriptions:
    recipients = [org(o) for o in ("hod", "ks", "hdir", "sf-vestland", "sf-rogaland", "ks-vestland")]
    recipients.append(Recipient("system-hod", "HOD", "system", "hod", ("/hod/saksbehandling",), (AGREEMENT,)))
    recipients.extend(extra)
    points = [ContactPoint(f"{r.recipient_id}-epost", r.recipient_id, "email", "x@y.no") for r in recipients]
    return Subscriptions(recipients, points, filters)


def told(data: EventData, subs: Subscriptions | None = None) -> list[str]:
    subs = subs or subscriptions()
    audience = domain.default_audience(data, ("hod", "ks"), OFFICES)
    name = catalog.of(type(data)).name
    chosen = domain.recipients_for(subs, audience, name, AGREEMENT, domain.region_of(data))
    return [r.recipient_id for r in chosen]


def item(model: type[mt.ActionItemAssigned] | type[mt.ActionItemOverdue], owner: str) -> mt.ActionItemAssigned:
    return model(  # type: ignore[return-value]
        action_item_id="a-1",
        meeting_id="m-1",
        agreement_id=AGREEMENT,
        region="vestland",
        owner=owner,
        text="Gjør det",
        due_on=date(2022, 4, 1),
    )


def test_an_assigned_or_overdue_action_item_is_told_to_its_owner_only() -> None:
    assert told(item(mt.ActionItemAssigned, "ks-vestland")) == ["ks-vestland"]
    assert told(item(mt.ActionItemOverdue, "hod")) == ["hod"]


def test_an_action_item_owned_by_an_organisation_without_subscription_tells_nobody() -> None:
    assert told(item(mt.ActionItemAssigned, "kommune-4601")) == []


def test_a_missing_report_is_told_to_that_office_and_the_directorate() -> None:
    overdue = ev.RegionalReportOverdue(agreement_id=AGREEMENT, region="rogaland", reporting_date=date(2022, 5, 15))
    assert told(overdue) == ["hdir", "sf-rogaland"]


def test_an_evaluation_due_is_told_to_the_parties() -> None:
    due = ev.AnnualEvaluationDue(
        agreement_id=AGREEMENT,
        year=2022,
        consultation_meeting_on=date(2022, 11, 15),
        deadline=date(2022, 12, 15),
        packet=EvaluationPacket(
            reports=(),
            meetings=PacketMeetings(national_held=1, regional_held={}, learning_network_held=0),
            open_action_items=(),
        ),
    )
    assert told(due) == ["hod", "ks"]


def test_expiry_is_told_to_every_organisation_on_the_agreement_but_not_to_systems_or_other_agreements() -> None:
    other = org("kommune-4601", agreements=("another-agreement",))
    expired = ev.AgreementExpired(agreement_id=AGREEMENT, expired_on=date(2023, 12, 31))
    assert told(expired, subscriptions(other)) == ["hdir", "hod", "ks", "ks-vestland", "sf-rogaland", "sf-vestland"]


def test_a_filter_opts_a_recipient_in_to_its_region_only() -> None:
    reports = Filter("f1", "ks-vestland", ("no.levehelelivet.report.overdue.v1",), ("vestland",))
    subs = subscriptions(filters=(reports,))
    in_vestland = ev.RegionalReportOverdue(agreement_id=AGREEMENT, region="vestland", reporting_date=date(2022, 5, 15))
    in_rogaland = in_vestland.model_copy(update={"region": "rogaland"})
    assert told(in_vestland, subs) == ["hdir", "ks-vestland", "sf-vestland"]
    assert told(in_rogaland, subs) == ["hdir", "sf-rogaland"]


def test_an_event_without_defaults_tells_nobody_unless_a_filter_picks_it() -> None:
    closed = mt.ActionItemClosed(
        **item(mt.ActionItemAssigned, "ks").model_dump(), completed_on=date(2022, 3, 30), late=False
    )
    assert told(closed) == []
    picked = Filter("f2", "hod", ("no.levehelelivet.action-item.closed.v1",))
    assert told(closed, subscriptions(filters=(picked,))) == ["hod"]


def test_a_rejected_event_is_told_to_the_system_registered_for_its_source() -> None:
    subs = subscriptions()
    assert [r.recipient_id for r in domain.recipients_for_source(subs, "/hod/saksbehandling")] == ["system-hod"]
    assert domain.recipients_for_source(subs, "/unknown/system") == []


def test_the_service_never_notifies_about_its_own_outcome_events() -> None:
    own = "/lhl/notifications"
    assert domain.is_own_outcome("no.levehelelivet.notification.failed.v1", "/lhl/audit", own)
    assert domain.is_own_outcome(None, own, own)
    assert not domain.is_own_outcome("no.levehelelivet.report.overdue.v1", "/lhl/evaluations", own)


def test_each_contact_point_of_a_recipient_is_one_delivery() -> None:
    subs = Subscriptions(
        [org("hdir")],
        [
            ContactPoint("hdir-webhook", "hdir", "webhook", "https://h.no/hook", "s"),
            ContactPoint("hdir-epost", "hdir", "email", "a@b.no"),
        ],
    )
    pairs = domain.contact_points_of(subs, subs.recipients)
    assert [cp.contact_point_id for _, cp in pairs] == ["hdir-epost", "hdir-webhook"]


def test_notification_ids_are_stable_per_event_recipient_and_contact_point() -> None:
    a = domain.notification_id("/lhl/evaluations", "e1", "hdir", "hdir-epost")
    assert a == domain.notification_id("/lhl/evaluations", "e1", "hdir", "hdir-epost")
    assert a != domain.notification_id("/lhl/evaluations", "e1", "hdir", "hdir-webhook")


def next_after(attempts: int, now: datetime, *, max_attempts: int = 12, horizon: int = 48 * 3600) -> datetime | None:
    return domain.next_attempt_at(
        attempts, T0, now, delays_seconds=DELAYS, max_attempts=max_attempts, horizon_seconds=horizon
    )


def test_retries_wait_10s_30s_1m_5m_10m_30m_1h_3h_6h_then_12h() -> None:
    waits = [(next_after(n, T0) or T0) - T0 for n in range(1, 12)]
    assert [int(w.total_seconds()) for w in waits] == [*DELAYS, 43200]


def test_delivery_gives_up_after_the_last_attempt() -> None:
    assert next_after(12, T0) is None
    assert next_after(3, T0, max_attempts=3) is None


def test_no_retry_is_scheduled_beyond_the_horizon() -> None:
    assert next_after(1, T0 + timedelta(seconds=3595), horizon=3600) is None
    assert next_after(1, T0 + timedelta(seconds=3590), horizon=3600) == T0 + timedelta(seconds=3600)


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (404, True), (410, True), (408, False), (429, False), (500, False), (503, False)],
)
def test_only_client_errors_other_than_timeout_and_throttling_are_permanent(status: int, permanent: bool) -> None:
    assert domain.http_status_is_permanent(status) is permanent


def test_smtp_5xx_is_permanent_and_4xx_is_not() -> None:
    assert domain.smtp_code_is_permanent(550)
    assert not domain.smtp_code_is_permanent(451)


@pytest.mark.parametrize("address", ["postmottak@hod.dep.no", "a.b+c@ks.no"])
def test_plain_addresses_are_email_addresses(address: str) -> None:
    assert domain.is_email_address(address)


@pytest.mark.parametrize("address", ["", "hod.dep.no", "a@b", "a b@c.no", "a@@b.no"])
def test_malformed_addresses_are_not(address: str) -> None:
    assert not domain.is_email_address(address)
