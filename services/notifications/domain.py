"""Pure rules: who is told of an event, which contact points that means, and when a failed delivery is retried."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts import catalog
from contracts.events import evaluations as ev
from contracts.events import meetings as mt
from contracts.events.base import EventData

DEAD_LETTER_TYPE = "deadletter"
DIRECTORATE = "hdir"
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")

_OWNER_TYPES = (mt.ActionItemAssigned, mt.ActionItemDueSoon, mt.ActionItemOverdue)
_REPORT_TYPES = (ev.RegionalReportDue, ev.RegionalReportOverdue)
_PARTY_TYPES = (ev.AnnualEvaluationDue, ev.AnnualEvaluationOverdue)
_AGREEMENT_WIDE_TYPES = (ev.TerminationNoticeAccepted, ev.AgreementTerminated, ev.AgreementExpired)


@dataclass(frozen=True)
class Recipient:
    recipient_id: str
    name: str
    kind: str
    organisation: str | None
    sources: tuple[str, ...] = ()
    agreements: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactPoint:
    contact_point_id: str
    recipient_id: str
    channel: str
    address: str
    signing_secret_env: str | None = None
    """A webhook's secret stays out of the database: this names the service's environment variable holding it."""


@dataclass(frozen=True)
class Filter:
    filter_id: str
    recipient_id: str
    event_types: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    agreements: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def matches(self, event_type: str, region: str | None, agreement_id: str | None, source: str | None = None) -> bool:
        """An empty list means any; a region filter never matches an event without a region."""
        return (
            (not self.event_types or event_type in self.event_types)
            and (not self.regions or region in self.regions)
            and (not self.agreements or agreement_id in self.agreements)
            and (not self.sources or source in self.sources)
        )


@dataclass(frozen=True)
class Audience:
    """Who the defaults tell: named organisations, and whether everyone subscribed to the agreement."""

    organisations: frozenset[str] = frozenset()
    everyone_on_agreement: bool = False


@dataclass(frozen=True)
class Subscriptions:
    recipients: Sequence[Recipient]
    contact_points: Sequence[ContactPoint]
    filters: Sequence[Filter] = field(default_factory=tuple)


def default_audience(data: EventData, parties: Iterable[str], office_of: dict[str, str]) -> Audience:
    """The issue's defaults; `office_of` maps a region to its county governor office's organisation id."""
    if isinstance(data, _OWNER_TYPES):
        return Audience(organisations=frozenset({data.owner}))
    if isinstance(data, _REPORT_TYPES):
        office = office_of.get(data.region, f"sf-{data.region}")
        return Audience(organisations=frozenset({office, DIRECTORATE}))
    if isinstance(data, _PARTY_TYPES):
        return Audience(organisations=frozenset(parties))
    if isinstance(data, _AGREEMENT_WIDE_TYPES):
        return Audience(everyone_on_agreement=True)
    return Audience()


def recipients_for(
    subs: Subscriptions,
    audience: Audience,
    event_type: str,
    agreement_id: str,
    region: str | None,
    source: str | None = None,
) -> list[Recipient]:
    """Recipients subscribed to the agreement whom the defaults name or whose own filters pick the event."""
    picked = {f.recipient_id for f in subs.filters if f.matches(event_type, region, agreement_id, source)}
    chosen = []
    for r in subs.recipients:
        if agreement_id not in r.agreements:
            continue
        named = r.kind == "organisation" and (
            audience.everyone_on_agreement or (r.organisation is not None and r.organisation in audience.organisations)
        )
        if named or r.recipient_id in picked:
            chosen.append(r)
    return sorted(chosen, key=lambda r: r.recipient_id)


def recipients_for_source(subs: Subscriptions, source: str) -> list[Recipient]:
    """The contact registered for a rejected event's source: every recipient that lists the source."""
    return sorted((r for r in subs.recipients if source in r.sources), key=lambda r: r.recipient_id)


def contact_points_of(subs: Subscriptions, recipients: Iterable[Recipient]) -> list[tuple[Recipient, ContactPoint]]:
    by_recipient: dict[str, list[ContactPoint]] = {}
    for cp in subs.contact_points:
        by_recipient.setdefault(cp.recipient_id, []).append(cp)
    return [(r, cp) for r in recipients for cp in sorted(by_recipient.get(r.recipient_id, []), key=_cp_key)]


def _cp_key(cp: ContactPoint) -> str:
    return cp.contact_point_id


def is_own_outcome(event_type: str | None, source: str, own_source: str) -> bool:
    """The service never tells anyone about its own outcome events (or their rejection), so it cannot loop."""
    own_types = {t.name for t in catalog.EVENT_TYPES if t.producer == "notifications"}
    return source == own_source or event_type in own_types


def notification_id(event_source: str, event_id: str, recipient_id: str, contact_point_id: str) -> str:
    """Stable per (event, recipient, contact point), so a re-derivation finds the same row."""
    name = f"lhl-notification:{event_source}|{event_id}|{recipient_id}|{contact_point_id}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def next_attempt_at(
    attempts: int,
    first_attempt_at: datetime,
    now: datetime,
    *,
    delays_seconds: Sequence[int],
    max_attempts: int,
    horizon_seconds: int,
) -> datetime | None:
    """When to try again after `attempts` failed attempts, or None when delivery gives up."""
    if attempts >= max_attempts:
        return None
    delay = delays_seconds[min(attempts, len(delays_seconds)) - 1] if attempts > 0 else 0
    due = now + timedelta(seconds=delay)
    if due > first_attempt_at + timedelta(seconds=horizon_seconds):
        return None
    return due


def http_status_is_permanent(status: int) -> bool:
    """A 4xx other than 408 (timeout) and 429 (too many requests) will not get better by retrying."""
    return 400 <= status < 500 and status not in (408, 429)


def smtp_code_is_permanent(code: int) -> bool:
    return 500 <= code < 600


def is_email_address(address: str) -> bool:
    return len(address) <= 254 and _EMAIL.match(address) is not None


def agreement_of(data: EventData) -> str:
    """Every event type the service is told about carries its agreement."""
    agreement: Any = getattr(data, "agreement_id", None)
    return agreement if isinstance(agreement, str) else ""


def region_of(data: EventData) -> str | None:
    region: Any = getattr(data, "region", None)
    return region if isinstance(region, str) else None
