"""Action items: which are assigned, and how completion closes them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from contracts.rejections import Reason, Rejected
from services.meetings import domain
from tests.unit.meetings.builders import completed, held, item, new_id


def test_every_item_of_new_minutes_is_assigned_to_its_owner() -> None:
    meeting_id, first, second = new_id("m"), new_id("a"), new_id("a")
    minutes = held(meeting_id, items=(item(first, owner="ks-vestland"), item(second, owner="kommune-4601")))
    assigned = [domain.assigned(i) for i in domain.items_to_assign(minutes, {})]
    assert [(a.action_item_id, a.owner, a.region, a.meeting_id) for a in assigned] == [
        (first, "ks-vestland", "vestland", meeting_id),
        (second, "kommune-4601", "vestland", meeting_id),
    ]


def test_corrected_minutes_assign_only_the_items_not_assigned_before() -> None:
    meeting_id, first, added = new_id("m"), new_id("a"), new_id("a")
    corrected = held(meeting_id, items=(item(first), item(added)))
    assert [i.action_item_id for i in domain.items_to_assign(corrected, {first: meeting_id})] == [added]


def test_an_item_id_already_assigned_at_another_meeting_is_rejected() -> None:
    taken, other_meeting = new_id("a"), new_id("m")
    with pytest.raises(Rejected) as raised:
        domain.items_to_assign(held(new_id("m"), items=(item(taken),)), {taken: other_meeting})
    assert raised.value.reason is Reason.RULE_VIOLATED
    assert raised.value.message.startswith(f"data.action_items.0.action_item_id: '{taken}' was already assigned")


def test_completion_on_time_closes_the_item_as_not_late() -> None:
    meeting_id, action_id = new_id("m"), new_id("a")
    [open_item] = domain.items_to_assign(held(meeting_id, items=(item(action_id, due_on=date(2022, 4, 1)),)), {})
    closed = domain.complete(open_item, completed(action_id, meeting_id, on=date(2022, 4, 1)))
    assert closed is not None
    assert (closed.completed_on, closed.late, closed.owner) == (date(2022, 4, 1), False, "ks-vestland")


def test_completion_after_the_due_date_is_late() -> None:
    meeting_id, action_id = new_id("m"), new_id("a")
    [open_item] = domain.items_to_assign(held(meeting_id, items=(item(action_id, due_on=date(2022, 4, 1)),)), {})
    closed = domain.complete(open_item, completed(action_id, meeting_id, on=date(2022, 4, 2)))
    assert closed is not None
    assert closed.late is True


def test_a_second_completion_has_no_effect() -> None:
    meeting_id, action_id = new_id("m"), new_id("a")
    [open_item] = domain.items_to_assign(held(meeting_id, items=(item(action_id),)), {})
    already_closed = replace(open_item, completed_on=date(2022, 3, 20))
    assert domain.complete(already_closed, completed(action_id, meeting_id)) is None


def test_a_completion_naming_another_meeting_is_rejected() -> None:
    meeting_id, action_id, wrong = new_id("m"), new_id("a"), new_id("m")
    [open_item] = domain.items_to_assign(held(meeting_id, items=(item(action_id),)), {})
    with pytest.raises(Rejected) as raised:
        domain.complete(open_item, completed(action_id, wrong))
    assert raised.value.reason is Reason.RULE_VIOLATED
    assert raised.value.message == (
        f"data.meeting_id: action item '{action_id}' was agreed at meeting '{meeting_id}', not '{wrong}'"
    )
