"""Pure rules for meetings and action items, including events that arrive out of order.

What the service decides, as values (decisions.py) the applier carries out. How a meeting's status moves
whatever order its events arrive in is in state.py; the contact-meeting watch is in watch.py. Action items:

- Action item completed before the held event that assigns it: the completion is remembered, and the item is
  closed as soon as it is assigned (assigned, then closed, with no reminders).
- Action item completed again: no effect. Completed naming another meeting than the item's: rejected.
- An action item id already assigned from another meeting is rejected: ids are unique within the agreement.
- An action item is overdue from 00:00 Oslo time on the day after its due date (`overdue_at`): the whole due
  date is still on time. When that instant comes and the item is still open, it is marked overdue and
  ActionItemOverdue is emitted, once.
- Due soon: a reminder (ActionItemDueSoon) at 00:00 Oslo the agreement's `due_soon_days_before` days before the
  due date. A reminder that fires at or after the overdue instant (the service was down) says nothing: it would
  only repeat the overdue warning.
- Past due when assigned: an item whose overdue instant has already passed when its minutes arrive is marked
  overdue and announced with its assignment, in the same transaction; it never gets a stale due-soon reminder.
- Completion closes the item and cancels both of its timers; neither fires afterwards.
- Duplicates (same source and id) never reach these rules: the runtime's inbox drops them.
- An accepted termination (TerminationNoticeAccepted, or AgreementTerminated on the day, from the evaluations
  service): a meeting scheduled, rescheduled or held on or after its effective date is rejected (rule_violated),
  and no level is watched for gaps from that date on. Action items already decided keep their reminders until
  completed, after a termination as after the end of the term. A meeting stated before the notice arrived stays
  as it was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from contracts.events.meetings import (
    ActionItem,
    ActionItemAssigned,
    ActionItemClosed,
    ActionItemCompleted,
    ActionItemDueSoon,
    ActionItemOverdue,
    ContactMeetingCancelled,
    ContactMeetingHeld,
    ContactMeetingRescheduled,
    ContactMeetingScheduled,
)
from contracts.reference import Agreement
from contracts.rejections import Reason, Rejected
from services.meetings import timing, watch
from services.meetings.decisions import (
    NOTHING,
    AddActionItem,
    Arm,
    CancelTimers,
    CloseActionItem,
    Decision,
    Emit,
    ForgetEarlyCompletion,
    MarkOverdue,
    Note,
    RememberCompletion,
    SaveMeeting,
)
from services.meetings.state import Meeting as Meeting
from services.meetings.state import OpenItem as OpenItem
from services.meetings.state import Plan as Plan
from services.meetings.state import cancel as cancel
from services.meetings.state import hold as hold
from services.meetings.state import schedule as schedule


def overdue_at(due_on: date) -> datetime:
    """An item is overdue once its due date has passed in Oslo, not at some hour of the due date."""
    return timing.start_of_day(due_on + timedelta(days=1))


def is_overdue(due_on: date, now: datetime) -> bool:
    return now >= overdue_at(due_on)


def record(current: Meeting | None, updated: Meeting) -> Decision:
    """Save and announce the meeting's state, but only when the event changed it."""
    if updated == current:
        return Decision(
            notes=(Note("meeting_unchanged", fields={"meeting_id": updated.meeting_id, "status": updated.status}),)
        )
    saved = Decision(changes=(SaveMeeting(updated),))
    if current is not None and updated.recorded() == current.recorded():
        return saved  # A detail consumers do not see (e.g. the title of a late scheduling) changed.
    announced = Emit(
        updated.recorded(),
        updated.agreement_id,
        updated.region,
        f"meeting/{updated.meeting_id}",
        f"recorded/{updated.meeting_id}",
    )
    return saved + Decision(emit=(announced,))


def plan_meeting(
    current: Meeting | None, event: ContactMeetingScheduled | ContactMeetingRescheduled, stated_at: datetime
) -> Decision:
    return record(current, schedule(current, event, stated_at))


def cancel_meeting(current: Meeting | None, event: ContactMeetingCancelled) -> Decision:
    return record(current, cancel(current, event))


def hold_meeting(
    current: Meeting | None,
    minutes: ContactMeetingHeld,
    *,
    agreement: Agreement,
    known: Mapping[str, str],
    early: Mapping[str, ActionItemCompleted],
    level_held_before: date | None,
    last_day: date,
    now: datetime,
    correlation_id: str,
) -> Decision:
    """Held minutes: the meeting's new state, its new action items, and the level's watch re-armed.

    `known` maps already assigned item ids to their meeting, `early` holds completions that arrived before their
    item, and `level_held_before` is the level's latest held date before these minutes.
    """
    decision = record(current, hold(current, minutes))
    for item in items_to_assign(minutes, known):
        decision += assign(item, early.get(item.action_item_id), agreement, now, correlation_id)
    counts, region = watch.level_of(minutes.kind, minutes.region)
    if counts:
        decision += watch.note_held(agreement, region, minutes.held_on, level_held_before, correlation_id, last_day)
    return decision


def items_to_assign(meeting: ContactMeetingHeld, known: Mapping[str, str]) -> list[OpenItem]:
    """Items not assigned before; `known` maps already assigned item ids to their meeting."""
    fresh: list[OpenItem] = []
    for i, item in enumerate(meeting.action_items):
        owner_meeting = known.get(item.action_item_id)
        if owner_meeting is None:
            fresh.append(_open(meeting, item))
        elif owner_meeting != meeting.meeting_id:
            raise Rejected(
                Reason.RULE_VIOLATED,
                f"data.action_items.{i}.action_item_id: '{item.action_item_id}' was already assigned "
                f"at meeting '{owner_meeting}'; action item ids are unique within the agreement",
            )
    return fresh


