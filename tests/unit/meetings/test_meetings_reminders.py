"""Action items over time: when they fall due, which reminders they get, and what completion cancels.

Every rule here is decided by the domain alone, so the tests compare decisions and need no database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from contracts import reference
from contracts.events.meetings import ActionItemDueSoon, ActionItemOverdue
from services.meetings import domain, timing
from services.meetings.decisions import (
    AddActionItem,
    CloseActionItem,
    Decision,
    ForgetEarlyCompletion,
    MarkOverdue,
    RememberCompletion,
)
from services.meetings.domain import OpenItem
from tests.unit.meetings.builders import completed, held, item, new_id

AGREEMENT = reference.agreement(reference.DEFAULT_AGREEMENT_ID)
DUE_ON = date(2022, 4, 1)
LAST_MINUTE_OF_DUE_DATE_IN_OSLO = datetime(2022, 4, 1, 21, 59, tzinfo=UTC)
OSLO_MIDNIGHT_AFTER_DUE_DATE = datetime(2022, 4, 1, 22, tzinfo=UTC)


def _open_item(due_on: date = DUE_ON) -> OpenItem:
    [found] = domain.items_to_assign(held(new_id("m"), items=(item(new_id("a"), due_on=due_on),)), {})
    return found


def _kinds(decision: Decision) -> list[str]:
    return [timer.kind for timer in decision.arm]


def test_an_item_is_on_time_for_the_whole_of_its_due_date_in_oslo() -> None:
    assert not domain.is_overdue(DUE_ON, LAST_MINUTE_OF_DUE_DATE_IN_OSLO)
    assert domain.is_overdue(DUE_ON, OSLO_MIDNIGHT_AFTER_DUE_DATE)


def test_an_item_assigned_before_it_falls_due_gets_a_due_soon_reminder_and_an_overdue_warning() -> None:
    open_item = _open_item()
    decision = domain.assign(open_item, None, AGREEMENT, datetime(2022, 3, 10, 12, tzinfo=UTC), "corr-1")
    assert decision.changes == (AddActionItem(open_item),)
    assert [(t.kind, t.due_at) for t in decision.arm] == [
        (timing.DUE_SOON, timing.due_soon_at(DUE_ON, AGREEMENT)),
        (timing.OVERDUE, OSLO_MIDNIGHT_AFTER_DUE_DATE),
    ]
    assert all(
        t.key.startswith(timing.action_item_prefix(open_item.agreement_id, open_item.action_item_id))
        for t in decision.arm
    )
    assert all(t.payload["correlation_id"] == "corr-1" for t in decision.arm)
    assert [e.business_key for e in decision.emit] == [f"assigned/{open_item.action_item_id}"]


def test_an_item_already_past_due_when_assigned_is_marked_overdue_and_announced_with_its_assignment() -> None:
    open_item = _open_item()
    decision = domain.assign(open_item, None, AGREEMENT, OSLO_MIDNIGHT_AFTER_DUE_DATE, "corr-1")
    assert decision.arm == ()
    assert decision.changes == (AddActionItem(open_item), MarkOverdue(open_item))
    assert [e.business_key for e in decision.emit] == [
        f"assigned/{open_item.action_item_id}",
        f"overdue/{open_item.action_item_id}",
    ]


def test_an_item_assigned_on_its_last_day_still_gets_its_due_soon_reminder() -> None:
    decision = domain.assign(_open_item(), None, AGREEMENT, LAST_MINUTE_OF_DUE_DATE_IN_OSLO, "corr-1")
    assert _kinds(decision) == [timing.DUE_SOON, timing.OVERDUE]


def test_a_due_soon_reminder_tells_the_owner_how_many_days_are_left() -> None:
    open_item = _open_item()
    decision = domain.remind_of_due_item(open_item, datetime(2022, 3, 25, 12, tzinfo=UTC))
    [reminder] = decision.events
    assert isinstance(reminder, ActionItemDueSoon)
    assert (reminder.action_item_id, reminder.owner, reminder.days_left) == (open_item.action_item_id, "ks-vestland", 7)
    assert (decision.changes, decision.arm) == ((), ())


def test_a_due_soon_reminder_that_fires_after_the_item_fell_due_says_nothing() -> None:
    assert domain.remind_of_due_item(_open_item(), OSLO_MIDNIGHT_AFTER_DUE_DATE) == Decision()


def test_reminders_of_a_completed_or_unknown_item_say_nothing() -> None:
    done = replace(_open_item(), completed_on=date(2022, 3, 20))
    assert domain.remind_of_due_item(done, datetime(2022, 3, 25, tzinfo=UTC)) == Decision()
    assert domain.warn_of_overdue_item(done) == Decision()
    assert domain.warn_of_overdue_item(None) == Decision()


def test_an_open_item_whose_overdue_timer_fires_is_marked_overdue_and_announced() -> None:
    open_item = _open_item()
    decision = domain.warn_of_overdue_item(open_item)
    assert decision.changes == (MarkOverdue(open_item),)
    [warning] = decision.events
    assert isinstance(warning, ActionItemOverdue)
    assert (warning.action_item_id, warning.due_on) == (open_item.action_item_id, DUE_ON)
    assert [e.business_key for e in decision.emit] == [f"overdue/{open_item.action_item_id}"]


def test_completion_closes_the_item_and_cancels_both_of_its_reminders() -> None:
    open_item = _open_item()
    done = completed(open_item.action_item_id, open_item.meeting_id, on=date(2022, 4, 2))
    decision = domain.complete_item(open_item, done)
    assert decision.changes == (CloseActionItem(open_item, done, late=True),)
    assert [c.prefix for c in decision.cancel] == [
        timing.action_item_prefix(open_item.agreement_id, open_item.action_item_id)
    ]
    assert [e.business_key for e in decision.emit] == [f"closed/{open_item.action_item_id}"]


def test_a_completion_of_an_item_not_yet_assigned_is_remembered() -> None:
    done = completed(new_id("a"), new_id("m"))
    assert domain.complete_item(None, done) == Decision(changes=(RememberCompletion(done),))


def test_a_completion_that_arrived_first_closes_the_item_as_soon_as_it_is_assigned_without_reminders() -> None:
    open_item = _open_item()
    early = completed(open_item.action_item_id, open_item.meeting_id)
    decision = domain.assign(open_item, early, AGREEMENT, datetime(2022, 3, 25, tzinfo=UTC), "corr-1")
    assert decision.arm == ()
    assert decision.changes == (
        AddActionItem(open_item),
        ForgetEarlyCompletion(open_item.agreement_id, open_item.action_item_id),
        CloseActionItem(open_item, early, late=False),
    )
    assert [e.business_key for e in decision.emit] == [
        f"assigned/{open_item.action_item_id}",
        f"closed/{open_item.action_item_id}",
    ]


def test_an_early_completion_naming_another_meeting_is_discarded_and_the_item_keeps_its_reminders() -> None:
    open_item = _open_item()
    stray = completed(open_item.action_item_id, new_id("m"))
    decision = domain.assign(open_item, stray, AGREEMENT, datetime(2022, 3, 10, tzinfo=UTC), "corr-1")
    assert _kinds(decision) == [timing.DUE_SOON, timing.OVERDUE]
    assert ForgetEarlyCompletion(open_item.agreement_id, open_item.action_item_id) in decision.changes
    assert [(n.event, n.level) for n in decision.notes] == [("early_completion_discarded", "warning")]
