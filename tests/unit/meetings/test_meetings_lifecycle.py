"""A meeting's lifecycle, including every out-of-order rule written in the domain's docstring."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from contracts.events.meetings import MeetingKind, MeetingStatus
from contracts.rejections import Reason, Rejected
from services.meetings import domain
from services.meetings.domain import Meeting
from tests.unit.meetings.builders import cancelled, held, new_id, rescheduled, scheduled

STATED = datetime(2022, 1, 5, 12, tzinfo=UTC)
LATER = datetime(2022, 2, 1, 12, tzinfo=UTC)
FIRST_PLAN = datetime(2022, 3, 10, 9, tzinfo=UTC)
NEW_PLAN = datetime(2022, 3, 17, 9, tzinfo=UTC)

Step = Callable[[Meeting | None], Meeting]


def test_a_scheduled_meeting_is_recorded_as_scheduled_with_its_plan() -> None:
    meeting_id = new_id("m")
    meeting = domain.schedule(None, scheduled(meeting_id, at=FIRST_PLAN), STATED)
    recorded = meeting.recorded()
    assert (recorded.status, recorded.scheduled_for, meeting.title) == (
        MeetingStatus.SCHEDULED,
        FIRST_PLAN,
        "Dialogmøte Leve hele livet",
    )


def test_a_rescheduling_moves_the_plan() -> None:
    meeting_id = new_id("m")
    meeting = domain.schedule(None, scheduled(meeting_id, at=FIRST_PLAN), STATED)
    moved = domain.schedule(meeting, rescheduled(meeting_id, at=NEW_PLAN), LATER)
    assert moved.plan is not None
    assert (moved.status, moved.plan.scheduled_for) == (MeetingStatus.SCHEDULED, NEW_PLAN)


def test_a_late_original_scheduling_does_not_undo_a_newer_rescheduling() -> None:
    meeting_id = new_id("m")
    moved = domain.schedule(None, rescheduled(meeting_id, at=NEW_PLAN), LATER)
    after_late_original = domain.schedule(moved, scheduled(meeting_id, at=FIRST_PLAN), STATED)
    assert after_late_original.plan is not None
    assert after_late_original.plan.scheduled_for == NEW_PLAN
    assert after_late_original.title == "Dialogmøte Leve hele livet"


def test_held_before_scheduled_stays_held_and_the_late_scheduling_is_no_state_change() -> None:
    meeting_id = new_id("m")
    meeting = domain.hold(None, held(meeting_id))
    late = domain.schedule(meeting, scheduled(meeting_id), STATED)
    assert late.status is MeetingStatus.HELD
    assert late.recorded().held_on == date(2022, 3, 10)


def test_a_late_rescheduling_of_a_cancelled_meeting_does_not_revive_it() -> None:
    meeting_id = new_id("m")
    meeting = domain.cancel(None, cancelled(meeting_id))
    assert domain.schedule(meeting, rescheduled(meeting_id, at=NEW_PLAN), LATER).status is MeetingStatus.CANCELLED


def test_cancelling_a_held_meeting_is_rejected() -> None:
    meeting_id = new_id("m")
    meeting = domain.hold(None, held(meeting_id))
    with pytest.raises(Rejected) as raised:
        domain.cancel(meeting, cancelled(meeting_id))
    assert raised.value.reason is Reason.RULE_VIOLATED
    assert "a held meeting cannot be cancelled" in raised.value.message
    assert raised.value.message.startswith("data.meeting_id:")


def test_a_meeting_held_after_it_was_cancelled_was_held_after_all() -> None:
    meeting_id = new_id("m")
    meeting = domain.hold(domain.cancel(None, cancelled(meeting_id)), held(meeting_id))
    assert (meeting.status, meeting.cancel_reason) == (MeetingStatus.HELD, None)


def test_cancelling_twice_changes_nothing_the_second_time() -> None:
    meeting_id = new_id("m")
    once = domain.cancel(domain.schedule(None, scheduled(meeting_id), STATED), cancelled(meeting_id))
    assert domain.cancel(once, cancelled(meeting_id)) == once


def test_the_same_minutes_sent_again_change_nothing() -> None:
    meeting_id = new_id("m")
    once = domain.hold(None, held(meeting_id))
    assert domain.hold(once, held(meeting_id)) == once


def test_an_event_giving_a_known_meeting_another_region_is_rejected() -> None:
    meeting_id = new_id("m")
    meeting = domain.schedule(None, scheduled(meeting_id), STATED)
    with pytest.raises(Rejected) as raised:
        domain.hold(meeting, held(meeting_id, kind=MeetingKind.NATIONAL, region=None))
    assert raised.value.reason is Reason.RULE_VIOLATED
    assert "is regional (vestland), not national (national)" in raised.value.message


def _final_state(steps: tuple[Step, ...]) -> Meeting | None:
    """Apply steps in order; a rejected step leaves the state as it was, as the pipeline does."""
    state: Meeting | None = None
    for step in steps:
        try:
            state = step(state)
        except Rejected:
            continue
    return state


@pytest.mark.parametrize(
    "names",
    [
        ("scheduled", "rescheduled", "held"),
        ("scheduled", "rescheduled", "cancelled"),
        ("scheduled", "cancelled", "held"),
        ("scheduled", "rescheduled", "cancelled", "held"),
    ],
)
def test_every_delivery_order_ends_in_the_same_state(names: tuple[str, ...]) -> None:
    meeting_id = new_id("m")
    steps: dict[str, Step] = {
        "scheduled": lambda m: domain.schedule(m, scheduled(meeting_id, at=FIRST_PLAN), STATED),
        "rescheduled": lambda m: domain.schedule(m, rescheduled(meeting_id, at=NEW_PLAN), LATER),
        "cancelled": lambda m: domain.cancel(m, cancelled(meeting_id)),
        "held": lambda m: domain.hold(m, held(meeting_id)),
    }
    in_order = _final_state(tuple(steps[n] for n in names))
    assert in_order is not None
    for order in itertools.permutations(names):
        assert _final_state(tuple(steps[n] for n in order)) == in_order, f"order {order}"
