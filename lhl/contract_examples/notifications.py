"""Example events of the notifications service: a message delivered, and one given up on."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts import catalog
from contracts.envelope import stable_event_id
from contracts.events import evaluations as ev
from contracts.events import meetings as mt
from contracts.events import notifications as nt
from lhl.contract_examples.example import Example, example_event_id

_SOURCE = "/lhl/notifications"
_REJECTED = "8b6c1c3e-2f4d-4a43-9a53-5d2b8f0e7c11"
_SUBSCRIPTION = "3d9f0a52-7c1e-4b8e-9f26-0e4a5c7b1d83"


def examples() -> list[Example]:
    assigned, overdue = example_event_id(mt.ActionItemAssigned), example_event_id(ev.RegionalReportOverdue)
    # Stable per (event, recipient, contact point), as the notifications service derives them.
    delivered_id = stable_event_id("contracts-page-notification", assigned, "ks-vestland", "ks-vestland-postmottak")
    failed_id = stable_event_id("contracts-page-notification", overdue, "sf-nordland", "sf-nordland-webhook")
    return [
        Example(
            nt.NotificationDelivered(
                notification_id=delivered_id,
                about_event_id=assigned,
                about_event_source="/lhl/meetings",
                about_event_type=catalog.of(mt.ActionItemAssigned).name,
                recipient="ks-vestland",
                channel=nt.Channel.EMAIL,
                contact_point="ks-vestland-postmottak",
                attempts=1,
                delivered_at=datetime(2022, 3, 11, 9, 5, 3, tzinfo=UTC),
            ),
            _SOURCE,
            datetime(2022, 3, 11, 9, 5, 3, tzinfo=UTC),
            f"notification/{delivered_id}",
            "vestland-meeting-2022-03",
            mt.ActionItemAssigned,
            partition_region="vestland",
        ),
        Example(
            nt.NotificationFailed(
                notification_id=failed_id,
                about_event_id=overdue,
                about_event_source="/lhl/evaluations",
                about_event_type=catalog.of(ev.RegionalReportOverdue).name,
                recipient="sf-nordland",
                channel=nt.Channel.WEBHOOK,
                contact_point="sf-nordland-webhook",
                attempts=8,
                failed_at=datetime(2022, 5, 17, 4, 12, tzinfo=UTC),
                permanent=False,
                error="HTTP 503 Service Unavailable from the webhook on the last of 8 attempts.",
            ),
            _SOURCE,
            datetime(2022, 5, 17, 4, 12, tzinfo=UTC),
            f"notification/{failed_id}",
            "nordland-report-2022-05-15",
            ev.RegionalReportOverdue,
            partition_region="nordland",
        ),
        Example(
            nt.EventRejected(
                rejected_event_source="/hod/saksbehandling",
                rejected_event_id=_REJECTED,
                rejected_event_type=catalog.of(ev.TerminationNoticeGiven).name,
                reason="invalid_data",
                message="data.effective_date: Input should be a valid date or datetime, input is too short",
                original_topic="lhl.ingress.agreement.v1",
                original_partition=0,
                original_offset=41,
                failed_at=datetime(2022, 6, 2, 8, 29, 59, tzinfo=UTC),
            ),
            _SOURCE,
            datetime(2022, 6, 2, 8, 30, 1, tzinfo=UTC),
            f"rejected/{_REJECTED}",
            "hod-termination-notice-2022-06",
        ),
        Example(
            nt.SubscriptionValidation(
                subscription_id=_SUBSCRIPTION,
                endpoint="https://sak.statsforvalteren.example/hooks/lhl",
                challenge="Jm3cQ0qX5p1u8H2vYt7rW4kZb9sN6dEa",
            ),
            _SOURCE,
            datetime(2022, 6, 2, 9, 0, 0, tzinfo=UTC),
            f"subscription/{_SUBSCRIPTION}",
            f"subscription-{_SUBSCRIPTION}",
        ),
    ]