def _open(meeting: ContactMeetingHeld, item: ActionItem) -> OpenItem:
    return OpenItem(
        item.action_item_id,
        meeting.meeting_id,
        meeting.agreement_id,
        meeting.region,
        item.owner,
        item.text,
        item.due_on,
    )


def _subject(item: OpenItem) -> str:
    return f"action-item/{item.action_item_id}"


def assigned(item: OpenItem) -> ActionItemAssigned:
    return ActionItemAssigned.model_validate(item.ref())


def assign(
    item: OpenItem, early: ActionItemCompleted | None, agreement: Agreement, now: datetime, correlation_id: str
) -> Decision:
    """Assign the item; close it at once if its completion arrived first, otherwise arm its reminders."""
    decision = Decision(
        changes=(AddActionItem(item),),
        emit=(Emit(assigned(item), item.agreement_id, item.region, _subject(item), f"assigned/{item.action_item_id}"),),
    )
    if early is not None:
        decision += Decision(changes=(ForgetEarlyCompletion(item.agreement_id, item.action_item_id),))
        if early.meeting_id == item.meeting_id:
            return decision + close(item, early)
        # The early completion named another meeting; it cannot be dead-lettered any more, so it is logged.
        discarded = Note(
            "early_completion_discarded",
            "warning",
            {
                "action_item_id": item.action_item_id,
                "completion_meeting_id": early.meeting_id,
                "meeting_id": item.meeting_id,
            },
        )
        decision += Decision(notes=(discarded,))
    return decision + reminders(item, agreement, now, correlation_id)


def reminders(item: OpenItem, agreement: Agreement, now: datetime, correlation_id: str) -> Decision:
    """The item's due-soon and overdue timers. An item already past due when it is assigned (late minutes, a
    replay) is marked overdue and announced at once, with its assignment: no stale reminder, and no timer that
    would only fire at the next poll."""
    if is_overdue(item.due_on, now):
        return warn_of_overdue_item(item)
    payload = {
        "agreement_id": item.agreement_id,
        "action_item_id": item.action_item_id,
        "correlation_id": correlation_id,
    }
    due_soon_key = timing.action_item_key(item.agreement_id, item.action_item_id, timing.DUE_SOON)
    overdue_key = timing.action_item_key(item.agreement_id, item.action_item_id, timing.OVERDUE)
    return Decision(
        arm=(
            Arm(due_soon_key, timing.DUE_SOON, timing.due_soon_at(item.due_on, agreement), payload),
            Arm(overdue_key, timing.OVERDUE, overdue_at(item.due_on), payload),
        )
    )


def complete(item: OpenItem, completed: ActionItemCompleted) -> ActionItemClosed | None:
    """The closing event, or None when the item was already closed (a repeated completion has no effect)."""
    if completed.meeting_id != item.meeting_id:
        raise Rejected(
            Reason.RULE_VIOLATED,
            f"data.meeting_id: action item '{item.action_item_id}' was agreed at meeting '{item.meeting_id}', "
            f"not '{completed.meeting_id}'",
        )
    if item.completed_on is not None:
        return None
    return ActionItemClosed.model_validate(
        {**item.ref(), "completed_on": completed.completed_on, "late": completed.completed_on > item.due_on}
    )


def close(item: OpenItem, completed: ActionItemCompleted) -> Decision:
    """Close the item and cancel both of its reminders; a repeated completion has no effect."""
    closed = complete(item, completed)
    if closed is None:
        return NOTHING
    return Decision(
        changes=(CloseActionItem(item, completed, closed.late),),
        cancel=(CancelTimers(timing.action_item_prefix(item.agreement_id, item.action_item_id)),),
        emit=(Emit(closed, item.agreement_id, item.region, _subject(item), f"closed/{item.action_item_id}"),),
    )


def complete_item(item: OpenItem | None, completed: ActionItemCompleted) -> Decision:
    """Close a known item; remember the completion of one whose minutes have not arrived yet."""
    if item is None:
        return Decision(changes=(RememberCompletion(completed),))
    return close(item, completed)


def _open_only(item: OpenItem | None) -> OpenItem | None:
    return item if item is not None and item.completed_on is None else None


def remind_of_due_item(item: OpenItem | None, now: datetime) -> Decision:
    """The due-soon reminder of an open item, unless it fires at or after the item fell due."""
    item = _open_only(item)
    if item is None or is_overdue(item.due_on, now):
        # A reminder that fires late, after the item fell due, would only repeat the overdue warning.
        return NOTHING
    reminder = ActionItemDueSoon.model_validate({**item.ref(), "days_left": timing.days_left(item.due_on, now)})
    return Decision(
        emit=(Emit(reminder, item.agreement_id, item.region, _subject(item), f"due-soon/{item.action_item_id}"),)
    )


def warn_of_overdue_item(item: OpenItem | None) -> Decision:
    """An open item whose overdue timer fires is marked overdue and announced; a closed one says nothing."""
    item = _open_only(item)
    if item is None:
        return NOTHING
    warning = ActionItemOverdue.model_validate(item.ref())
    return Decision(
        changes=(MarkOverdue(item),),
        emit=(Emit(warning, item.agreement_id, item.region, _subject(item), f"overdue/{item.action_item_id}"),),
    )
