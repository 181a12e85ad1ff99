"""Contact meetings, decisions and action items: what secretariats publish and what the meetings service derives."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from contracts import limits
from contracts.events.base import (
    AgreementId,
    BusinessId,
    Count,
    CountyCode,
    Day,
    EventData,
    FocusAreaId,
    Moment,
    OrganisationId,
    RegionId,
    Text,
)


class MeetingKind(StrEnum):
    NATIONAL = "national"
    REGIONAL = "regional"
    LEARNING_NETWORK = "learning_network"


class AgendaItem(EventData):
    title: Text = Field(description="Agenda item as minuted.")
    focus_areas: tuple[FocusAreaId, ...] = Field(
        max_length=limits.MAX_ITEMS, default=(), description="Focus areas the item concerns."
    )


class Decision(EventData):
    decision_id: BusinessId = Field(description="Id of the decision within the publishing system.")
    text: Text = Field(description="The decision as minuted.")
    focus_areas: tuple[FocusAreaId, ...] = Field(
        max_length=limits.MAX_ITEMS, default=(), description="Focus areas the decision concerns."
    )


class ActionItem(EventData):
    action_item_id: BusinessId = Field(description="Id of the action item; unique within the agreement.")
    text: Text = Field(description="What is to be done.")
    owner: OrganisationId = Field(description="Organisation responsible for the action item.")
    due_on: Day = Field(description="Date the action item is due.")


class _MeetingRef(EventData):
    meeting_id: BusinessId = Field(description="Id of the meeting in the secretariat's system.")
    agreement_id: AgreementId
    kind: MeetingKind = Field(description="national, regional (one county governor office) or learning_network.")
    region: RegionId | None = Field(
        default=None,
        description="The county governor office; required for regional meetings, null for national.",
    )


class ContactMeetingScheduled(_MeetingRef):
    """A contact meeting has been put in the calendar."""

    scheduled_for: Moment = Field(description="Planned start, with offset.")
    title: Text = Field(description="Title of the meeting.")
    organiser: OrganisationId = Field(description="Organisation holding the secretariat.")
    county: CountyCode | None = Field(default=None, description="County where a regional meeting takes place.")


class ContactMeetingRescheduled(_MeetingRef):
    """A scheduled contact meeting has moved."""

    scheduled_for: Moment = Field(description="New planned start, with offset.")
    reason: Text | None = Field(default=None, description="Why it moved.")


class ContactMeetingHeld(_MeetingRef):
    """A contact meeting took place; the minutes carry decisions and action items."""

    held_on: Day = Field(description="Date the meeting was held.")
    county: CountyCode | None = Field(default=None, description="County where a regional meeting took place.")
    organiser: OrganisationId = Field(description="Organisation holding the secretariat.")
    participants: tuple[OrganisationId, ...] = Field(
        max_length=limits.MAX_ITEMS, min_length=1, description="Organisations that took part."
    )
    agenda: tuple[AgendaItem, ...] = Field(
        max_length=limits.MAX_ITEMS, default=(), description="Agenda items, tagged with focus areas."
    )
    decisions: tuple[Decision, ...] = Field(max_length=limits.MAX_ITEMS, default=(), description="Decisions made.")
    action_items: tuple[ActionItem, ...] = Field(
        max_length=limits.MAX_ITEMS, default=(), description="Action items agreed."
    )


class ContactMeetingCancelled(_MeetingRef):
    """A scheduled contact meeting will not take place."""

    reason: Text = Field(description="Why it was cancelled.")


class ActionItemCompleted(EventData):
    """The owner reports an action item as done."""

    action_item_id: BusinessId = Field(description="Id of the action item.")
    meeting_id: BusinessId = Field(description="Meeting where the action item was agreed.")
    agreement_id: AgreementId
    completed_on: Day = Field(description="Date the work was completed.")
    completed_by: OrganisationId = Field(description="Organisation reporting completion.")


# Derived by the meetings service.


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class ContactMeetingRecorded(_MeetingRef):
    """The meetings service accepted a change to a meeting; this is its state after the change."""

    status: MeetingStatus = Field(description="scheduled, held or cancelled.")
    scheduled_for: Moment | None = Field(default=None, description="Planned start, if known.")
    held_on: Day | None = Field(default=None, description="Date held, if held.")
    participants: tuple[OrganisationId, ...] = Field(
        max_length=limits.MAX_ITEMS, default=(), description="Participants, if held."
    )
    decision_count: Count = Field(default=0, description="Decisions minuted.")
    action_item_count: Count = Field(default=0, description="Action items agreed.")


class _ActionItemRef(EventData):
    action_item_id: BusinessId = Field(description="Id of the action item.")
    meeting_id: BusinessId = Field(description="Meeting where it was agreed.")
    agreement_id: AgreementId
    region: RegionId | None = Field(default=None, description="Region of the meeting; null for national.")
    owner: OrganisationId = Field(description="Organisation responsible.")
    text: Text = Field(description="What is to be done.")
    due_on: Day = Field(description="Due date.")


class ActionItemAssigned(_ActionItemRef):
    """An action item from a held meeting is now the owner's to do."""


class ActionItemDueSoon(_ActionItemRef):
    """An open action item falls due within the agreement's reminder window."""

    days_left: Count = Field(description="Whole days until the due date.")


class ActionItemOverdue(_ActionItemRef):
    """An action item passed its due date without being completed."""


class ActionItemClosed(_ActionItemRef):
    """An action item was completed."""

    completed_on: Day = Field(description="Date completed.")
    late: bool = Field(description="True when completed after the due date.")


class MeetingLevel(StrEnum):
    NATIONAL = "national"
    REGIONAL = "regional"


class ContactMeetingsOverdue(EventData):
    """No contact meeting was held at a level (or in a region) within the agreement's interval."""

    agreement_id: AgreementId
    level: MeetingLevel = Field(description="national or regional.")
    region: RegionId | None = Field(default=None, description="The office, for the regional level.")
    last_held_on: Day | None = Field(default=None, description="Date of the last meeting held, if any.")
    interval_days: int = Field(gt=0, le=3660, description="The agreement's interval for this level.")
    overdue_since: Day = Field(description="First day without a meeting inside the interval.")
