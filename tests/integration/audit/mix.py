"""A realistic mix of events for the audit tests: what external systems and the services put on the topics."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from contracts import topics
from contracts.dead_letter_headers import ERROR_CLASS, ERROR_MESSAGE, EVENT_ID, EVENT_SOURCE, EVENT_TYPE
from contracts.envelope import CloudEvent
from contracts.events.evaluations import FocusAreaStatus, RegionalStatusReportSubmitted
from contracts.events.notifications import Channel, NotificationDelivered
from tests.support.events import vestland_meeting_held as held
from tests.support.kafka import Bus, cloud_event

MEETINGS_SOURCE = "/statsforvalteren/vestland/moter"
REPORTS_SOURCE = "/statsforvalteren/vestland/rapportering"


def report() -> RegionalStatusReportSubmitted:
    return RegionalStatusReportSubmitted(
        report_id=f"r-{uuid.uuid4().hex[:8]}",
        agreement_id="leve-hele-livet-2019-2023",
        region="vestland",
        reporting_date=date(2022, 5, 15),
        submitted_by="sf-vestland",
        focus_areas=(
            FocusAreaStatus(
                focus_area="mat-og-maltider", municipalities_reached=43, planning=20, decided=12, implementing=5
            ),
        ),
        summary="Alle kommunene er nådd.",
    )


def delivered(about: CloudEvent, recipient: str) -> CloudEvent:
    """What the notifications service publishes after telling a recipient; it keeps the correlation id."""
    data = NotificationDelivered(
        notification_id=f"n-{uuid.uuid4().hex[:8]}",
        about_event_id=about.id,
        about_event_source=about.source,
        about_event_type=about.type,
        recipient=recipient,
        channel=Channel.EMAIL,
        contact_point=f"{recipient}-epost",
        attempts=1,
        delivered_at=datetime(2022, 3, 10, 15, tzinfo=UTC),
    )
    return cloud_event(data, source="/lhl/notifications", region="vestland", correlation_id=about.correlationid)


def dead_letter_headers(event: CloudEvent, reason: str, message: str) -> dict[str, str]:
    """The headers the runtime's pipeline puts on a dead letter (see runtime/deadletter.py)."""
    return {
        EVENT_SOURCE: event.source,
        EVENT_ID: event.id,
        EVENT_TYPE: event.type,
        ERROR_CLASS: reason,
        ERROR_MESSAGE: message,
        "correlationid": event.correlationid,
    }


@dataclass(frozen=True)
class Mix:
    """What was published, and how many distinct records the audit must end up with."""

    report: CloudEvent
    rejected: CloudEvent
    told: CloudEvent
    expected_records: int


async def publish_standalone_mix(bus: Bus) -> Mix:
    """Events as the services would have produced them, without running the services: for the tampering tests."""
    sent = cloud_event(report(), source=REPORTS_SOURCE, region="vestland")
    rejected = cloud_event(held(f"m-{uuid.uuid4().hex[:8]}", county="99"), source=MEETINGS_SOURCE, region="vestland")
    told = delivered(sent, "hdir")
    await bus.publish_event(topics.REPORTS_INGRESS, sent)
    await bus.publish_event(topics.REPORTS_INGRESS, sent)  # redelivered
    await bus.publish_event(topics.MEETINGS_INGRESS, rejected)
    await bus.publish_raw(
        topics.DEAD_LETTER,
        rejected.to_bytes(),
        key=rejected.partitionkey,
        headers=dead_letter_headers(rejected, "invalid_reference", "data.county: unknown county number '99'"),
    )
    await bus.publish_raw(topics.MEETINGS_INGRESS, b"\x00\xffnot json at all")
    await bus.publish_event(topics.NOTIFICATIONS_EVENTS, told)
    await bus.publish_event(topics.NOTIFICATIONS_EVENTS, told)  # redelivered
    for _ in range(3):
        await bus.publish_event(topics.REPORTS_INGRESS, cloud_event(report(), source=REPORTS_SOURCE, region="vestland"))
    # report, rejected, its dead letter, the bytes, the notification, three more reports
    return Mix(sent, rejected, told, expected_records=8)
