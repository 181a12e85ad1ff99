"""The catalogue of event types: type name, data model, topic and producer, in one place.

Type names follow one scheme: ``no.levehelelivet.<aggregate>.<event>.v<major>``. The major version changes only
with a breaking change to the data schema; additive, optional fields keep it. The data schema URI is
``urn:levehelelivet:schema:<aggregate>.<event>:v<major>`` and is exported to ``contracts/schemas``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Final

from contracts import topics
from contracts.events import evaluations as ev
from contracts.events import meetings as mt
from contracts.events import notifications as nt
from contracts.events.base import EventData

EXTERNAL: Final = "external"


@dataclass(frozen=True)
class EventType:
    """One event type of the contract."""

    aggregate: str
    event: str
    version: int
    model: type[EventData]
    topic: str
    producer: str

    # Made once: a service asks for them several times for each event it handles or derives.
    @cached_property
    def name(self) -> str:
        return f"no.levehelelivet.{self.aggregate}.{self.event}.v{self.version}"

    @cached_property
    def dataschema(self) -> str:
        return f"urn:levehelelivet:schema:{self.aggregate}.{self.event}:v{self.version}"

    @property
    def schema_file(self) -> str:
        return f"{self.name}.json"

    @property
    def description(self) -> str:
        return (self.model.__doc__ or "").strip()


def _t(aggregate: str, event: str, model: type[EventData], topic: str, producer: str) -> EventType:
    return EventType(aggregate, event, 1, model, topic, producer)


EVENT_TYPES: Final[tuple[EventType, ...]] = (
    # Published by the meeting secretariats.
    _t("meeting", "scheduled", mt.ContactMeetingScheduled, topics.MEETINGS_INGRESS, EXTERNAL),
    _t("meeting", "rescheduled", mt.ContactMeetingRescheduled, topics.MEETINGS_INGRESS, EXTERNAL),
    _t("meeting", "held", mt.ContactMeetingHeld, topics.MEETINGS_INGRESS, EXTERNAL),
    _t("meeting", "cancelled", mt.ContactMeetingCancelled, topics.MEETINGS_INGRESS, EXTERNAL),
    _t("action-item", "completed", mt.ActionItemCompleted, topics.MEETINGS_INGRESS, EXTERNAL),
    # Published by the county governor offices' systems.
    _t("report", "submitted", ev.RegionalStatusReportSubmitted, topics.REPORTS_INGRESS, EXTERNAL),
    # Published by the parties.
    _t("evaluation", "completed", ev.AnnualEvaluationCompleted, topics.AGREEMENT_INGRESS, EXTERNAL),
    _t("agreement", "termination-notice-given", ev.TerminationNoticeGiven, topics.AGREEMENT_INGRESS, EXTERNAL),
    # Derived by the meetings service.
    _t("meeting", "recorded", mt.ContactMeetingRecorded, topics.MEETINGS_EVENTS, "meetings"),
    _t("action-item", "assigned", mt.ActionItemAssigned, topics.MEETINGS_EVENTS, "meetings"),
    _t("action-item", "due-soon", mt.ActionItemDueSoon, topics.MEETINGS_EVENTS, "meetings"),
    _t("action-item", "overdue", mt.ActionItemOverdue, topics.MEETINGS_EVENTS, "meetings"),
    _t("action-item", "closed", mt.ActionItemClosed, topics.MEETINGS_EVENTS, "meetings"),
    _t("contact-meetings", "overdue", mt.ContactMeetingsOverdue, topics.MEETINGS_EVENTS, "meetings"),
    # Derived by the evaluations service.
    _t("report", "received", ev.RegionalReportReceived, topics.EVALUATIONS_EVENTS, "evaluations"),
    _t("report", "due", ev.RegionalReportDue, topics.EVALUATIONS_EVENTS, "evaluations"),
    _t("report", "overdue", ev.RegionalReportOverdue, topics.EVALUATIONS_EVENTS, "evaluations"),
    _t("evaluation", "due", ev.AnnualEvaluationDue, topics.EVALUATIONS_EVENTS, "evaluations"),
    _t("evaluation", "overdue", ev.AnnualEvaluationOverdue, topics.EVALUATIONS_EVENTS, "evaluations"),
    _t(
        "agreement",
        "termination-notice-accepted",
        ev.TerminationNoticeAccepted,
        topics.EVALUATIONS_EVENTS,
        "evaluations",
    ),
    _t("agreement", "terminated", ev.AgreementTerminated, topics.EVALUATIONS_EVENTS, "evaluations"),
    _t("agreement", "expired", ev.AgreementExpired, topics.EVALUATIONS_EVENTS, "evaluations"),
    # Published by the notifications service.
    _t("notification", "delivered", nt.NotificationDelivered, topics.NOTIFICATIONS_EVENTS, "notifications"),
    _t("notification", "failed", nt.NotificationFailed, topics.NOTIFICATIONS_EVENTS, "notifications"),
)

WEBHOOK_ONLY: Final = "webhook"
"""In place of a topic: the type is only ever the body of a signed webhook."""

REJECTION_NOTICE: Final = _t("deadletter", "rejected", nt.EventRejected, WEBHOOK_ONLY, "notifications")
VALIDATION_REQUEST: Final = _t("subscription", "validation", nt.SubscriptionValidation, WEBHOOK_ONLY, "notifications")
WEBHOOK_TYPES: Final[tuple[EventType, ...]] = (REJECTION_NOTICE, VALIDATION_REQUEST)
"""Types never published on Kafka, so not consumed by any service, but part of the contract all the same."""

CONTRACT_TYPES: Final[tuple[EventType, ...]] = (*EVENT_TYPES, *WEBHOOK_TYPES)
"""Every type of the contract: those on topics, then those sent only by webhook."""

BY_NAME: Final = {t.name: t for t in CONTRACT_TYPES}
BY_MODEL: Final = {t.model: t for t in CONTRACT_TYPES}


def of(model: type[EventData]) -> EventType:
    return BY_MODEL[model]


def on_topic(topic: str) -> tuple[EventType, ...]:
    return tuple(t for t in EVENT_TYPES if t.topic == topic)
