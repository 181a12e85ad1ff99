"""Every Kafka topic of the system, and the partition-key rule that keeps one region's events in order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from contracts.events.base import AGREEMENT_ID_PATTERN, REGION_ID_PATTERN

# Ingress: external government systems publish here.
MEETINGS_INGRESS: Final = "lhl.ingress.meetings.v1"
REPORTS_INGRESS: Final = "lhl.ingress.reports.v1"
AGREEMENT_INGRESS: Final = "lhl.ingress.agreement.v1"

# Derived: each service publishes its own facts here, through its outbox.
MEETINGS_EVENTS: Final = "lhl.meetings.events.v1"
EVALUATIONS_EVENTS: Final = "lhl.evaluations.events.v1"
NOTIFICATIONS_EVENTS: Final = "lhl.notifications.events.v1"

# Events that could not be processed, with the reason in headers.
DEAD_LETTER: Final = "lhl.deadletter.v1"

INGRESS_TOPICS: Final = (MEETINGS_INGRESS, REPORTS_INGRESS, AGREEMENT_INGRESS)
DERIVED_TOPICS: Final = (MEETINGS_EVENTS, EVALUATIONS_EVENTS, NOTIFICATIONS_EVENTS)
ALL_TOPICS: Final = (*INGRESS_TOPICS, *DERIVED_TOPICS, DEAD_LETTER)

ROLES: Final[Mapping[str, str]] = {
    **dict.fromkeys(INGRESS_TOPICS, "Ingress: external government systems publish facts here."),
    **dict.fromkeys(DERIVED_TOPICS, "Derived: a service publishes its own facts here, through its outbox."),
    DEAD_LETTER: "Dead letters: the rejected record's value unchanged, with the reason in dlq-* headers.",
}
"""What each topic is for, in one sentence: for the contracts page and the AsyncAPI documents."""

NATIONAL: Final = "national"
PARTITION_KEY_PATTERN: Final = f"^{AGREEMENT_ID_PATTERN[1:-1]}/({NATIONAL}|{REGION_ID_PATTERN[1:-1]})$"
"""Every key partition_key makes: an agreement id, a slash, and a region id or the national level."""


def partition_key(agreement_id: str, region: str | None) -> str:
    """Events of one agreement and one region (or the national level) share a key, so a partition keeps their order."""
    return f"{agreement_id}/{region or NATIONAL}"
