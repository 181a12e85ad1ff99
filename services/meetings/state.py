"""What the service holds: a meeting and an action item, and how a meeting's status moves.

A meeting's status only moves up the order scheduled < cancelled < held, and plans are ordered by the time the
secretariat stated them, so the final state is the same whatever order the events arrive in:

- scheduled or rescheduled, unknown meeting: the meeting is scheduled for that time.
- scheduled or rescheduled, scheduled meeting: the plan stated last (CloudEvent `time`) wins; on a tie a
  rescheduling beats a scheduling. A late original scheduling never overwrites a newer rescheduling.
- scheduled or rescheduled, held or cancelled meeting: a late arrival. The status does not change and it is not
  an error; the plan is kept for the record by the rule above.
- cancelled, unknown or scheduled meeting: cancelled. Cancelled again: no change.
- cancelled, held meeting: rejected (rule_violated): a held meeting cannot be cancelled.
- held, unknown, scheduled or cancelled meeting: held. A meeting held after a cancellation was held after all.
- held, held meeting: corrected minutes replace the old ones; items already assigned stay as they were and new
  items are assigned.
- An event that gives a known meeting another kind or region is rejected (rule_violated).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from contracts.events.meetings import (
    ContactMeetingCancelled,
    ContactMeetingHeld,
    ContactMeetingRecorded,
    ContactMeetingRescheduled,
    ContactMeetingScheduled,
    MeetingKind,
    MeetingStatus,
)
from contracts.rejections import Reason, Rejected

MeetingRef = ContactMeetingScheduled | ContactMeetingRescheduled | ContactMeetingCancelled | ContactMeetingHeld


@dataclass(frozen=True)
class Plan:
    """When the meeting is planned, and when the secretariat said so."""

    scheduled_for: datetime
    stated_at: datetime
    rescheduling: bool

    def supersedes(self, other: Plan | None) -> bool:
        return other is None or (self.stated_at, self.rescheduling) >= (other.stated_at, other.rescheduling)


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    agreement_id: str
    kind: MeetingKind
    region: str | None
    status: MeetingStatus
    plan: Plan | None = None
    title: str | None = None
    organiser: str | None = None
    county: str | None = None
    minutes: ContactMeetingHeld | None = None
    cancel_reason: str | None = None

    def recorded(self) -> ContactMeetingRecorded:
        minutes = self.minutes
        return ContactMeetingRecorded(
            meeting_id=self.meeting_id,
            agreement_id=self.agreement_id,
            kind=self.kind,
            region=self.region,
            status=self.status,
            scheduled_for=self.plan.scheduled_for if self.plan else None,
            held_on=minutes.held_on if minutes else None,
            participants=minutes.participants if minutes else (),
            decision_count=len(minutes.decisions) if minutes else 0,
            action_item_count=len(minutes.action_items) if minutes else 0,
        )


def _start(current: Meeting | None, event: MeetingRef, status: MeetingStatus) -> Meeting:
    if current is None:
        return Meeting(event.meeting_id, event.agreement_id, event.kind, event.region, status)
    if (current.kind, current.region) != (event.kind, event.region):
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data.kind/data.region: meeting '{event.meeting_id}' is {current.kind.value} "
            f"({current.region or 'national'}), not {event.kind.value} ({event.region or 'national'})",
        )
    return current


def schedule(
    current: Meeting | None, event: ContactMeetingScheduled | ContactMeetingRescheduled, stated_at: datetime
) -> Meeting:
    meeting = _start(current, event, MeetingStatus.SCHEDULED)
    plan = Plan(event.scheduled_for, stated_at, isinstance(event, ContactMeetingRescheduled))
    if plan.supersedes(meeting.plan):
        meeting = replace(meeting, plan=plan)
    if isinstance(event, ContactMeetingScheduled):
        newest = meeting.plan == plan
        meeting = replace(
            meeting,
            title=event.title if newest or meeting.title is None else meeting.title,
            organiser=meeting.organiser or event.organiser,
            county=meeting.county or event.county,
        )
    return meeting


def cancel(current: Meeting | None, event: ContactMeetingCancelled) -> Meeting:
    meeting = _start(current, event, MeetingStatus.CANCELLED)
    if meeting.status is MeetingStatus.HELD:
        held_on = meeting.minutes.held_on if meeting.minutes else "earlier"
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data.meeting_id: meeting '{event.meeting_id}' was held on {held_on}; a held meeting cannot be cancelled",
        )
    if meeting.status is MeetingStatus.CANCELLED and meeting.cancel_reason is not None:
        return meeting
    return replace(meeting, status=MeetingStatus.CANCELLED, cancel_reason=event.reason)


def hold(current: Meeting | None, event: ContactMeetingHeld) -> Meeting:
    meeting = _start(current, event, MeetingStatus.HELD)
    return replace(
        meeting,
        status=MeetingStatus.HELD,
        minutes=event,
        organiser=event.organiser,
        county=event.county or meeting.county,
        cancel_reason=None,
    )


@dataclass(frozen=True)
class OpenItem:
    """An action item as the service holds it."""

    action_item_id: str
    meeting_id: str
    agreement_id: str
    region: str | None
    owner: str
    text: str
    due_on: date
    completed_on: date | None = None

    def ref(self) -> dict[str, object]:
        return {
            "action_item_id": self.action_item_id,
            "meeting_id": self.meeting_id,
            "agreement_id": self.agreement_id,
            "region": self.region,
            "owner": self.owner,
            "text": self.text,
            "due_on": self.due_on,
        }
